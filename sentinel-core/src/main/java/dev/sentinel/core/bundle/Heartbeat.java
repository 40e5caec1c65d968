package dev.sentinel.core.bundle;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What one gateway that runs a signed bundle reports (from a channel, or a bundle file when its
 * config has a database), every {@code poll_interval} and after each apply or refusal: who it is
 * and what it runs. {@code sentinel fleet status} compares it with
 * the channel's head.
 *
 * @param instance the gateway's run: its audit records' instance ({@code name-pid}), {@code @}
 *     the host, {@code /} a random token of this run (a restart is another run; the old one
 *     shows as stale)
 * @param host the host it runs on
 * @param version the Sentinel version it runs
 * @param channel the channel it follows, or {@code null} for a gateway that runs a bundle file
 * @param digest the digest of the bundle it runs
 * @param sequence that bundle's sequence number
 * @param revision the revision of the config it serves (as audited)
 * @param lastError why the last head it read was not applied (or could not be read), or {@code
 *     null} when the last one was
 * @param startedAt when it started following the channel
 * @param seenAt when it sent this heartbeat
 * @param counters the governed calls it has ended since it started following the channel
 */
public record Heartbeat(String instance, String host, String version,
    @Nullable String channel, String digest, long sequence, String revision,
    @Nullable String lastError, Instant startedAt,
    Instant seenAt, Counters counters) {

  /** The longest {@link #lastError} kept, in characters. */
  public static final int MAX_ERROR = 2000;

  /** Validates, and shortens a long error. */
  public Heartbeat {
    Objects.requireNonNull(instance, "instance");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(version, "version");
    if (channel != null) {
      PublishedBundle.checkChannel(channel);
    }
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(seenAt, "seenAt");
    Objects.requireNonNull(counters, "counters");
    if (lastError != null && lastError.length() > MAX_ERROR) {
      lastError = lastError.substring(0, MAX_ERROR) + "...";
    }
  }

  /** A heartbeat without counters (all zero). */
  public Heartbeat(String instance, String host, String version, @Nullable String channel,
      String digest, long sequence, String revision, @Nullable String lastError,
      Instant startedAt, Instant seenAt) {
    this(instance, host, version, channel, digest, sequence, revision, lastError, startedAt,
        seenAt, Counters.ZERO);
  }

  /**
   * The governed calls a gateway ended, counted from the moment it started following its channel:
   * what {@code sentinel rollout status} compares between the canaries and the rest, from the
   * database alone (no audit trail needed).
   *
   * @param calls the calls ended
   * @param denied those its policy denied
   * @param errors those that failed, timed out, or whose backend was unavailable
   */
  public record Counters(long calls, long denied, long errors) {
    /** No calls. */
    public static final Counters ZERO = new Counters(0, 0, 0);

    /** Validates. */
    public Counters {
      if (calls < 0 || denied < 0 || errors < 0) {
        throw new IllegalArgumentException("counters must not be negative, got calls " + calls
            + ", denied " + denied + ", errors " + errors);
      }
    }

    /**
     * These counters less an earlier reading of the same gateway; a reading that is not earlier
     * (counters went down: another run) counts from zero.
     */
    public Counters since(Counters earlier) {
      if (earlier.calls > calls || earlier.denied > denied || earlier.errors > errors) {
        return this;
      }
      return new Counters(calls - earlier.calls, denied - earlier.denied, errors - earlier.errors);
    }

    /** The sum of both. */
    public Counters plus(Counters other) {
      return new Counters(calls + other.calls, denied + other.denied, errors + other.errors);
    }
  }
}
