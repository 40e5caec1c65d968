package dev.sentinel.core.config;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The {@code server.admin:} section: the credentials of the HTTP gateway's operators (admin API,
 * operator page, metrics), separate from every MCP client's. Immutable; {@link #toString()}
 * never shows the token.
 *
 * <p>Operators either share one token, or each uses their own credentials (an API key or a JWT,
 * as MCP clients do) as a principal holding one of {@link #roles}; then the admin API knows who
 * each one is, and records decisions (approvals, pins, break-glass windows, reloads) under that
 * name instead of the one a request gives.
 *
 * @param token the bearer token operators present, at least {@value #MIN_TOKEN_LENGTH}
 *     characters, usually {@code "${env:SENTINEL_ADMIN_TOKEN}"} in the config; {@code null} when
 *     only named operators may use the admin API
 * @param roles the roles whose principals are operators, each under their own name; empty when
 *     only the token opens the admin API
 */
public record Admin(@Nullable String token, List<String> roles) {

  /** The shortest token accepted: 32 characters, about 190 bits when random. */
  public static final int MIN_TOKEN_LENGTH = 32;

  /** Validates and copies. */
  public Admin {
    roles = List.copyOf(Objects.requireNonNull(roles, "roles"));
    if (token == null && roles.isEmpty()) {
      throw new IllegalArgumentException("the admin section needs a token, operator roles, or both");
    }
    if (token != null && (token.length() < MIN_TOKEN_LENGTH || token.isBlank())) {
      throw new IllegalArgumentException(
          "the admin token must be at least " + MIN_TOKEN_LENGTH + " characters");
    }
    for (String role : roles) {
      if (role == null || role.isBlank()) {
        throw new IllegalArgumentException("an operator role must not be blank");
      }
    }
  }

  /** Operators who share one token. */
  public Admin(String token) {
    this(Objects.requireNonNull(token, "token"), List.of());
  }

  @Override
  public String toString() {
    return "Admin[token=" + (token == null ? "none" : "<redacted>") + ", roles=" + roles + "]";
  }
}
