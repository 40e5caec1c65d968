package dev.sentinel.api;

/** What a policy decided. */
public enum Effect {
  /** The request may proceed. */
  ALLOW,
  /** The request is refused. */
  DENY,
  /** The request may proceed once a human confirms it. */
  CONFIRM;

  /** Whether the request may proceed, possibly after confirmation. */
  public boolean permits() {
    return this != DENY;
  }
}
