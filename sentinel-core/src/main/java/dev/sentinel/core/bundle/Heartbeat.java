package dev.sentinel.core.bundle;

import java.time.Instant;
import java.util.Objects;

/**
 * What one gateway that follows a channel reports, every {@code poll_interval} and after each
 * apply or refusal: who it is and what it runs. {@code sentinel fleet status} compares it with
 * the channel's head.
 *
 * @param instance the gateway's run: its audit records' instance ({@code name-pid}), {@code @}
 *     the host, {@code /} a random token of this run (a restart is another run; the old one
 *     shows as stale)
 * @param host the host it runs on
 * @param version the Sentinel version it runs
 * @param channel the channel it follows
 * @param digest the digest of the bundle it runs
 * @param sequence that bundle's sequence number
 * @param revision the revision of the config it serves (as audited)
 * @param lastError why the last head it read was not applied (or could not be read), or {@code
 *     null} when the last one was
 * @param startedAt when it started following the channel
 * @param seenAt when it sent this heartbeat
 */
public record Heartbeat(String instance, String host, String version, String channel,
    String digest, long sequence, String revision, String lastError, Instant startedAt,
    Instant seenAt) {

  /** The longest {@link #lastError} kept, in characters. */
  public static final int MAX_ERROR = 2000;

  /** Validates, and shortens a long error. */
  public Heartbeat {
    Objects.requireNonNull(instance, "instance");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(version, "version");
    PublishedBundle.checkChannel(channel);
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(seenAt, "seenAt");
    if (lastError != null && lastError.length() > MAX_ERROR) {
      lastError = lastError.substring(0, MAX_ERROR) + "...";
    }
  }
}
