package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.core.audit.AuditEventJson;
import dev.sentinel.core.audit.CanonicalJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The hash chain of the audit store, in one place: the content of a record, its hash, and the
 * chain's starting point.
 *
 * <p>A record's content is its event's canonical JSON ({@link AuditEventJson#toJson} written by
 * {@link CanonicalJson#bytes}), stored verbatim in the {@code event} column. Its hash is
 *
 * <pre>
 * hash(n) = "sha256:" + lowercase-hex(SHA-256(
 *     UTF-8(prev_hash(n)) || 0x0A || ASCII(decimal seq(n)) || 0x0A || UTF-8 bytes of event(n)))
 * </pre>
 *
 * where {@code prev_hash(n)} is {@code hash(n - 1)}, or for the first record kept, the chain's
 * base hash ({@link #GENESIS} for a chain that was never purged). The sequence number is hashed so
 * that a record moved to another position no longer matches; the separators make the split of
 * the bytes unambiguous (neither a hash text nor a decimal contains a line feed).
 *
 * <p>Thread-safe; holds no state.
 */
final class AuditChain {
  /** The name of the store's one chain in {@code sentinel_audit_chain}. */
  static final String NAME = "audit";

  /** The hash the first record of a new chain continues from: 64 zeros. */
  static final String GENESIS = "sha256:" + "0".repeat(64);

  private static final HexFormat HEX = HexFormat.of();
  private static final ThreadLocal<MessageDigest> SHA_256 =
      ThreadLocal.withInitial(AuditChain::newSha256);

  private AuditChain() {}

  /** The canonical content of an event: the text stored in the {@code event} column. */
  static byte[] content(AuditEvent event) {
    // The same bytes as CanonicalJson.bytes(AuditEventJson.toJson(event)), without the tree.
    return AuditEventJson.canonicalBytes(event);
  }

  /** The hash of record {@code seq} with the given content, continuing from {@code prevHash}. */
  static String hash(String prevHash, long seq, byte[] content) {
    MessageDigest md = SHA_256.get();
    md.reset();
    md.update(prevHash.getBytes(StandardCharsets.UTF_8));
    md.update((byte) '\n');
    md.update(Long.toString(seq).getBytes(StandardCharsets.US_ASCII));
    md.update((byte) '\n');
    md.update(content);
    return "sha256:" + HEX.formatHex(md.digest());
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 must be available in every Java runtime", e);
    }
  }
}
