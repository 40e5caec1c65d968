package dev.sentinel.mcp.streamable;

/**
 * What the sessions of a Streamable HTTP endpoint and its principals may hold. A connection may
 * hold unwritten twice what its stream keeps, so that a whole replay fits.
 *
 * @param maxSessions sessions open at once
 * @param sessionsPerPrincipal sessions one principal may hold
 * @param streamsPerPrincipal SSE streams one principal may hold open
 * @param streamEvents events one stream keeps for delivery or replay
 * @param streamBytes bytes one stream keeps for delivery or replay
 * @param sessionEvents events one session may hold, its streams and connections together
 * @param sessionBytes bytes one session may hold, its streams and connections together
 */
public record Bounds(int maxSessions, int sessionsPerPrincipal, int streamsPerPrincipal, int streamEvents,
    long streamBytes, int sessionEvents, long sessionBytes) {

  /** Validates. */
  public Bounds {
    if (maxSessions < 1 || sessionsPerPrincipal < 1 || sessionsPerPrincipal > maxSessions
        || streamsPerPrincipal < 1 || streamEvents < 1 || streamBytes < 1 || sessionEvents < 1
        || sessionBytes < 1) {
      throw new IllegalArgumentException("invalid bounds: " + maxSessions + ", " + sessionsPerPrincipal
          + ", " + streamsPerPrincipal + ", " + streamEvents + ", " + streamBytes + ", "
          + sessionEvents + ", " + sessionBytes);
    }
  }

  /** What one SSE connection may hold unwritten before it is dropped. */
  SseWriter.Limits connection() {
    return new SseWriter.Limits(2 * streamEvents, 2 * streamBytes);
  }
}
