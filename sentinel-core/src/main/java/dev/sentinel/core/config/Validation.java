package dev.sentinel.core.config;

/**
 * What the gateway does with a {@code tools/call} whose arguments do not match the tool's
 * {@code inputSchema}, as the backend listed it ({@link BackendOptions#validation()}; the
 * config's {@code validate}).
 *
 * <p>Validation runs before the policy decides, so that a policy condition on {@code /sql} sees
 * the arguments the backend will act on: an alias key ({@code SQL}, {@code query}) refused by
 * {@code additionalProperties: false}, or a string where a number is declared (which a backend
 * might coerce), never reaches the backend under {@link #ENFORCE}.
 */
public enum Validation {
  /**
   * Invalid arguments are refused (recorded as {@code DENIED} by rule {@code schema}, the reason
   * naming the failing JSON Pointer and keyword) and never forwarded; so is a call to a tool the
   * backend does not list, or whose schema cannot be used (fail closed).
   */
  ENFORCE,
  /**
   * Invalid arguments are forwarded, and the finding is recorded in the call's audit event and
   * logged.
   */
  WARN,
  /** Arguments are not checked. */
  OFF
}
