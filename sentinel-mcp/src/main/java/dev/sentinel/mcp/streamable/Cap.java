package dev.sentinel.mcp.streamable;

/**
 * A Streamable HTTP endpoint's caps on what callers hold, each named as its config key: refusals and
 * metrics name the cap, so that a caller and an operator both know which bound was met.
 */
public enum Cap {
  /** Sessions open on the gateway, whoever holds them. */
  MAX_SESSIONS("max_sessions", "too many sessions on the gateway"),
  /** Sessions one principal holds. */
  MAX_SESSIONS_PER_PRINCIPAL("max_sessions_per_principal", "too many sessions for this principal"),
  /** SSE streams (GET streams and streamed POST answers) one principal holds open. */
  MAX_STREAMS_PER_PRINCIPAL("max_streams_per_principal", "too many open streams for this principal");

  /** How long a refused caller is asked to wait, in seconds ({@code Retry-After}). */
  public static final int RETRY_AFTER_SECONDS = 5;

  private final String key;
  private final String what;

  Cap(String key, String what) {
    this.key = key;
    this.what = what;
  }

  /** The config key, which is also the metric label and the refusal's rule. */
  public String key() {
    return key;
  }

  /** The refusal's message, naming the cap and its value, and what the caller can do. */
  public String message(int limit) {
    String remedy;
    switch (this) {
      case MAX_SESSIONS_PER_PRINCIPAL:
        remedy = "end one of its sessions (DELETE) or try again later";
        break;
      case MAX_STREAMS_PER_PRINCIPAL:
        remedy = "close one of its streams or try again later";
        break;
      default:
        remedy = "try again later";
        break;
    }
    return what + ": " + key + " is " + limit + "; " + remedy;
  }
}
