package dev.sentinel.api;

import java.time.Duration;

/**
 * The client that sent a request, as a {@link Confirmer} can reach it while the request waits: a
 * gateway asks the human at the client to confirm (MCP elicitation), and tells a client that
 * waits for an operator how long it has waited (MCP progress).
 *
 * <p>A caller answers one question for one request: the gateway sends it in the request's own
 * session, under an id of its own, and takes the answer to that id only, so an answer can never
 * confirm another call. Implementations must be thread-safe.
 */
public interface Caller {

  /** What the caller answered. */
  enum Answer {
    /** The human accepted: the request may run. */
    ACCEPTED,
    /** The human declined. */
    DECLINED,
    /** The human dismissed the question without choosing. */
    CANCELLED,
    /** No answer came in time, or the request was cancelled while it waited. */
    TIMED_OUT,
    /** The question could not be asked or answered: the session closed, or the client failed. */
    UNREACHABLE,
    /**
     * The question went back as the request's answer (MCP 2026-07-28's {@code input_required}
     * result): the client answers by sending the request again with its answer; this request
     * does not run.
     */
    INPUT_REQUIRED,
    /**
     * The request came with an answer that is not this call's: given for another call, altered,
     * used before, or expired.
     */
    STALE
  }

  /** Whether this caller can be asked a question at all (its client declared elicitation). */
  boolean askable();

  /**
   * Asks the caller to confirm the request and waits for the answer: at most {@code timeout},
   * less if the waiting thread is interrupted ({@link Answer#TIMED_OUT}). A caller that is not
   * {@link #askable()} answers {@link Answer#UNREACHABLE} at once. A caller whose protocol
   * carries the answer in a later request (MCP 2026-07-28) answers {@link Answer#INPUT_REQUIRED}
   * now, and takes the answer from the repeated request only when it is bound to the same call.
   *
   * @param question what the human is shown: the tool, its arguments and why it needs confirming
   * @param binding what identifies the call the answer may confirm (a digest of the principal,
   *     the request and the policy revision): an answer given for another binding confirms nothing
   * @param timeout how long the human has to answer
   */
  Answer confirm(String question, String binding, Duration timeout);

  /**
   * Tells the caller that its request is still waiting (for an operator, say), when the client
   * asked for progress; otherwise does nothing. Never blocks on the client.
   *
   * @param waited how long the request has waited so far
   * @param message what it waits for
   */
  void waiting(Duration waited, String message);

  /**
   * Whether this request continues a call that already runs, rather than asking for a new one:
   * an MCP 2026-07-28 client sends a call again with its answers to the backend's questions
   * (multi round-trip requests), carrying the state the gateway signed when it forwarded the
   * call under this same {@code binding}. The call was decided, and confirmed if it needed it,
   * when it was forwarded; nothing new runs, so the pipeline does not ask for a confirmation
   * again. A caller must answer {@code true} only for a state it verified for this binding.
   * {@code false} by default.
   *
   * @param binding the call's binding (a digest of the principal, the request and the policy
   *     revision, as for {@link #confirm})
   */
  default boolean continues(String binding) {
    return false;
  }

  /**
   * Whether the caller gave up on the request (cancelled it, or its session ended): a confirmer
   * that waits for operators stops waiting. {@code false} by default.
   */
  default boolean cancelled() {
    return false;
  }

  /** A caller that cannot be asked and hears nothing: outside a session, or in a library call. */
  static Caller unreachable() {
    return UnreachableCaller.INSTANCE;
  }
}
