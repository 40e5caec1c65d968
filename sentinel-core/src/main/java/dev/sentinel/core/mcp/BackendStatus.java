package dev.sentinel.core.mcp;

import java.util.Objects;

/**
 * A backend's state as the gateway sees it.
 *
 * @param name the backend's configured name
 * @param state whether it is starting, up or down
 * @param protocolVersion the negotiated MCP revision, or {@code null} when not (yet) initialized
 * @param restarts how many times the gateway reconnected it after a failure
 * @param lastError the last failure, or {@code null}
 */
public record BackendStatus(
    String name, State state, String protocolVersion, int restarts, String lastError) {

  /** Where a backend is in its life. */
  public enum State {
    /** Connecting or initializing. */
    STARTING,
    /** Initialized and serving. */
    UP,
    /** Failed or closed; retried with backoff unless the gateway is closing. */
    DOWN
  }

  /** Validates. */
  public BackendStatus {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(state, "state");
    if (restarts < 0) {
      throw new IllegalArgumentException("restarts must not be negative");
    }
  }
}
