package dev.sentinel.core.breakglass;

import dev.sentinel.api.Clock;
import dev.sentinel.core.notify.Notifier;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open break-glass windows as the pipeline reads them: an immutable snapshot by principal,
 * read again from the {@link BreakGlassStore} by {@link #refresh()} (a gateway does it at start,
 * every {@code database.sync_interval}, and at once after a change it makes), so that a call
 * never queries the store. With no window open, {@link #window} is one volatile read and a
 * branch.
 *
 * <p>Expiry is exact without a refresh: a window is open for calls strictly before its {@code
 * expires}. {@link #refresh()} also closes the windows that expired (once, across gateways: the
 * store's close is atomic) and announces it.
 *
 * <p>Thread-safe.
 */
public final class BreakGlassWindows {
  private static final Logger LOG = LoggerFactory.getLogger(BreakGlassWindows.class);
  private static final BreakGlassWindows NONE = new BreakGlassWindows(null, null, null);

  private final @Nullable BreakGlassStore store; // null for none()
  private final @Nullable Clock clock;
  private final @Nullable Notifier notifier;
  private volatile Map<String, BreakGlassWindow> open = Map.of();

  private BreakGlassWindows(@Nullable BreakGlassStore store, @Nullable Clock clock, @Nullable Notifier notifier) {
    this.store = store;
    this.clock = clock;
    this.notifier = notifier;
  }

  /** No windows, ever: a pipeline without break-glass. */
  public static BreakGlassWindows none() {
    return NONE;
  }

  /**
   * The windows of a store, loaded now.
   *
   * @param notifier where windows that expired are announced as closed
   */
  public static BreakGlassWindows of(BreakGlassStore store, Clock clock, Notifier notifier) {
    BreakGlassWindows windows = new BreakGlassWindows(Objects.requireNonNull(store, "store"),
        Objects.requireNonNull(clock, "clock"), Objects.requireNonNull(notifier, "notifier"));
    windows.refresh();
    return windows;
  }

  /**
   * The window open for {@code principal} at {@code now}, or {@code null}: the hot path.
   */
  public @Nullable BreakGlassWindow window(String principal, Instant now) {
    Map<String, BreakGlassWindow> snapshot = open;
    if (snapshot.isEmpty()) {
      return null;
    }
    BreakGlassWindow window = snapshot.get(principal);
    return window != null && window.isOpen(now) ? window : null;
  }

  /** The store, or {@code null} for {@link #none()}. */
  public @Nullable BreakGlassStore store() {
    return store;
  }

  /**
   * Reads the open windows from the store again, and closes (and announces) those that expired.
   *
   * @throws RuntimeException if the store cannot be read; the snapshot is kept then
   */
  public void refresh() {
    BreakGlassStore store = this.store;
    Clock clock = this.clock;
    Notifier notifier = this.notifier;
    if (store == null || clock == null || notifier == null) {
      return; // none(): nothing is ever open
    }
    Instant now = clock.instant();
    Map<String, BreakGlassWindow> next = new HashMap<>();
    for (BreakGlassWindow w : store.unclosed()) {
      if (w.isOpen(now)) {
        // Of two windows of one principal, the one that lasts longer counts.
        next.merge(w.principal(), w, (a, b) -> a.expires().isAfter(b.expires()) ? a : b);
      } else {
        store.close(w.id(), BreakGlassWindow.EXPIRY, w.expires()).ifPresent(closed -> {
          LOG.warn("break-glass window {} for {} expired", closed.id(), closed.principal());
          notifier.send(BreakGlassEvents.closed(closed));
        });
      }
    }
    open = Map.copyOf(next);
  }

  /** How many windows the snapshot holds open. */
  public int openCount() {
    return open.size();
  }
}
