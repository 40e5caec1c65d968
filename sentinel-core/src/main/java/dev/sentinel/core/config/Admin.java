package dev.sentinel.core.config;

import java.util.Objects;

/**
 * The {@code server.admin:} section: the credentials of the HTTP gateway's operators (admin API,
 * operator page, metrics), separate from every MCP client's. Immutable; {@link #toString()}
 * never shows the token.
 *
 * @param token the bearer token operators present, at least {@value #MIN_TOKEN_LENGTH}
 *     characters; usually {@code "${env:SENTINEL_ADMIN_TOKEN}"} in the config
 */
public record Admin(String token) {

  /** The shortest token accepted: 32 characters, about 190 bits when random. */
  public static final int MIN_TOKEN_LENGTH = 32;

  /** Validates. */
  public Admin {
    Objects.requireNonNull(token, "token");
    if (token.length() < MIN_TOKEN_LENGTH || token.isBlank()) {
      throw new IllegalArgumentException(
          "the admin token must be at least " + MIN_TOKEN_LENGTH + " characters");
    }
  }

  @Override
  public String toString() {
    return "Admin[token=<redacted>]";
  }
}
