package dev.sentinel.api;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Everything a {@link Policy} may look at: who asks, what for, in which session, and when.
 *
 * @param principal the authenticated caller
 * @param request the action asked for
 * @param sessionId the MCP session, or {@code null} outside a session
 * @param client the client's name and version as it announced them, or {@code null}
 * @param time when the request arrived, for time windows
 */
public record RequestContext(
    Principal principal,
    Request request,
    @Nullable String sessionId,
    @Nullable String client,
    Instant time) {

  /** Validates. */
  public RequestContext {
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(time, "time");
  }

  /** A context outside any session. */
  public static RequestContext of(Principal principal, Request request, Instant time) {
    return new RequestContext(principal, request, null, null, time);
  }
}
