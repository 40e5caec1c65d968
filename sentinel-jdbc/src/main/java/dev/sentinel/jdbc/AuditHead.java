package dev.sentinel.jdbc;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The head of an audit chain: the sequence number and hash of its last record, and that record's
 * time. Copied somewhere the database's writers cannot reach (a ticket, a log, a notary), it is an
 * anchor: {@link AuditVerifier#verify(Database, AuditAnchors)} with {@link
 * AuditAnchors#expectHead} then fails when the chain no longer holds that record with that hash,
 * which catches the newest records deleted together with the chain row rewritten to match.
 *
 * <p>Written as text ({@link #toString()}, what {@code sentinel audit head} prints) as one token
 * that can be pasted back: {@code <seq>:<hash>@<time>}, such as {@code
 * 1200:sha256:9f86...08@2026-03-01T12:00:00.123456Z}. The time (microseconds, UTC) is absent for
 * a chain with no record kept (seq 0 of a new store, or everything purged: the hash is then the
 * chain's base hash); {@link #parse} also accepts the text without it.
 *
 * @param seq the sequence number of the last record, or the base's when no record is kept
 * @param hash its hash, {@code sha256:} and 64 lowercase hex digits
 * @param time the last record's time (the event's arrival, as stored, to the microsecond), or
 *     {@code null} when unknown or when no record is kept
 */
public record AuditHead(long seq, String hash, @Nullable Instant time) {
  private static final Pattern HASH = Pattern.compile("sha256:[0-9a-f]{64}");
  private static final Pattern TEXT =
      Pattern.compile("(\\d{1,19}):(sha256:[0-9a-f]{64})(?:@(\\S+))?");

  /** Validates, and truncates the time to microseconds (as stored). */
  public AuditHead {
    if (seq < 0) {
      throw new IllegalArgumentException("a chain head's seq must not be negative, got " + seq);
    }
    Objects.requireNonNull(hash, "hash");
    if (!HASH.matcher(hash).matches()) {
      throw new IllegalArgumentException(
          "a chain head's hash is sha256: and 64 lowercase hex digits, got '" + hash + "'");
    }
    if (time != null) {
      time = time.truncatedTo(ChronoUnit.MICROS);
    }
  }

  /**
   * Reads a head as {@link #toString()} writes it, {@code <seq>:<hash>[@<time>]}; surrounding
   * white space is ignored.
   *
   * @throws IllegalArgumentException naming what is wrong, if the text is not a head
   */
  public static AuditHead parse(String text) {
    Objects.requireNonNull(text, "text");
    Matcher m = TEXT.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "expected a chain head as sentinel audit head prints it, <seq>:sha256:<64 hex>[@<time>],"
              + " such as 1200:sha256:9f86...@2026-03-01T12:00:00Z; got '" + text.strip() + "'");
    }
    long seq;
    try {
      seq = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("the head's seq is too large: " + m.group(1), e);
    }
    Instant time = null;
    if (m.group(3) != null) {
      try {
        time = Instant.parse(m.group(3));
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException(
            "the head's time after @ must be an instant such as 2026-03-01T12:00:00.123456Z, got '"
                + m.group(3) + "'", e);
      }
    }
    return new AuditHead(seq, m.group(2), time);
  }

  /** {@code <seq>:<hash>@<time>}, or {@code <seq>:<hash>} without a time. */
  @Override
  public String toString() {
    return seq + ":" + hash + (time == null ? "" : "@" + time);
  }
}
