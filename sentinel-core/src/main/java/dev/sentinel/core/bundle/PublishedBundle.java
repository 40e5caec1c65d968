package dev.sentinel.core.bundle;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A bundle as a {@link BundleStore} keeps it: its bytes exactly as they were published on a
 * channel, and who published it when. What a gateway applies is decided by verifying {@link
 * #bytes()} ({@link Bundle#parse}, then {@link Bundle#verify}), never by the digest and sequence
 * stored beside them, which are for listing.
 *
 * @param channel the channel it was published on, such as {@code prod}
 * @param digest the bundle's digest, as parsed when it was published
 * @param sequence its sequence number, as parsed when it was published
 * @param bytes the bundle file's bytes
 * @param publishedAt when it was published
 * @param publishedBy who published it (an operator's name, or the user running the CLI)
 */
public record PublishedBundle(String channel, String digest, long sequence, byte[] bytes,
    Instant publishedAt, String publishedBy) {

  private static final Pattern CHANNEL = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

  /** Validates and copies. */
  public PublishedBundle {
    checkChannel(channel);
    Objects.requireNonNull(digest, "digest");
    bytes = Objects.requireNonNull(bytes, "bytes").clone();
    Objects.requireNonNull(publishedAt, "publishedAt");
    Objects.requireNonNull(publishedBy, "publishedBy");
  }

  /** The bundle file's bytes (a copy). */
  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  /**
   * Checks a channel name: lower-case letters, digits, {@code .}, {@code _} and {@code -}, at
   * most 64, starting with a letter or digit.
   *
   * @return the name
   * @throws BundleException naming the rule
   */
  public static String checkChannel(@Nullable String channel) {
    if (channel == null || !CHANNEL.matcher(channel).matches()) {
      throw new BundleException("invalid channel name '" + channel + "': a channel is 1 to 64"
          + " lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
          + " (such as prod or canary)");
    }
    return channel;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PublishedBundle p && channel.equals(p.channel)
        && digest.equals(p.digest) && sequence == p.sequence
        && java.util.Arrays.equals(bytes, p.bytes) && publishedAt.equals(p.publishedAt)
        && publishedBy.equals(p.publishedBy);
  }

  @Override
  public int hashCode() {
    return Objects.hash(channel, digest, sequence, publishedAt, publishedBy);
  }

  @Override
  public String toString() {
    return "PublishedBundle[" + channel + ": " + digest + ", sequence " + sequence + ", "
        + bytes.length + " bytes, published " + publishedAt + " by " + publishedBy + "]";
  }
}
