package dev.sentinel.mcp.transport;

import dev.sentinel.api.Transport;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * One end of an in-process pair of transports: what one end sends, the other receives, in order,
 * on that end's own delivery thread. Messages are handed over as they are (no copy), so senders
 * must not change a message after sending it.
 *
 * <p>Thread-safe. Closing either end closes both; each receiver hears {@code closed(null)} once,
 * after every message sent before the close.
 */
public final class InProcessTransport implements Transport {
  private static final Object CLOSE = new Object();

  private final String name;
  private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicReference<State> state;
  // set by pair() right after both ends exist, before either is handed out
  private @Nullable InProcessTransport peer;

  private enum State { OPEN, CLOSED }

  private InProcessTransport(String name, AtomicReference<State> shared) {
    this.name = name;
    this.state = shared;
  }

  /** Two connected ends; {@code pair()[0]} sends to {@code pair()[1]} and the other way round. */
  public static InProcessTransport[] pair(String name) {
    AtomicReference<State> shared = new AtomicReference<>(State.OPEN);
    InProcessTransport a = new InProcessTransport(name + "-a", shared);
    InProcessTransport b = new InProcessTransport(name + "-b", shared);
    a.peer = b;
    b.peer = a;
    return new InProcessTransport[] {a, b};
  }

  @Override
  public void start(Receiver receiver) {
    Objects.requireNonNull(receiver, "receiver");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("transport " + name + " already started");
    }
    Thread delivery = new Thread(() -> deliver(receiver), "sentinel-inprocess-" + name);
    delivery.setDaemon(true);
    delivery.start();
  }

  private void deliver(Receiver receiver) {
    try {
      while (true) {
        Object next = inbox.take();
        if (next == CLOSE) {
          break;
        }
        receiver.message((JsonNode) next);
      }
      receiver.closed(null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      receiver.closed(e);
    } catch (RuntimeException e) {
      receiver.closed(e);
    }
  }

  @Override
  public void send(JsonNode message) throws IOException {
    Objects.requireNonNull(message, "message");
    if (state.get() != State.OPEN) {
      throw new IOException("transport " + name + " is closed");
    }
    peer().inbox.add(message);
  }

  @Override
  public void close() {
    if (state.compareAndSet(State.OPEN, State.CLOSED)) {
      inbox.add(CLOSE);
      peer().inbox.add(CLOSE);
    }
  }

  private InProcessTransport peer() {
    InProcessTransport end = peer;
    if (end == null) {
      throw new IllegalStateException("transport " + name + " has no peer: ends come from pair()");
    }
    return end;
  }

  /** Whether the pair is still open. */
  public boolean isOpen() {
    return state.get() == State.OPEN;
  }
}
