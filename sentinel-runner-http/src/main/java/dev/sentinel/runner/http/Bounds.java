package dev.sentinel.runner.http;

/**
 * What the HTTP gateway's sessions and principals may hold.
 *
 * @param maxSessions sessions open at once
 * @param sessionsPerPrincipal sessions one principal may hold
 * @param streamsPerPrincipal SSE streams one principal may hold open
 * @param streamEvents events one stream keeps for delivery or replay
 * @param streamBytes bytes one stream keeps for delivery or replay
 * @param connection what one SSE connection may hold unwritten before it is dropped
 * @param sessionEvents events one session may hold, its streams and connections together
 * @param sessionBytes bytes one session may hold, its streams and connections together
 */
record Bounds(int maxSessions, int sessionsPerPrincipal, int streamsPerPrincipal, int streamEvents,
    long streamBytes, SseWriter.Limits connection, int sessionEvents, long sessionBytes) {

  /** Validates. */
  Bounds {
    if (maxSessions < 1 || sessionsPerPrincipal < 1 || sessionsPerPrincipal > maxSessions
        || streamsPerPrincipal < 1 || streamEvents < 1 || streamBytes < 1 || sessionEvents < 1
        || sessionBytes < 1) {
      throw new IllegalArgumentException("invalid bounds: " + maxSessions + ", " + sessionsPerPrincipal
          + ", " + streamsPerPrincipal + ", " + streamEvents + ", " + streamBytes + ", "
          + sessionEvents + ", " + sessionBytes);
    }
    java.util.Objects.requireNonNull(connection, "connection");
  }
}
