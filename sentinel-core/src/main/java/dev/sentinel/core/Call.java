package dev.sentinel.core;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Request;
import java.util.Objects;

/**
 * One call to govern: the caller's credentials, the request, and where it came from.
 *
 * @param credentials what the caller presented
 * @param request the action asked for
 * @param sessionId the MCP session, or {@code null}
 * @param client the client's announced name and version, or {@code null}
 * @param requestId the JSON-RPC request id as text, or {@code null}
 */
public record Call(
    Credentials credentials, Request request, String sessionId, String client, String requestId) {

  /** Validates. */
  public Call {
    Objects.requireNonNull(credentials, "credentials");
    Objects.requireNonNull(request, "request");
  }

  /** A call outside any session. */
  public static Call of(Credentials credentials, Request request) {
    return new Call(credentials, request, null, null, null);
  }
}
