package dev.sentinel.core;

import dev.sentinel.api.Caller;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One call to govern: the caller's credentials, the request, and where it came from.
 *
 * @param credentials what the caller presented
 * @param request the action asked for
 * @param sessionId the MCP session, or {@code null}
 * @param client the client's announced name and version, or {@code null}
 * @param requestId the JSON-RPC request id as text, or {@code null}
 * @param principalId the principal the session is bound to, or {@code null}: a call whose
 *     credentials authenticate as another principal is refused as unauthenticated, so that one
 *     principal's credentials never act through another's session
 * @param diagnostics what the caller found about the call without refusing it (such as arguments
 *     that do not match the tool's schema, forwarded under {@code validate: warn}); recorded in
 *     the call's audit event as the error of stage {@code diagnostics}, unless a later stage (the
 *     policy, the invoker) records its own
 * @param asserted the principal the embedding application authenticated itself ({@link #as}), or
 *     {@code null}: when set, the pipeline takes it as the caller instead of authenticating the
 *     credentials. Only code in the process can set it: the HTTP gateway sets it to the
 *     principal it authenticated the request's credentials as, once, at the edge; nothing a
 *     client sends can choose it
 * @param traceParent the W3C {@code traceparent} the caller sent (in the request's {@code
 *     params._meta}, or as an HTTP header), which a {@link CallTracer} makes the parent of the
 *     call's span; {@code null} when none was sent. A value that is not a well-formed version-00
 *     {@code traceparent} is ignored (taken as {@code null}), as W3C Trace Context says
 * @param caller the client that sent the call, as a {@link dev.sentinel.api.Confirmer} can reach
 *     it (to ask its human to confirm, or to tell it that the call waits); {@link
 *     Caller#unreachable()} outside a session
 */
public record Call(
    Credentials credentials, Request request, @Nullable String sessionId, @Nullable String client,
    @Nullable String requestId, @Nullable String principalId, List<String> diagnostics,
    @Nullable Principal asserted, @Nullable String traceParent, Caller caller) {

  /** Validates and copies; drops a malformed {@code traceParent}. */
  public Call {
    Objects.requireNonNull(credentials, "credentials");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(caller, "caller");
    diagnostics = List.copyOf(diagnostics);
    if (traceParent != null && !wellFormedTraceParent(traceParent)) {
      traceParent = null;
    }
  }

  /** A call whose caller cannot be reached. */
  public Call(Credentials credentials, Request request, @Nullable String sessionId,
      @Nullable String client, @Nullable String requestId, @Nullable String principalId,
      List<String> diagnostics, @Nullable Principal asserted, @Nullable String traceParent) {
    this(credentials, request, sessionId, client, requestId, principalId, diagnostics, asserted,
        traceParent, Caller.unreachable());
  }

  /** A call without a trace context. */
  public Call(Credentials credentials, Request request, @Nullable String sessionId,
      @Nullable String client, @Nullable String requestId, @Nullable String principalId,
      List<String> diagnostics, @Nullable Principal asserted) {
    this(credentials, request, sessionId, client, requestId, principalId, diagnostics, asserted, null);
  }

  /** A call authenticated by its credentials, with diagnostics. */
  public Call(Credentials credentials, Request request, @Nullable String sessionId,
      @Nullable String client, @Nullable String requestId, @Nullable String principalId,
      List<String> diagnostics) {
    this(credentials, request, sessionId, client, requestId, principalId, diagnostics, null);
  }

  /** A call bound to a principal, without diagnostics. */
  public Call(Credentials credentials, Request request, @Nullable String sessionId,
      @Nullable String client, @Nullable String requestId, @Nullable String principalId) {
    this(credentials, request, sessionId, client, requestId, principalId, List.of());
  }

  /** A call not bound to a principal. */
  public Call(Credentials credentials, Request request, @Nullable String sessionId,
      @Nullable String client, @Nullable String requestId) {
    this(credentials, request, sessionId, client, requestId, null);
  }

  /** A copy with one more diagnostic. */
  public Call withDiagnostic(String diagnostic) {
    Objects.requireNonNull(diagnostic, "diagnostic");
    List<String> more = new java.util.ArrayList<>(diagnostics);
    more.add(diagnostic);
    return new Call(credentials, request, sessionId, client, requestId, principalId, more, asserted,
        traceParent, caller);
  }

  /**
   * A copy with the trace context the caller sent ({@code null} for none); a malformed value is
   * ignored.
   */
  public Call withTraceParent(@Nullable String traceParent) {
    return new Call(credentials, request, sessionId, client, requestId, principalId, diagnostics, asserted,
        traceParent, caller);
  }

  /** A copy whose caller a confirmer can reach: the client session the call came from. */
  public Call withCaller(Caller caller) {
    return new Call(credentials, request, sessionId, client, requestId, principalId, diagnostics, asserted,
        traceParent, caller);
  }

  /**
   * Whether a value is a W3C {@code traceparent} of version 00: {@code 00-} 32 lower-case hex
   * digits (the trace id, not all zero) {@code -} 16 (the parent span id, not all zero) {@code -}
   * 2 (the flags).
   */
  public static boolean wellFormedTraceParent(String value) {
    if (value.length() != 55 || value.charAt(0) != '0' || value.charAt(1) != '0'
        || value.charAt(2) != '-' || value.charAt(35) != '-' || value.charAt(52) != '-') {
      return false;
    }
    return hex(value, 3, 35) && hex(value, 36, 52) && hex(value, 53, 55);
  }

  /** Lower-case hex from {@code from} to {@code to}, and not all zero unless two digits long. */
  private static boolean hex(String value, int from, int to) {
    boolean nonZero = to - from == 2;
    for (int i = from; i < to; i++) {
      char c = value.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
      nonZero |= c != '0';
    }
    return nonZero;
  }

  /** A call outside any session. */
  public static Call of(Credentials credentials, Request request) {
    return new Call(credentials, request, null, null, null);
  }

  /**
   * A call made on behalf of a principal the application has authenticated already (its web
   * session's user, say), outside any MCP session: the pipeline does not run the authenticator
   * for it, and one {@link Sentinel} serves every user of the application.
   */
  public static Call as(Principal principal, Request request) {
    Objects.requireNonNull(principal, "principal");
    return new Call(Credentials.none(), request, null, null, null, null, List.of(), principal);
  }
}
