package dev.sentinel.core.limit;

import dev.sentinel.api.Rate;
import dev.sentinel.core.config.Units;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * How a gateway keeps a shared limit in step with the store that holds it (PostgreSQL, Redis):
 * the config's {@code shared_state.limits.sync}.
 *
 * <ul>
 *   <li>{@code exact}: every check goes to the store; calls that arrive together on one gateway
 *       for one bucket go in one round trip (Bucket4j's batching optimization), checked one
 *       after another in the store. Never admits more than the bucket holds.
 *   <li>{@code batched(N)}: a gateway takes up to {@code N} tokens of a bucket from its own copy
 *       of the bucket before it writes them to the store (Bucket4j's delaying optimization), and
 *       reads the store again at least every {@value #BATCHED_MAX_STALENESS_MILLIS} ms. Each
 *       gateway may admit up to {@code N} tokens that the others do not see yet, so with {@code
 *       G} gateways at most {@code (G - 1) * N} tokens more than the limit are admitted; the
 *       excess is then charged to the bucket (it goes into debt), so it does not add up over
 *       time.
 *   <li>{@code delayed(interval)}: a gateway writes what it took at most every {@code
 *       interval}, with no bound in tokens: each gateway may admit a whole bucket that the
 *       others do not see, {@code (G - 1) * (burst + refill over the interval)} tokens over the
 *       limit at most. For generous limits only.
 * </ul>
 *
 * <p>What a gateway admitted is always charged to the store's bucket before that gateway admits
 * more than {@code N} (or after the interval). A gateway refuses only when its copy is empty, and
 * its copy overestimates what the store holds, so the modes do not refuse calls the limit allows
 * with one exception: tokens charged late are charged after the bucket's refill was capped at its
 * capacity, so a gateway that was idle for a whole refill may find up to {@code N} tokens fewer
 * than an exact bucket would hold (under-admission, never over-admission).
 *
 * @param mode the mode
 * @param tokens {@code batched}: the tokens a gateway may take before it writes them; otherwise 0
 * @param interval {@code delayed}: the longest time between writes; otherwise {@code null}
 */
public record LimitSync(Mode mode, long tokens, @Nullable Duration interval) {

  /** How long a {@code batched} copy of a bucket is used before the store is read again. */
  public static final long BATCHED_MAX_STALENESS_MILLIS = 1000;

  /** What {@link #parse} accepts, for messages. */
  public static final String EXPECTED = "expected exact, batched(N) (N tokens per gateway before a"
      + " write, such as batched(20)) or delayed(interval) (such as delayed(200ms))";

  private static final LimitSync EXACT = new LimitSync(Mode.EXACT, 0, null);
  private static final Pattern BATCHED = Pattern.compile("batched\\(\\s*(\\d{1,7})\\s*\\)");
  private static final Pattern DELAYED = Pattern.compile("delayed\\(\\s*([^)]*?)\\s*\\)");

  /** The modes. */
  public enum Mode {
    /** Every check in the store. */
    EXACT,
    /** Up to N tokens per gateway before a write. */
    BATCHED,
    /** Writes at most every interval. */
    DELAYED
  }

  /** Validates. */
  public LimitSync {
    Objects.requireNonNull(mode, "mode");
    switch (mode) {
      case EXACT:
        if (tokens != 0 || interval != null) {
          throw new IllegalArgumentException("exact sync takes no tokens and no interval");
        }
        break;
      case BATCHED:
        if (tokens < 1 || tokens > 1_000_000) {
          throw new IllegalArgumentException(
              "batched(N) needs N between 1 and 1000000 tokens, got " + tokens);
        }
        if (interval != null) {
          throw new IllegalArgumentException("batched(N) takes no interval");
        }
        break;
      default:
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero() || interval.compareTo(Duration.ofHours(1)) > 0) {
          throw new IllegalArgumentException(
              "delayed(interval) needs an interval longer than zero and at most 1h, got " + interval);
        }
        if (tokens != 0) {
          throw new IllegalArgumentException("delayed(interval) takes no tokens");
        }
    }
  }

  /**
   * Reads a mode as written in the config: {@code exact}, {@code batched(20)}, {@code
   * delayed(200ms)}.
   *
   * @throws IllegalArgumentException naming what is expected, if {@code text} is none of them or
   *     its number or interval is out of range
   */
  public static LimitSync parse(String text) {
    String mode = Objects.requireNonNull(text, "text").strip();
    if (mode.equals("exact")) {
      return EXACT;
    }
    Matcher batched = BATCHED.matcher(mode);
    if (batched.matches()) {
      return batched(Long.parseLong(batched.group(1)));
    }
    Matcher delayed = DELAYED.matcher(mode);
    if (delayed.matches()) {
      return delayed(Units.parseDuration(delayed.group(1)));
    }
    throw new IllegalArgumentException(EXPECTED);
  }

  /** Every check in the store: the default. */
  public static LimitSync exact() {
    return EXACT;
  }

  /** Up to {@code tokens} tokens per gateway and bucket before a write. */
  public static LimitSync batched(long tokens) {
    return new LimitSync(Mode.BATCHED, tokens, null);
  }

  /** A write at most every {@code interval} per gateway and bucket. */
  public static LimitSync delayed(Duration interval) {
    return new LimitSync(Mode.DELAYED, 0, interval);
  }

  /**
   * The most tokens that {@code gateways} gateways sharing a bucket of this rate may admit
   * beyond what one exact bucket would, at any moment: {@code 0} for {@code exact}, {@code
   * (gateways - 1) * N} for {@code batched(N)}, and {@code (gateways - 1) * (burst + refill over
   * the interval)} for {@code delayed}. See the class comment.
   *
   * @throws IllegalArgumentException if {@code gateways} is not positive
   */
  public long maxOverAdmission(Rate rate, int gateways) {
    Objects.requireNonNull(rate, "rate");
    if (gateways < 1) {
      throw new IllegalArgumentException("gateways must be positive, got " + gateways);
    }
    long others = gateways - 1L;
    switch (mode) {
      case EXACT:
        return 0;
      case BATCHED:
        return others * tokens;
      default:
        // delayed: the constructor requires an interval.
        double refill = (double) rate.permits() * Objects.requireNonNull(interval).toNanos()
            / rate.period().toNanos();
        return others * (rate.burst() + (long) Math.ceil(refill));
    }
  }

  /** As written in the config: {@code exact}, {@code batched(20)}, {@code delayed(PT0.5S)}. */
  @Override
  public String toString() {
    switch (mode) {
      case EXACT:
        return "exact";
      case BATCHED:
        return "batched(" + tokens + ")";
      default:
        return "delayed(" + interval + ")";
    }
  }
}
