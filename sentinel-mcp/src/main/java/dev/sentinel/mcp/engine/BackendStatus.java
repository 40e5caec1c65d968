package dev.sentinel.mcp.engine;

import dev.sentinel.core.config.Isolation;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A backend's state as the gateway sees it.
 *
 * @param name the backend's configured name
 * @param state whether it is starting, up or down
 * @param protocolVersion the negotiated MCP revision, or {@code null} when not (yet) initialized
 * @param restarts how many times the gateway reconnected it after a failure
 * @param lastError the last failure, or {@code null}
 * @param isolation who the backend's connections serve
 * @param connections how many of its connections are up now
 */
public record BackendStatus(
    String name, State state, @Nullable String protocolVersion, int restarts, @Nullable String lastError,
    Isolation isolation, int connections) {

  /** A shared backend's status, with one connection when up. */
  public BackendStatus(String name, State state, @Nullable String protocolVersion, int restarts,
      @Nullable String lastError) {
    this(name, state, protocolVersion, restarts, lastError, Isolation.SHARED, state == State.UP ? 1 : 0);
  }

  /**
   * Where a backend is in its life. An isolated backend is {@code UP} once a connection has
   * initialized and as long as its latest attempt did not fail: its sessions' connections are
   * made when first needed.
   */
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
    Objects.requireNonNull(isolation, "isolation");
    if (restarts < 0 || connections < 0) {
      throw new IllegalArgumentException("restarts and connections must not be negative");
    }
  }
}
