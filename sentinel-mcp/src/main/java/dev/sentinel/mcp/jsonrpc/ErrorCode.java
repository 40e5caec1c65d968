package dev.sentinel.mcp.jsonrpc;

import dev.sentinel.api.Outcome;
import java.util.Objects;

/**
 * The JSON-RPC error codes Sentinel sends, with their meaning. The codes are stable: clients may
 * rely on them.
 *
 * <table>
 *   <caption>Codes</caption>
 *   <tr><th>Code</th><th>Constant</th><th>Meaning</th></tr>
 *   <tr><td>-32700</td><td>{@link #PARSE_ERROR}</td><td>the bytes are not JSON</td></tr>
 *   <tr><td>-32600</td><td>{@link #INVALID_REQUEST}</td><td>JSON, but not a valid JSON-RPC
 *       request (also: batches, requests before {@code initialize})</td></tr>
 *   <tr><td>-32601</td><td>{@link #METHOD_NOT_FOUND}</td><td>no such method</td></tr>
 *   <tr><td>-32602</td><td>{@link #INVALID_PARAMS}</td><td>bad parameters, unknown tool or
 *       prompt</td></tr>
 *   <tr><td>-32603</td><td>{@link #INTERNAL_ERROR}</td><td>the gateway or a backend failed</td></tr>
 *   <tr><td>-32000</td><td>{@link #TOO_MANY_PENDING}</td><td>the client has too many requests in
 *       flight</td></tr>
 *   <tr><td>-32011</td><td>{@link #UNAUTHENTICATED}</td><td>refused: missing or invalid
 *       credentials</td></tr>
 *   <tr><td>-32012</td><td>{@link #DENIED}</td><td>refused by the policy</td></tr>
 *   <tr><td>-32013</td><td>{@link #DISABLED}</td><td>refused by the kill switch</td></tr>
 *   <tr><td>-32014</td><td>{@link #LIMITED}</td><td>refused by a rate limit</td></tr>
 *   <tr><td>-32015</td><td>{@link #UNCONFIRMED}</td><td>refused: confirmation required and not
 *       given</td></tr>
 *   <tr><td>-32016</td><td>{@link #UNAVAILABLE}</td><td>refused: the audit trail cannot be
 *       written</td></tr>
 *   <tr><td>-32017</td><td>{@link #TIMED_OUT}</td><td>the backend did not answer in time; the
 *       request was cancelled at the backend</td></tr>
 *   <tr><td>-32018</td><td>{@link #TOOL_CHANGED}</td><td>refused: the tool's definition is not
 *       the approved one (changed since it was pinned), and awaits an operator's approval</td></tr>
 *   <tr><td>-32019</td><td>{@link #BACKEND_STARTING}</td><td>the backend has not come up yet
 *       (it is starting, or failed to start and is being retried): retry after {@code
 *       data.retryAfterMs}</td></tr>
 *   <tr><td>-32020</td><td>{@link #HEADER_MISMATCH}</td><td>MCP 2026-07-28 over HTTP: a required
 *       header is missing, malformed, or does not match the body</td></tr>
 *   <tr><td>-32021</td><td>{@link #MISSING_REQUIRED_CLIENT_CAPABILITY}</td><td>MCP 2026-07-28:
 *       the request needs a capability the client did not declare</td></tr>
 *   <tr><td>-32022</td><td>{@link #UNSUPPORTED_PROTOCOL_VERSION}</td><td>MCP 2026-07-28: the
 *       request's protocol version is not one Sentinel speaks; {@code data: {supported,
 *       requested}}</td></tr>
 * </table>
 *
 * <p>Refusals ({@code -32011} to {@code -32016}, and {@code -32018}) carry {@code data: {outcome, rules,
 * retryAfterMs}} and the refusal's message.
 */
public enum ErrorCode {
  /** -32700: the bytes are not JSON. */
  PARSE_ERROR(-32700),
  /** -32600: valid JSON, but not a valid JSON-RPC request. */
  INVALID_REQUEST(-32600),
  /** -32601: the method does not exist. */
  METHOD_NOT_FOUND(-32601),
  /** -32602: invalid parameters, such as an unknown tool or prompt. */
  INVALID_PARAMS(-32602),
  /** -32603: an internal error, such as a backend that failed. */
  INTERNAL_ERROR(-32603),
  /** -32000: too many requests in flight for this client. */
  TOO_MANY_PENDING(-32000),
  /** -32011: refused, the credentials are missing or invalid. */
  UNAUTHENTICATED(-32011),
  /** -32012: refused by the policy. */
  DENIED(-32012),
  /** -32013: refused by the kill switch. */
  DISABLED(-32013),
  /** -32014: refused by a rate limit. */
  LIMITED(-32014),
  /** -32015: refused, a required confirmation was not given. */
  UNCONFIRMED(-32015),
  /** -32016: refused, the audit trail cannot be written. */
  UNAVAILABLE(-32016),
  /** -32017: the backend did not answer within the request timeout. */
  TIMED_OUT(-32017),
  /**
   * -32018: refused, the tool's listed definition is not the approved one (tool definition
   * changed, awaiting approval); recorded as {@code DENIED} by rule {@code pinning}.
   */
  TOOL_CHANGED(-32018),
  /**
   * -32019: the backend has not come up yet, in a gateway that answers {@code initialize} before
   * its backends are up ({@code sentinel stdio}): it is starting, or failed to start and is being
   * retried. Retryable: {@code data: {retryAfterMs}}; nothing was forwarded.
   */
  BACKEND_STARTING(-32019),
  /** -32020: (MCP 2026-07-28, HTTP) a header is missing, malformed, or disagrees with the body. */
  HEADER_MISMATCH(-32020),
  /** -32021: (MCP 2026-07-28) the request needs a client capability that was not declared. */
  MISSING_REQUIRED_CLIENT_CAPABILITY(-32021),
  /** -32022: (MCP 2026-07-28) the request's protocol version is not supported. */
  UNSUPPORTED_PROTOCOL_VERSION(-32022);

  private final int code;

  ErrorCode(int code) {
    this.code = code;
  }

  /** The numeric JSON-RPC code. */
  public int code() {
    return code;
  }

  /**
   * The code of a refusal outcome.
   *
   * @throws IllegalArgumentException if the outcome is not a refusal
   */
  public static ErrorCode forRefusal(Outcome outcome) {
    Objects.requireNonNull(outcome, "outcome");
    switch (outcome) {
      case UNAUTHENTICATED:
        return UNAUTHENTICATED;
      case DENIED:
        return DENIED;
      case DISABLED:
        return DISABLED;
      case LIMITED:
        return LIMITED;
      case UNCONFIRMED:
        return UNCONFIRMED;
      case UNAVAILABLE:
        return UNAVAILABLE;
      default:
        throw new IllegalArgumentException(outcome + " is not a refusal");
    }
  }
}
