package dev.sentinel.runner.http;

import dev.sentinel.core.config.Admin;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Who holds the operators' shared token (admin API, operator page, metrics): whoever presents
 * the config's admin token as {@code Authorization: Bearer <token>}. Without a configured token
 * nobody does (named operators, {@code server.admin.roles}, are checked by the admin handler). MCP clients' credentials never pass here, and this token never authenticates an
 * MCP request.
 *
 * <p>The comparison is of SHA-256 digests with {@link MessageDigest#isEqual}, so its timing says
 * nothing about the token, not even its length. Immutable and thread-safe.
 */
final class OperatorAccess {
  private static final String BEARER = "bearer ";
  private static final OperatorAccess NOBODY = new OperatorAccess(null);

  private final byte @Nullable [] digest;

  private OperatorAccess(byte @Nullable [] digest) {
    this.digest = digest;
  }

  /** Access for the holders of the admin token, or for nobody without one. */
  static OperatorAccess of(Optional<Admin> admin) {
    return admin.map(Admin::token).map(token -> new OperatorAccess(sha256(token))).orElse(NOBODY);
  }

  /** Whether an admin token is configured, so that the operators' endpoints are served. */
  boolean configured() {
    return digest != null;
  }

  /**
   * Whether an {@code Authorization} header value carries the admin token.
   *
   * @param authorization the header's value, or {@code null} when absent
   */
  boolean permits(@Nullable String authorization) {
    if (digest == null || authorization == null || authorization.length() <= BEARER.length()
        || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return false;
    }
    return MessageDigest.isEqual(digest, sha256(authorization.substring(BEARER.length()).strip()));
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
