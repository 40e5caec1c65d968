package dev.sentinel.runner.http;

/** The MCP-specific header names. */
final class HttpHeaders {
  /** The session id, set on the initialize response and sent back on every later request. */
  static final String SESSION_ID = "Mcp-Session-Id";
  /** The negotiated protocol revision, sent by clients after initialize. */
  static final String PROTOCOL_VERSION = "MCP-Protocol-Version";
  /** An API key, as an alternative to {@code Authorization: Bearer}. */
  static final String API_KEY = "X-API-Key";
  /** Where a resumed SSE stream continues. */
  static final String LAST_EVENT_ID = "Last-Event-ID";

  private HttpHeaders() {}
}
