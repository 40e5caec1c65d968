package dev.sentinel.runner.http;

/**
 * What the HTTP gateway's sessions and principals may hold.
 *
 * @param maxSessions sessions open at once
 * @param sessionsPerPrincipal sessions one principal may hold
 * @param streamsPerPrincipal SSE streams one principal may hold open
 * @param streamEvents events one stream keeps for delivery or replay
 * @param streamBytes bytes one stream keeps for delivery or replay
 */
record Bounds(int maxSessions, int sessionsPerPrincipal, int streamsPerPrincipal, int streamEvents,
    long streamBytes) {

  /** Validates. */
  Bounds {
    if (maxSessions < 1 || sessionsPerPrincipal < 1 || sessionsPerPrincipal > maxSessions
        || streamsPerPrincipal < 1 || streamEvents < 1 || streamBytes < 1) {
      throw new IllegalArgumentException("invalid bounds: " + maxSessions + ", " + sessionsPerPrincipal
          + ", " + streamsPerPrincipal + ", " + streamEvents + ", " + streamBytes);
    }
  }
}
