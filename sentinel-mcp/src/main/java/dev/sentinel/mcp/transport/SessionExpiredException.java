package dev.sentinel.mcp.transport;

import dev.sentinel.api.SentinelException;

/**
 * A Streamable HTTP backend answered 404 to a request carrying its session id: the session is
 * gone (the server restarted or expired it). The transport closes with this cause; the protocol
 * engine starts a new session with a new transport and a fresh {@code initialize}.
 */
public final class SessionExpiredException extends SentinelException {
  private static final long serialVersionUID = 1L;

  private final String backend;

  /** Creates the exception for a backend whose session ended. */
  public SessionExpiredException(String backend, String sessionId) {
    super("session " + sessionId + " of backend '" + backend + "' has expired (HTTP 404)");
    this.backend = backend;
  }

  /** The backend's name. */
  public String backend() {
    return backend;
  }
}
