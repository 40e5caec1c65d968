package dev.sentinel.mcp.engine;

import dev.sentinel.api.Transport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Every backend transport the gateway's connectors opened and nobody has closed yet, so that
 * {@link #closeAll()} can end them all and wait: a backend child process must not outlive the
 * gateway that started it.
 *
 * <p>Connections are closed on many threads: a session's own connections on the thread that
 * saw the session end (the stdio reader, on end of input), a failed one on its delivery thread,
 * an idle one on the ticker. Those are daemon threads, and a JVM that is shutting down halts as
 * soon as its shutdown hooks return, killing them half-way through a child's stop grace. Closing
 * every transport still registered here joins a close in progress ({@code ProcessTransport}'s
 * close waits for another thread's) and stops the ones nobody closed.
 *
 * <p>Thread-safe.
 */
final class OpenTransports {
  private final Set<Transport> open = new LinkedHashSet<>();
  private int opening;
  private boolean closed;

  /**
   * Opens a transport with the connector and registers it until it is closed; {@code null} when
   * the connector gives none.
   *
   * @throws IllegalStateException when the gateway is closed (no new child may start then)
   */
  @Nullable Transport open(String backend, Supplier<Transport> connector) {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the gateway is closed: backend " + backend + " is not started");
      }
      opening++;
    }
    Registered registered = null;
    try {
      Transport transport = connector.get();
      if (transport != null) {
        registered = new Registered(transport);
      }
    } finally {
      synchronized (this) {
        opening--;
        if (registered != null) {
          open.add(registered);
        }
        notifyAll();
      }
    }
    return registered;
  }

  /** How many transports are registered: for tests. */
  synchronized int size() {
    return open.size();
  }

  /**
   * Refuses new transports, waits for the connectors still running, then closes every transport
   * still registered, in parallel (each child may take its stop grace), and returns when all are
   * closed. Uninterruptible: an interrupt is kept for the caller, after the children are gone.
   */
  void closeAll() {
    boolean interrupted = false;
    List<Transport> left;
    synchronized (this) {
      closed = true;
      while (opening > 0) {
        try {
          wait();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      left = new ArrayList<>(open);
    }
    List<Thread> closers = new ArrayList<>();
    for (Transport transport : left) {
      Thread closer = new Thread(transport::close, "sentinel-close-" + transport);
      closer.start();
      closers.add(closer);
    }
    for (Thread closer : closers) {
      while (true) {
        try {
          closer.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized void closed(Registered transport) {
    open.remove(transport);
  }

  /** Forwards to the transport; unregisters it once its close has returned. */
  private final class Registered implements Transport {
    private final Transport transport;

    Registered(Transport transport) {
      this.transport = transport;
    }

    @Override
    public void start(Receiver receiver) {
      transport.start(receiver);
    }

    @Override
    public void send(JsonNode message) throws IOException {
      transport.send(message);
    }

    @Override
    public void close() {
      try {
        transport.close();
      } finally {
        closed(this);
      }
    }

    @Override
    public String toString() {
      return transport.toString();
    }
  }
}
