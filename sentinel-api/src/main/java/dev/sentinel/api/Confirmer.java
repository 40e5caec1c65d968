package dev.sentinel.api;

/**
 * Asks a human to confirm a request the policy marked {@link Effect#CONFIRM}, and waits for the
 * answer (or a timeout, which is a rejection).
 *
 * <p>The pipeline calls {@link #confirm(RequestContext, Decision, Caller)}, which hands over the
 * request's {@link Caller}: a confirmer may ask the human at the client, or tell it that it waits.
 * A confirmer that needs neither implements only the two-argument method.
 *
 * <p>Implementations must be thread-safe. A confirmer that throws is treated as a rejection.
 */
@FunctionalInterface
public interface Confirmer {

  /** Asks for confirmation of the request and returns the answer; may block. */
  Confirmation confirm(RequestContext context, Decision decision);

  /**
   * Asks for confirmation of the request, with its caller at hand; may block. By default, {@link
   * #confirm(RequestContext, Decision)}, without the caller.
   */
  default Confirmation confirm(RequestContext context, Decision decision, Caller caller) {
    return confirm(context, decision);
  }

  /** Rejects every request: the default when no confirmer is configured. */
  static Confirmer rejectAll() {
    return (context, decision) ->
        Confirmation.reject(null, "this request needs a human's confirmation and none can be asked");
  }
}
