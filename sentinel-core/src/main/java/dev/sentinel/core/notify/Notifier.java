package dev.sentinel.core.notify;

/**
 * Where notifications go. {@link #send} never blocks and never throws: a notifier that cannot
 * deliver counts and logs it, and the call or decision that caused the event goes on.
 * Implementations are thread-safe.
 */
public interface Notifier extends AutoCloseable {

  /** Hands an event over for delivery; returns at once. */
  void send(Notification notification);

  /** Delivers what is queued, for a bounded time, and stops. Idempotent. */
  @Override
  default void close() {}

  /** A notifier that drops everything: no {@code notify:} configured. */
  static Notifier none() {
    return notification -> { };
  }
}
