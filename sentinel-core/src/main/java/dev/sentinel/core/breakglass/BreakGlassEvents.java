package dev.sentinel.core.breakglass;

import dev.sentinel.core.notify.Notification;
import java.time.Instant;
import java.util.Objects;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The notifications of break-glass: {@code break_glass.opened}, {@code break_glass.closed} (early
 * by an operator, or at expiry) and {@code break_glass.lockout} (too many wrong TOTP codes). They
 * name the window, the principal, who and why; never a secret or a code. Stateless.
 */
public final class BreakGlassEvents {
  private BreakGlassEvents() {}

  /** A window opened. */
  public static Notification opened(BreakGlassWindow w) {
    return new Notification("break_glass.opened", w.opened(),
        "BREAK-GLASS: " + w.openedBy() + " opened a window for " + w.principal() + " until "
            + w.expires() + ": " + w.reason() + " (close it early with 'sentinel breakglass"
            + " close " + w.id() + "')",
        fields(w));
  }

  /** A window closed, early or at expiry. */
  public static Notification closed(BreakGlassWindow w) {
    String how = BreakGlassWindow.EXPIRY.equals(w.closedBy()) ? "expired"
        : "was closed by " + w.closedBy();
    Instant closed = Objects.requireNonNull(w.closed(), "closed() of a closed window");
    return new Notification("break_glass.closed", closed,
        "Break-glass window " + w.id() + " for " + w.principal() + " " + how, fields(w));
  }

  /** A principal's TOTP codes are refused until {@code until} after too many wrong ones. */
  public static Notification lockout(String principal, Instant time, Instant until) {
    ObjectNode data = JsonNodeFactory.instance.objectNode()
        .put("principal", principal)
        .put("until", until.toString());
    return new Notification("break_glass.lockout", time, "Break-glass: too many wrong TOTP codes"
        + " for " + principal + "; codes are refused until " + until, data);
  }

  private static ObjectNode fields(BreakGlassWindow w) {
    ObjectNode data = JsonNodeFactory.instance.objectNode()
        .put("window", w.id())
        .put("principal", w.principal())
        .put("opened_by", w.openedBy())
        .put("reason", w.reason())
        .put("opened", w.opened().toString())
        .put("expires", w.expires().toString());
    Instant closed = w.closed();
    if (closed != null) { // isClosed()
      data.put("closed_by", w.closedBy()).put("closed", closed.toString());
    }
    return data;
  }
}
