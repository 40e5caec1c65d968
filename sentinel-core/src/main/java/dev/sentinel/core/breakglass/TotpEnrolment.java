package dev.sentinel.core.breakglass;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A principal's TOTP secret, with what keeps each code good once and wrong codes bounded. The
 * secret is never in {@link #toString()}; whoever holds it can open the principal's windows, so
 * stores keep it where the API keys' hashes are, and nothing logs it.
 *
 * @param principal whose secret
 * @param secret the shared secret (HMAC-SHA1 key); copied in and out
 * @param enrolled when it was created
 * @param lastStep the TOTP step of the last code accepted ({@link Long#MIN_VALUE} for none): a
 *     code of this step or an earlier one is refused
 * @param failures wrong codes since the last good one or lockout
 * @param lockedUntil until when every code is refused after too many wrong ones, or {@code null}
 */
public record TotpEnrolment(String principal, byte[] secret, Instant enrolled, long lastStep,
    int failures, @Nullable Instant lockedUntil) {

  /** Validates and copies. */
  public TotpEnrolment {
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(enrolled, "enrolled");
    if (secret.length < 10) {
      throw new IllegalArgumentException("a TOTP secret has at least 80 bits");
    }
    if (failures < 0) {
      throw new IllegalArgumentException("failures must not be negative");
    }
    secret = secret.clone();
  }

  /** A new enrolment with a fresh secret. */
  public static TotpEnrolment create(String principal, Instant now) {
    return new TotpEnrolment(principal, Totp.newSecret(), now, Long.MIN_VALUE, 0, null);
  }

  /** A copy of the secret. */
  @Override
  public byte[] secret() {
    return secret.clone();
  }

  /** This enrolment after a good code of {@code step}: the step is used, the failures reset. */
  public TotpEnrolment accepted(long step) {
    return new TotpEnrolment(principal, secret, enrolled, step, 0, null);
  }

  /**
   * This enrolment after a wrong code: one more failure, or locked until {@code lockUntil} (and
   * the count reset) when it is the {@code maxFailures}th.
   */
  public TotpEnrolment failed(int maxFailures, Instant lockUntil) {
    int next = failures + 1;
    return next >= maxFailures
        ? new TotpEnrolment(principal, secret, enrolled, lastStep, 0, lockUntil)
        : new TotpEnrolment(principal, secret, enrolled, lastStep, next, lockedUntil);
  }

  /** Whether codes are refused at {@code now} after too many wrong ones. */
  public boolean lockedAt(Instant now) {
    return lockedUntil != null && now.isBefore(lockedUntil);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof TotpEnrolment e && principal.equals(e.principal)
        && java.security.MessageDigest.isEqual(secret, e.secret) && enrolled.equals(e.enrolled)
        && lastStep == e.lastStep && failures == e.failures
        && Objects.equals(lockedUntil, e.lockedUntil);
  }

  @Override
  public int hashCode() {
    return Objects.hash(principal, enrolled, lastStep, failures, lockedUntil);
  }

  /** Everything but the secret. */
  @Override
  public String toString() {
    return "TotpEnrolment[principal=" + principal + ", secret=(hidden), enrolled=" + enrolled
        + ", lastStep=" + lastStep + ", failures=" + failures + ", lockedUntil=" + lockedUntil
        + "]";
  }
}
