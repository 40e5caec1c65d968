package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.core.operator.Times;
import dev.sentinel.api.Clock;
import dev.sentinel.core.breakglass.BreakGlassEvents;
import dev.sentinel.core.breakglass.BreakGlassStore;
import dev.sentinel.core.breakglass.BreakGlassWindow;
import dev.sentinel.core.breakglass.Totp;
import dev.sentinel.core.breakglass.TotpEnrolment;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.core.policy.BreakGlassSettings;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Break-glass windows as operators and principals work them: open (by an operator with a
 * reason, or by the principal itself with a TOTP code), close early, list, and enrol a
 * principal's TOTP secret. The rules are here, once:
 *
 * <ul>
 *   <li>a window is opened only when the policy in force has a {@code break_glass:} section,
 *       and never for longer than its {@code max_ttl} (a longer TTL is refused, not shortened:
 *       who opens a window must know when it closes);
 *   <li>a reason is required; a principal has at most one open window;
 *   <li>a TOTP code is good once: its step must be later than the last one accepted; {@code
 *       totp_attempts} wrong codes in a row lock the principal's codes out for {@code
 *       totp_lockout}, which is announced and logged. Each verification is one atomic update of
 *       the stored enrolment, so two gateways cannot both accept one code.
 * </ul>
 *
 * <p>Opening and closing are announced on the notifier. Thread-safe as its store is.
 */
public final class BreakGlassOperations {
  /** The most windows a list answers. */
  public static final int MAX_LIST = 500;
  /** The longest reason. */
  public static final int MAX_REASON = 500;
  private static final Logger LOG = LoggerFactory.getLogger(BreakGlassOperations.class);
  private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
  /** The one answer to a code that is not accepted, whatever the cause: it tells no guesser more. */
  private static final String BAD_CODE = "the code was not accepted (wrong, used already, or"
      + " out of time); use the next code your authenticator shows";

  private final BreakGlassStore store;
  private final Supplier<Optional<BreakGlassSettings>> settings;
  private final Clock clock;
  private final Notifier notifier;
  private final Runnable changed;
  private final SecureRandom random = new SecureRandom();

  BreakGlassOperations(BreakGlassStore store, Supplier<Optional<BreakGlassSettings>> settings,
      Clock clock, Notifier notifier, Runnable changed) {
    this.store = Objects.requireNonNull(store, "store");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.notifier = Objects.requireNonNull(notifier, "notifier");
    this.changed = Objects.requireNonNull(changed, "changed");
  }

  /**
   * The newest windows first.
   *
   * @param all every window, or only those open now
   * @param limit at most this many, 1 to {@value #MAX_LIST}
   */
  public List<BreakGlassWindow> list(boolean all, int limit) {
    if (limit < 1 || limit > MAX_LIST) {
      throw OperatorException.invalid("the limit must be 1 to " + MAX_LIST + ", got " + limit);
    }
    Instant now = clock.instant();
    List<BreakGlassWindow> newest = store.list(all ? limit : MAX_LIST);
    return all ? newest : newest.stream().filter(w -> w.isOpen(now)).limit(limit).toList();
  }

  /**
   * Opens a window for {@code principal}, as the operator {@code by}.
   *
   * @param ttl how long, such as {@code 30m}; {@code null} for the policy's {@code max_ttl}
   * @throws OperatorException {@code UNSUPPORTED} when the policy has no {@code break_glass:}
   *     section; {@code INVALID} without a principal, an operator or a reason, or for a TTL
   *     over the policy's {@code max_ttl}; {@code CONFLICT} when the principal has an open window
   */
  public BreakGlassWindow open(String principal, @Nullable String reason, @Nullable String ttl,
      String by) {
    BreakGlassSettings bounds = bounds();
    return create(name("principal", principal), name("operator", by), reason(reason),
        duration(ttl, bounds));
  }

  /**
   * Opens a window for {@code principal} by the principal itself, with a code of its enrolled
   * TOTP secret. The principal must have been authenticated by the caller (its API key, never
   * the admin token).
   *
   * @param ttl how long; {@code null} for the policy's {@code max_ttl}
   * @throws OperatorException {@code UNSUPPORTED} when the policy has no {@code break_glass:}
   *     section; {@code INVALID} without a reason or for a TTL over the cap; {@code CONFLICT}
   *     when the code is not accepted (one message whatever the cause), when codes are locked
   *     out, and when the principal has an open window
   */
  public BreakGlassWindow openWithCode(String principal, String code, @Nullable String reason,
      @Nullable String ttl) {
    BreakGlassSettings bounds = bounds();
    String who = name("principal", principal);
    String why = reason(reason);
    Duration length = duration(ttl, bounds);
    Instant now = clock.instant();
    Verdict verdict = new Verdict();
    Optional<TotpEnrolment> after = store.updateEnrolment(who, e -> {
      if (e.lockedAt(now)) {
        verdict.lockedUntil = e.lockedUntil();
        return e;
      }
      OptionalLong step = Totp.verify(e.secret(), code, now, e.lastStep());
      if (step.isPresent()) {
        verdict.accepted = true;
        return e.accepted(step.getAsLong());
      }
      TotpEnrolment failed = e.failed(bounds.totpAttempts(), now.plus(bounds.totpLockout()));
      if (failed.lockedAt(now)) {
        verdict.lockedOutNow = failed.lockedUntil();
      }
      return failed;
    });
    if (after.isEmpty()) {
      throw OperatorException.conflict(who + " has no TOTP secret enrolled; an operator enrols"
          + " one with 'sentinel breakglass enroll --principal " + who + "'");
    }
    if (verdict.lockedOutNow != null) {
      LOG.warn("break-glass: too many wrong TOTP codes for {}; codes refused until {}", who,
          verdict.lockedOutNow);
      notifier.send(BreakGlassEvents.lockout(who, now, verdict.lockedOutNow));
    }
    if (verdict.lockedUntil != null || verdict.lockedOutNow != null) {
      Instant until = verdict.lockedUntil != null ? verdict.lockedUntil : verdict.lockedOutNow;
      Objects.requireNonNull(until, "one of the two is set");
      throw OperatorException.conflict("too many wrong codes: codes for " + who
          + " are refused until " + Times.format(until));
    }
    if (!verdict.accepted) {
      throw OperatorException.conflict(BAD_CODE);
    }
    return create(who, who + " (totp)", why, length);
  }

  /**
   * Closes an open window early, as the operator {@code by}.
   *
   * @throws OperatorException {@code INVALID} without an id or operator; {@code NOT_FOUND};
   *     {@code CONFLICT} when it is closed or expired already
   */
  public BreakGlassWindow close(String id, String by) {
    String who = name("operator", by);
    if (id == null || id.isBlank()) {
      throw OperatorException.invalid("the window id must not be blank");
    }
    BreakGlassWindow window = store.find(id.strip()).orElseThrow(() -> OperatorException.notFound(
        "no break-glass window with id '" + id + "'"));
    Instant now = clock.instant();
    if (!window.isOpen(now)) {
      throw OperatorException.conflict("break-glass window " + window.id() + " is "
          + window.status(now) + " already");
    }
    BreakGlassWindow closed = store.close(window.id(), who, now).orElseThrow(() ->
        OperatorException.conflict("break-glass window " + window.id() + " was closed already"));
    LOG.warn("break-glass window {} for {} closed by {}", closed.id(), closed.principal(), who);
    notifier.send(BreakGlassEvents.closed(closed));
    changed.run();
    return closed;
  }

  /**
   * Creates (or replaces) a principal's TOTP secret and answers its {@code otpauth://} URI: the
   * only time the secret is shown. Give it to the principal for its authenticator app; never log
   * it. An earlier secret stops working.
   *
   * @throws OperatorException {@code INVALID} without a principal
   */
  public String enroll(String principal) {
    String who = name("principal", principal);
    TotpEnrolment enrolment = TotpEnrolment.create(who, clock.instant());
    store.enroll(enrolment);
    LOG.info("break-glass: a new TOTP secret was enrolled for {}", who);
    return Totp.uri(who, enrolment.secret());
  }

  private BreakGlassWindow create(String principal, String by, String reason, Duration ttl) {
    Instant now = clock.instant();
    for (BreakGlassWindow w : store.unclosed()) {
      if (w.principal().equals(principal) && w.isOpen(now)) {
        throw OperatorException.conflict(principal + " has an open break-glass window ("
            + w.id() + ", until " + Times.format(w.expires()) + "); close it first");
      }
    }
    BreakGlassWindow window = new BreakGlassWindow(newId(), principal, by, reason, now,
        now.plus(ttl), null, null);
    store.create(window);
    LOG.warn("break-glass window {} opened for {} by {} until {}: {}", window.id(), principal,
        by, window.expires(), reason);
    notifier.send(BreakGlassEvents.opened(window));
    changed.run();
    return window;
  }

  private BreakGlassSettings bounds() {
    return settings.get().orElseThrow(() -> new OperatorException(
        OperatorException.Kind.UNSUPPORTED, "break-glass is not enabled: the policy in force"
            + " has no 'break_glass:' section, so no window can be opened; add one (with the"
            + " rules that apply inside a window and its max_ttl) and reload"));
  }

  private static Duration duration(@Nullable String ttl, BreakGlassSettings bounds) {
    if (ttl == null || ttl.isBlank()) {
      return bounds.maxTtl();
    }
    Duration d = Times.duration("ttl", ttl.strip());
    if (d.compareTo(bounds.maxTtl()) > 0) {
      throw OperatorException.invalid("ttl: " + ttl.strip() + " is longer than the policy's"
          + " break_glass.max_ttl (" + Units.text(bounds.maxTtl()) + "); ask for at most that");
    }
    return d;
  }

  private static String name(String what, String text) {
    if (text == null || text.isBlank()) {
      throw OperatorException.invalid("say which " + what + ": it must not be blank");
    }
    String name = text.strip();
    if (name.length() > 200 || name.chars().anyMatch(Character::isISOControl)) {
      throw OperatorException.invalid("the " + what + " must be at most 200 characters, without"
          + " control characters");
    }
    return name;
  }

  private static String reason(@Nullable String reason) {
    if (reason == null || reason.isBlank()) {
      throw OperatorException.invalid("a break-glass window needs a reason: say why, for the"
          + " audit trail and the people notified");
    }
    String text = reason.strip();
    if (text.length() > MAX_REASON || text.chars().anyMatch(c -> c < 0x20 && c != '\t')) {
      throw OperatorException.invalid("the reason must be at most " + MAX_REASON
          + " characters on one line");
    }
    return text;
  }

  private String newId() {
    char[] id = new char[12];
    for (int i = 0; i < id.length; i++) {
      id[i] = BASE32[random.nextInt(BASE32.length)];
    }
    return new String(id);
  }

  /** What one verification found; written inside the store's atomic update. */
  private static final class Verdict {
    boolean accepted;
    @Nullable Instant lockedUntil;
    @Nullable Instant lockedOutNow;
  }

  /** Durations as operators write them. */
  private static final class Units {
    static String text(Duration d) {
      long s = d.getSeconds();
      if (s % 3600 == 0) {
        return s / 3600 + "h";
      }
      if (s % 60 == 0) {
        return s / 60 + "m";
      }
      return s + "s";
    }
  }
}
