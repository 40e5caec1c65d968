package dev.sentinel.api;

/**
 * Asks a human to confirm a request the policy marked {@link Effect#CONFIRM}, and waits for the
 * answer (or a timeout, which is a rejection).
 *
 * <p>Implementations must be thread-safe. A confirmer that throws is treated as a rejection.
 */
@FunctionalInterface
public interface Confirmer {

  /** Asks for confirmation of the request and returns the answer; may block. */
  Confirmation confirm(RequestContext context, Decision decision);

  /** Rejects every request: the default when no confirmer is configured. */
  static Confirmer rejectAll() {
    return (context, decision) ->
        Confirmation.reject(null, "this request needs a human's confirmation and none can be asked");
  }
}
