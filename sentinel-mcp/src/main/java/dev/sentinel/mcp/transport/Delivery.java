package dev.sentinel.mcp.transport;

import dev.sentinel.api.Transport.Receiver;
import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Hands a transport's incoming messages to its receiver in order, then {@code closed(cause)}
 * exactly once. Messages are delivered on the producing thread (the transport's reader), under
 * a lock that keeps deliveries one at a time even when several threads produce (HTTP streams)
 * or one ends the transport while another delivers.
 *
 * <p>Delivering on the reader thread, rather than through a queue to a delivery thread, saves
 * a thread hand-off per message each way: on two cores each hand-off is a chance to wait for a
 * CPU, and the stdio benchmark's tail latency came from them. Receivers must therefore be quick
 * (the MCP engine hands requests to its executor and only completes futures here); a receiver
 * that blocks holds back its transport's reader, which is the back-pressure a full queue gave.
 *
 * <p>Thread-safe. Messages offered before {@link #start} are kept and delivered when it is
 * called.
 */
final class Delivery {
  private static final Logger LOG = LoggerFactory.getLogger(Delivery.class);

  private final String name;
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<JsonNode> early = new ArrayDeque<>();
  private @Nullable Receiver receiver;
  /** Written under the lock; read without it by {@link #ended}, which senders ask on every message. */
  private volatile boolean ended;
  private boolean endPending;
  private @Nullable Throwable cause;

  /** A delivery for the named transport. */
  Delivery(String name) {
    this.name = name;
  }

  /** Starts delivering: messages offered so far, then each as it comes. */
  void start(Receiver receiver) {
    lock.lock();
    try {
      this.receiver = receiver;
      for (JsonNode message = early.poll(); message != null; message = early.poll()) {
        deliver(receiver, message);
      }
      if (endPending) {
        endPending = false;
        deliverClosed(receiver);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Delivers a message now (or keeps it until {@link #start}).
   *
   * @return false when the transport has ended and the message was dropped
   */
  boolean offer(JsonNode message) {
    lock.lock();
    try {
      if (ended) {
        return false;
      }
      Receiver target = receiver;
      if (target == null) {
        early.add(message);
      } else {
        deliver(target, message);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Ends the transport: the receiver hears {@code closed(cause)} once, after every message
   * delivered so far ({@code discardPending} drops messages kept from before {@link #start}).
   * Only the first call counts.
   *
   * @return whether this call ended it
   */
  boolean end(@Nullable Throwable cause, boolean discardPending) {
    lock.lock();
    try {
      if (ended) {
        return false;
      }
      ended = true;
      this.cause = cause;
      if (discardPending) {
        early.clear();
      }
      Receiver target = receiver;
      if (target == null) {
        endPending = true;
      } else {
        deliverClosed(target);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the transport has ended. Lock-free: a sender asks before each message, and waiting
   * for the lock meant waiting for whatever a delivery in progress does (a shared connection's
   * answers are delivered, and their callers answered, under it).
   */
  boolean ended() {
    return ended;
  }

  private void deliver(Receiver target, JsonNode message) {
    try {
      target.message(message);
    } catch (RuntimeException e) {
      // a receiver that throws must not stop the channel
      LOG.warn("transport {}: receiver failed on a message", name, e);
    }
  }

  private void deliverClosed(Receiver target) {
    try {
      target.closed(cause);
    } catch (RuntimeException e) {
      LOG.warn("transport {}: receiver failed on close", name, e);
    }
  }
}
