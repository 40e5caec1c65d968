package dev.sentinel.mcp.transport;

import dev.sentinel.api.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import tools.jackson.databind.JsonNode;

/** A receiver that records what a transport delivers, and lets a test wait for it. */
final class Recorder implements Transport.Receiver {
  private static final long DEADLINE_SECONDS = 60;

  private final BlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicInteger closedCalls = new AtomicInteger();
  private final AtomicReference<Throwable> cause = new AtomicReference<>();
  private final AtomicReference<Thread> closedOn = new AtomicReference<>();

  @Override
  public void message(JsonNode message) {
    messages.add(message);
  }

  @Override
  public void closed(Throwable cause) {
    this.cause.set(cause);
    closedOn.set(Thread.currentThread());
    closedCalls.incrementAndGet();
    closed.countDown();
  }

  /** The next message; fails the test if none comes (only when the code under test is broken). */
  JsonNode next() throws InterruptedException {
    JsonNode message = messages.poll(DEADLINE_SECONDS, TimeUnit.SECONDS);
    if (message == null) {
      throw new AssertionError("no message arrived; closed=" + (closed.getCount() == 0)
          + " cause=" + cause.get());
    }
    return message;
  }

  /**
   * The next message that matches, skipping others; fails the test if none comes within the
   * deadline, however many others keep arriving (a server's keep-alive pings, say).
   */
  JsonNode next(Predicate<JsonNode> wanted) throws InterruptedException {
    JsonNode message = poll(wanted, Duration.ofSeconds(DEADLINE_SECONDS));
    if (message == null) {
      throw new AssertionError("no matching message arrived; closed=" + (closed.getCount() == 0)
          + " cause=" + cause.get());
    }
    return message;
  }

  /** The next message that matches within {@code within}, skipping others; {@code null} if none. */
  JsonNode poll(Predicate<JsonNode> wanted, Duration within) throws InterruptedException {
    long end = System.nanoTime() + within.toNanos();
    for (long left = within.toNanos(); left > 0; left = end - System.nanoTime()) {
      JsonNode message = messages.poll(left, TimeUnit.NANOSECONDS);
      if (message != null && wanted.test(message)) {
        return message;
      }
    }
    return null;
  }

  /** The response with this id, skipping notifications and other messages. */
  JsonNode response(int id) throws InterruptedException {
    return next(m -> m.path("id").isNumber() && m.path("id").asInt() == id && !m.has("method"));
  }

  /** Waits for closed(...) and returns its cause. */
  Throwable awaitClosed() throws InterruptedException {
    if (!closed.await(DEADLINE_SECONDS, TimeUnit.SECONDS)) {
      throw new AssertionError("transport never reported closed");
    }
    return cause.get();
  }

  boolean isClosed() {
    return closed.getCount() == 0;
  }

  int closedCalls() {
    return closedCalls.get();
  }

  /** The messages delivered and not yet taken. */
  List<JsonNode> drain() {
    List<JsonNode> out = new ArrayList<>();
    messages.drainTo(out);
    return out;
  }
}
