package dev.sentinel.core.breakglass;

import java.time.Instant;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One break-glass window: while it is open, the principal's calls are decided first by the
 * policy's {@code break_glass:} rules, and every one of them is tagged {@code break_glass}.
 *
 * @param id the window's id: 12 lowercase base32 characters
 * @param principal whose calls the window covers
 * @param openedBy who opened it: an operator's name, or the principal itself (with a TOTP code)
 * @param reason why; never blank
 * @param opened when it opened
 * @param expires when it closes by itself: a call at this instant or later is outside it
 * @param closedBy who closed it early, or {@code expiry} once a gateway noticed it expired;
 *     {@code null} while it is not closed
 * @param closed when it was closed, or {@code null}
 */
public record BreakGlassWindow(String id, String principal, String openedBy, String reason,
    Instant opened, Instant expires, @Nullable String closedBy, @Nullable Instant closed) {

  /** Who closes a window that expired. */
  public static final String EXPIRY = "expiry";

  /** Validates. */
  public BreakGlassWindow {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(openedBy, "openedBy");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(opened, "opened");
    Objects.requireNonNull(expires, "expires");
    if (reason.isBlank()) {
      throw new IllegalArgumentException("a break-glass window needs a reason");
    }
    if (!expires.isAfter(opened)) {
      throw new IllegalArgumentException("a window must expire after it opens");
    }
    if ((closedBy == null) != (closed == null)) {
      throw new IllegalArgumentException("closedBy and closed are set together");
    }
  }

  /** Whether calls at {@code now} are inside the window: not closed, and before its expiry. */
  public boolean isOpen(Instant now) {
    return closed == null && now.isBefore(expires);
  }

  /** Whether it was closed (early, or after it expired); an expired window may not be yet. */
  public boolean isClosed() {
    return closed != null;
  }

  /** Where it stands at {@code now}: {@code open}, {@code expired} or {@code closed}. */
  public String status(Instant now) {
    if (closed != null) {
      return EXPIRY.equals(closedBy) ? "expired" : "closed";
    }
    return now.isBefore(expires) ? "open" : "expired";
  }

  /** This window closed by {@code by} at {@code at}. */
  public BreakGlassWindow closedBy(String by, Instant at) {
    return new BreakGlassWindow(id, principal, openedBy, reason, opened, expires, by, at);
  }
}
