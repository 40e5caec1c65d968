package dev.sentinel.core.transport;

import dev.sentinel.api.Transport.Receiver;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The delivery thread of a transport: producers (reader threads) offer messages into a small
 * bounded queue, which blocks them when the receiver falls behind, and one thread hands the
 * messages to the receiver in order, then {@code closed(cause)} exactly once.
 *
 * <p>Thread-safe.
 */
final class Delivery {
  private static final Logger LOG = LoggerFactory.getLogger(Delivery.class);

  private final String name;
  private final int capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final Condition notFull = lock.newCondition();
  private final ArrayDeque<JsonNode> queue = new ArrayDeque<>();
  private Receiver receiver;
  private boolean ended;
  private Throwable cause;

  Delivery(String name, int capacity) {
    this.name = name;
    this.capacity = capacity;
  }

  /** Starts the delivery thread. */
  void start(Receiver receiver) {
    this.receiver = receiver;
    Thread thread = new Thread(this::run, "sentinel-delivery-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Queues a message, waiting while the queue is full.
   *
   * @return false when the transport has ended and the message was dropped
   */
  boolean offer(JsonNode message) {
    lock.lock();
    try {
      while (queue.size() >= capacity && !ended) {
        notFull.awaitUninterruptibly();
      }
      if (ended) {
        return false;
      }
      queue.add(message);
      notEmpty.signal();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Ends the transport: the receiver hears {@code closed(cause)} after the messages already
   * queued, or at once when {@code discardPending}. Only the first call counts.
   *
   * @return whether this call ended it
   */
  boolean end(Throwable cause, boolean discardPending) {
    lock.lock();
    try {
      if (ended) {
        return false;
      }
      ended = true;
      this.cause = cause;
      if (discardPending) {
        queue.clear();
      }
      notEmpty.signalAll();
      notFull.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  boolean ended() {
    lock.lock();
    try {
      return ended;
    } finally {
      lock.unlock();
    }
  }

  private void run() {
    while (true) {
      JsonNode next;
      Throwable endCause;
      lock.lock();
      try {
        while (queue.isEmpty() && !ended) {
          notEmpty.awaitUninterruptibly();
        }
        next = queue.poll();
        endCause = cause;
        notFull.signal();
      } finally {
        lock.unlock();
      }
      if (next == null) {
        try {
          receiver.closed(endCause);
        } catch (RuntimeException e) {
          LOG.warn("transport {}: receiver failed on close", name, e);
        }
        return;
      }
      try {
        receiver.message(next);
      } catch (RuntimeException e) {
        // an observer that throws must not stop the channel
        LOG.warn("transport {}: receiver failed on a message", name, e);
      }
    }
  }
}
