package dev.sentinel.core.audit;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Takes audit events off the request path and writes them to one or more {@link AuditSink}s in
 * batches (group commit), without ever dropping one silently.
 *
 * <p>Each sink has its own bounded queue and its own daemon writer thread, so a slow sink never
 * stalls another. A writer waits for the first event, takes whatever else is queued up to the
 * batch size (after waiting up to {@link Builder#linger} for more, when one is set), and hands
 * the batch to {@link AuditSink#write}. While events come faster than {@link
 * Builder#pollWhileBusy}, when one is set, a writer looks at its queue once per period instead of
 * being woken by each event. When the sink
 * throws (anything, {@link Error}s included), the writer marks it unhealthy, warns (at most once
 * every 30 seconds per sink, never with event contents) and retries the same batch with
 * exponential backoff. With {@link OnSinkFailure#BLOCK} it retries until the sink recovers and
 * {@link #admit()} refuses calls meanwhile; with {@link OnSinkFailure#CONTINUE} it gives up after
 * {@code maxAttempts} attempts and logs the batch's events, one JSON line each, at ERROR to the
 * logger {@value #FALLBACK_LOGGER}, counting them as {@link Stats#dropped() dropped}.
 *
 * <p>The pipeline calls {@link #admit()} before forwarding a request and {@link #record} once its
 * outcome is known. {@link #record} blocks while a queue is full (backpressure) and cannot be
 * interrupted out of it (the interrupt status is kept); {@link #close()} bounds that wait, since
 * after its drain timeout the queues are emptied into the fallback logger.
 *
 * <p>Durable mode: {@link #recordDurably} queues an event like {@link #record} and waits until
 * every sink has written the batch that holds it, so concurrent callers share one write each
 * (group commit) instead of paying a commit each. It answers false, and the caller must not rely
 * on the event being stored, when a sink gave up on the event (logged it to the fallback), the
 * dispatcher is closed, the wait exceeds {@link Builder#durableTimeout} or the thread is
 * interrupted; the event stays queued and may still be written later.
 *
 * <p>Counters in {@link Stats} other than {@code recorded} count per sink: an event written to two
 * sinks counts twice in {@code written}.
 *
 * <p>Thread-safe. Writer threads are daemons: close the dispatcher on shutdown, or what is still
 * queued is lost with the process.
 */
public final class AuditDispatcher implements AutoCloseable {

  /** The default most events handed to one {@link AuditSink#write}. */
  public static final int DEFAULT_BATCH_SIZE = 512;

  /** The logger that receives, at ERROR, every event that could not be written to a sink. */
  public static final String FALLBACK_LOGGER = "dev.sentinel.audit.fallback";

  private static final Logger LOG = LoggerFactory.getLogger(AuditDispatcher.class);
  private static final Logger FALLBACK = LoggerFactory.getLogger(FALLBACK_LOGGER);
  private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(30);
  /** How long an abandoned writer, told to log the rest to the fallback, gets to finish. */
  private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long MIN_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final long CLOSE_POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

  /** Wakes a writer blocked on an empty queue at close; never written. */
  private static final Queued STOP = new Queued(new AuditEvent("stop", Instant.EPOCH, "", null, List.of(), null, null, null, "stop", null,
          null, JsonNodeFactory.instance.nullNode(), null, null, List.of(), "", -1, Duration.ZERO,
          Outcome.ALLOWED, null, null, Duration.ZERO, -1, null, ""), null);

  private final SinkWriter[] writers;
  private final int capacity;
  private final WhenFull whenFull;
  private final OnSinkFailure onSinkFailure;
  private final long minBackoffNanos;
  private final long maxBackoffNanos;
  private final int maxAttempts;
  private final Duration drainTimeout;
  private final long durableTimeoutNanos;
  private final long lingerNanos;
  private final long pollNanos;
  private final Clock clock;
  private final Consumer<AuditEvent> fallback;

  private volatile boolean closed;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final CountDownLatch closeDone = new CountDownLatch(1);
  /** Recorders between the closed check and the end of their enqueueing. */
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Events accepted into the queues; every writer sees each of them. */
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong lateRecorded = new AtomicLong();
  private final AtomicInteger unhealthySinks = new AtomicInteger();
  /** Threads waiting on {@link #progress} for room, health or completion. */
  private final AtomicInteger waiters = new AtomicInteger();
  /** Threads in {@link #flush}: writers do not linger meanwhile. */
  private final AtomicInteger flushers = new AtomicInteger();
  private final Object progress = new Object();

  private AuditDispatcher(Builder b) {
    this.capacity = b.capacity;
    this.whenFull = b.whenFull;
    this.onSinkFailure = b.onSinkFailure;
    this.minBackoffNanos = nanos(b.minBackoff);
    this.maxBackoffNanos = nanos(b.maxBackoff);
    this.maxAttempts = b.maxAttempts;
    this.drainTimeout = b.drainTimeout;
    this.durableTimeoutNanos = nanos(b.durableTimeout);
    this.lingerNanos = nanos(b.linger);
    this.pollNanos = nanos(b.pollWhileBusy);
    this.clock = b.clock;
    this.fallback = b.fallback;
    this.writers = new SinkWriter[b.sinks.size()];
    for (int i = 0; i < writers.length; i++) {
      writers[i] = new SinkWriter(b.sinks.get(i), b.threadName + "-" + i, b.batchSize);
    }
    for (SinkWriter w : writers) {
      w.thread.start();
    }
  }

  /** A builder; at least one sink is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Whether a request may be forwarded, called before forwarding it; {@code false} means the
   * pipeline refuses it as {@link Outcome#UNAVAILABLE}. False when closed; with {@link
   * OnSinkFailure#BLOCK}, false while any sink is failing; when a queue is at capacity, false at
   * once with {@link WhenFull#FAIL}, and with {@link WhenFull#BLOCK} waits for room (false if the
   * dispatcher closes, a sink starts failing under {@code OnSinkFailure.BLOCK}, or the thread is
   * interrupted). A few volatile reads when healthy.
   */
  public boolean admit() {
    if (closed) {
      return false;
    }
    if (onSinkFailure == OnSinkFailure.BLOCK && unhealthySinks.get() > 0) {
      return false;
    }
    if (!anyFull()) {
      return true;
    }
    return whenFull == WhenFull.BLOCK && awaitRoom();
  }

  /**
   * Queues the event for every sink. Blocks while a queue is full; never drops the event
   * silently. After {@link #close()} has begun, writes it synchronously to each sink that is
   * still open and idle, and otherwise logs it to {@value #FALLBACK_LOGGER} and counts it as
   * dropped.
   */
  public void record(AuditEvent event) {
    Objects.requireNonNull(event, "event");
    submit(new Queued(event, null));
  }

  /**
   * Queues the event for every sink, as {@link #record} does, and waits until every sink has
   * written it: durable mode. Events recorded meanwhile by other threads share the same writes.
   * The wait is bounded by {@link Builder#durableTimeout} (5 s by default).
   *
   * @return true once every sink has written the event (as durably as each sink's {@link
   *     AuditSink#durable()} promises); false if a sink gave up on it, the dispatcher is closed,
   *     the wait timed out or the thread was interrupted (the interrupt status is kept)
   */
  public boolean recordDurably(AuditEvent event) {
    Objects.requireNonNull(event, "event");
    Ticket ticket = new Ticket(writers.length);
    if (!submit(new Queued(event, ticket))) {
      return false;
    }
    return ticket.await(durableTimeoutNanos);
  }

  /** Whether at least one sink declares itself {@link AuditSink#durable() durable}. */
  public boolean anyDurableSink() {
    for (SinkWriter w : writers) {
      if (w.sink.durable()) {
        return true;
      }
    }
    return false;
  }

  /** Queues an entry for every sink; false if the dispatcher was closed (late path taken). */
  private boolean submit(Queued entry) {
    AuditEvent event = entry.event;
    boolean open;
    inFlight.incrementAndGet();
    try {
      open = !closed;
      if (open) {
        accepted.incrementAndGet();
        for (SinkWriter w : writers) {
          w.enqueue(entry);
          // A durable caller waits, or a batch is full: end the writer's linger or poll period.
          if ((lingerNanos > 0 || pollNanos > 0)
              && (entry.ticket != null || w.lingering + w.queue.size() >= w.batchSize)) {
            LockSupport.unpark(w.thread);
          }
        }
      }
    } finally {
      inFlight.decrementAndGet();
    }
    if (!open) {
      lateRecorded.incrementAndGet();
      for (SinkWriter w : writers) {
        if (!w.writeDirectly(event)) {
          w.toFallback(List.of(entry));
        }
      }
    }
    return open;
  }

  /** A snapshot of the counters; each is read separately, so they need not add up exactly. */
  public Stats stats() {
    long written = 0;
    long failed = 0;
    long dropped = 0;
    long depth = 0;
    long acceptedNow = accepted.get();
    for (SinkWriter w : writers) {
      written += w.written.get();
      failed += w.failedWrites.get();
      dropped += w.dropped.get();
      depth = Math.max(depth, acceptedNow - w.completed.get());
    }
    return new Stats(
        acceptedNow + lateRecorded.get(),
        written,
        failed,
        dropped,
        (int) Math.min(Integer.MAX_VALUE, Math.max(0, depth)),
        unhealthySinks.get() == 0);
  }

  /**
   * Waits until every event recorded before this call has been written (or logged to the
   * fallback), or the timeout passes.
   *
   * @return whether everything was written in time
   */
  public boolean flush(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    long target = accepted.get();
    if (allCompleted(target)) {
      return true;
    }
    long deadline = System.nanoTime() + nanos(timeout);
    waiters.incrementAndGet();
    flushers.incrementAndGet();
    if (lingerNanos > 0 || pollNanos > 0) {
      for (SinkWriter w : writers) {
        LockSupport.unpark(w.thread); // out of a linger or poll period: write what is queued now
      }
    }
    try {
      synchronized (progress) {
        while (!allCompleted(target)) {
          long remaining = deadline - System.nanoTime();
          if (remaining <= 0) {
            return false;
          }
          TimeUnit.NANOSECONDS.timedWait(progress, remaining);
        }
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return allCompleted(target);
    } finally {
      flushers.decrementAndGet();
      waiters.decrementAndGet();
    }
  }

  /**
   * Stops accepting events, writes everything queued, and closes the sinks. Idempotent; a second
   * caller waits for the first to finish. Bounded by the drain timeout: what has not been written
   * by then is logged to {@value #FALLBACK_LOGGER}, and a sink whose writer is stuck inside
   * {@link AuditSink#write} is left open.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      awaitUninterruptibly(closeDone);
      return;
    }
    boolean interrupted = false;
    try {
      closed = true;
      signalProgress();
      long deadline = System.nanoTime() + nanos(drainTimeout);
      // Recorders that got in before the door shut finish enqueueing; writers keep draining.
      while (inFlight.get() > 0 && System.nanoTime() - deadline < 0) {
        LockSupport.parkNanos(CLOSE_POLL_NANOS);
      }
      for (SinkWriter w : writers) {
        w.stopping = true;
        w.queue.offer(STOP);
        LockSupport.unpark(w.thread); // out of a linger
      }
      for (SinkWriter w : writers) {
        interrupted |= join(w.thread, deadline);
      }
      long grace =
          System.nanoTime() + Math.max(MIN_GRACE_NANOS, Math.min(GRACE_NANOS, nanos(drainTimeout)));
      for (SinkWriter w : writers) {
        if (w.thread.isAlive()) {
          LOG.warn(
              "audit sink {} was not drained within {}; logging the rest to {}",
              w.name,
              drainTimeout,
              FALLBACK_LOGGER);
          w.abandoned = true;
          LockSupport.unpark(w.thread);
        }
      }
      for (SinkWriter w : writers) {
        interrupted |= join(w.thread, grace);
      }
      for (SinkWriter w : writers) {
        if (w.thread.isAlive()) {
          List<Queued> inHand = w.inHand.getAndSet(null);
          LOG.error(
              "audit sink {} is stuck in write(); its current batch is logged to {} and the sink"
                  + " is left open",
              w.name,
              FALLBACK_LOGGER);
          if (inHand != null) {
            w.toFallback(inHand);
          }
        }
      }
      // Recorders still blocked on full queues get room as the queues are emptied here.
      do {
        for (SinkWriter w : writers) {
          w.drainToFallback();
        }
        if (inFlight.get() > 0) {
          LockSupport.parkNanos(CLOSE_POLL_NANOS);
        }
      } while (inFlight.get() > 0);
      for (SinkWriter w : writers) {
        w.drainToFallback();
        if (!w.thread.isAlive()) {
          w.closeSink();
        }
      }
    } finally {
      closeDone.countDown();
      signalProgress();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The duration in nanoseconds, saturated so that adding it to a nanoTime cannot overflow. */
  private static long nanos(Duration d) {
    long cap = Long.MAX_VALUE / 4;
    if (d.isNegative()) {
      return 0;
    }
    return d.compareTo(Duration.ofNanos(cap)) >= 0 ? cap : d.toNanos();
  }

  private boolean anyFull() {
    long acceptedNow = accepted.get();
    for (SinkWriter w : writers) {
      if (acceptedNow - w.taken.get() >= capacity) {
        return true;
      }
    }
    return false;
  }

  private boolean allCompleted(long target) {
    for (SinkWriter w : writers) {
      if (w.completed.get() < target) {
        return false;
      }
    }
    return true;
  }

  private boolean awaitRoom() {
    waiters.incrementAndGet();
    try {
      synchronized (progress) {
        while (true) {
          if (closed) {
            return false;
          }
          if (onSinkFailure == OnSinkFailure.BLOCK && unhealthySinks.get() > 0) {
            return false;
          }
          if (!anyFull()) {
            return true;
          }
          // Writers notify on progress; the timeout only guards against a missed signal.
          progress.wait(100);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      waiters.decrementAndGet();
    }
  }

  private void signalProgress() {
    if (waiters.get() > 0) {
      synchronized (progress) {
        progress.notifyAll();
      }
    }
  }

  /** Joins until the deadline; returns whether the wait was interrupted. */
  private static boolean join(Thread thread, long deadline) {
    boolean interrupted = false;
    while (thread.isAlive()) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        break;
      }
      try {
        TimeUnit.NANOSECONDS.timedJoin(thread, remaining);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    return interrupted;
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static void logToFallback(AuditEvent event) {
    String line;
    try {
      line = AuditEventJson.toLine(event);
    } catch (RuntimeException e) {
      line = event.toString();
    }
    FALLBACK.error("{}", line);
  }

  /** One sink, its queue and its writer thread. */
  private final class SinkWriter implements Runnable {
    final AuditSink sink;
    final String name;
    final int batchSize;
    final ArrayBlockingQueue<Queued> queue;
    final Thread thread;
    /** Events taken off the queue. */
    final AtomicLong taken = new AtomicLong();
    /** Events written or given up on. */
    final AtomicLong completed = new AtomicLong();

    final AtomicLong written = new AtomicLong();
    final AtomicLong failedWrites = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    volatile boolean healthy = true;
    /** How many events a lingering writer holds in its batch; 0 when it is not lingering. */
    volatile int lingering;
    volatile boolean stopping;
    volatile boolean abandoned;
    /** The batch being written; whoever clears it (writer or close) accounts for it. */
    final AtomicReference<List<Queued>> inHand = new AtomicReference<>();
    /** Held around every call into the sink: the writer's and late synchronous writes. */
    final ReentrantLock sinkLock = new ReentrantLock();

    private boolean sinkClosed; // guarded by sinkLock
    private long lastWarnNanos; // writer thread only
    /** Whether the writer looks at its queue once per poll period (busy) rather than waits on it. */
    private boolean polling; // writer thread only
    /** When the writer last finished a batch (System.nanoTime). */
    private long lastBatchNanos; // writer thread only
    private boolean warnedOnce; // writer thread only
    private long suppressedWarnings; // writer thread only

    SinkWriter(AuditSink sink, String name, int batchSize) {
      this.sink = sink;
      this.name = name;
      this.batchSize = batchSize;
      this.queue = new ArrayBlockingQueue<>(capacity);
      this.lastBatchNanos = System.nanoTime() - pollNanos - 1; // no batch yet: not busy
      this.thread = new Thread(this, name);
      thread.setDaemon(true);
    }

    void enqueue(Queued event) {
      boolean interrupted = false;
      while (true) {
        try {
          queue.put(event);
          break;
        } catch (InterruptedException e) {
          interrupted = true; // never drop: keep waiting, and keep the interrupt for the caller
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void run() {
      List<Queued> batch = new ArrayList<>(Math.min(batchSize, 4096));
      while (true) {
        try {
          if (stopping && queue.isEmpty()) {
            break;
          }
          Queued first = next();
          if (first == null || first == STOP) {
            continue;
          }
          batch.add(first);
          queue.drainTo(batch, batchSize - 1);
          if (lingerNanos > 0) {
            linger(batch);
          }
          batch.removeIf(e -> e == STOP);
          taken.addAndGet(batch.size());
          signalProgress();
          List<Queued> entries = List.copyOf(batch);
          try {
            if (deliver(entries)) {
              for (Queued q : entries) {
                if (q.ticket != null) {
                  q.ticket.written();
                }
              }
            }
          } finally {
            completed.addAndGet(entries.size());
            signalProgress();
            lastBatchNanos = System.nanoTime();
          }
        } catch (InterruptedException e) {
          // nobody interrupts writers; carry on until stopped
        } catch (Throwable t) {
          LOG.error("audit writer {} failed unexpectedly; it carries on", name, t);
        } finally {
          batch.clear();
        }
      }
    }

    /**
     * The first entry of the next batch, or {@code null} to look again. Waits on the queue (each
     * event wakes the writer), except while events come several times per poll period: then the
     * writer parks for one period and takes what came meanwhile, so that recording an event wakes
     * no thread (on a small machine each wake-up costs more CPU than writing the event). It starts
     * polling when an event comes within half a period of the last batch, and stops after a
     * period without events, back to waiting on the queue: events further apart than that each
     * wake it once, as without polling, rather than once and again for an empty period. {@link
     * #submit} (a durable event, a full batch), {@link #flush} and {@link #close} unpark it early.
     */
    private Queued next() throws InterruptedException {
      if (polling) {
        LockSupport.parkNanos(this, pollNanos);
        Queued next = queue.poll();
        if (next != null || stopping) {
          return next;
        }
        polling = false;
      }
      Queued next = queue.take();
      polling = pollNanos > 0 && System.nanoTime() - lastBatchNanos < pollNanos / 2;
      return next;
    }

    /**
     * Waits up to the linger for more events, so that a sink whose every write costs much (a
     * commit that syncs a journal and the database) writes fewer, larger batches. Does not wait
     * once the batch is full, holds a durable event (its caller waits), or the dispatcher is
     * flushing or closing; {@link #submit}, {@link #flush} and {@link #close} unpark the writer
     * for those. Recording an event does not wake a lingering writer: that is the point.
     */
    private void linger(List<Queued> batch) {
      long deadline = System.nanoTime() + lingerNanos;
      int checked = 0;
      boolean durable = false;
      while (true) {
        for (; checked < batch.size(); checked++) {
          durable |= batch.get(checked).ticket != null || batch.get(checked) == STOP;
        }
        long left = deadline - System.nanoTime();
        if (durable || batch.size() >= batchSize || stopping || flushers.get() > 0 || left <= 0) {
          lingering = 0;
          return;
        }
        // Say how much is held, then look at the queue once more before parking: a submit that
        // saw the old count is then in the batch already, and one that sees the new count wakes
        // this writer when the batch would be full.
        lingering = batch.size();
        if (queue.drainTo(batch, batchSize - batch.size()) > 0) {
          continue;
        }
        LockSupport.parkNanos(this, left);
        lingering = 0;
        queue.drainTo(batch, batchSize - batch.size());
      }
    }

    /**
     * Writes the batch, retrying by the failure policy; never throws. Answers whether the sink
     * wrote it (false: it went to the fallback).
     */
    private boolean deliver(List<Queued> entries) {
      List<AuditEvent> events = new ArrayList<>(entries.size());
      for (Queued q : entries) {
        events.add(q.event);
      }
      events = Collections.unmodifiableList(events);
      inHand.set(entries);
      try {
        long backoff = minBackoffNanos;
        for (int attempt = 1; ; attempt++) {
          if (abandoned) {
            if (inHand.compareAndSet(entries, null)) {
              toFallback(entries);
            }
            return false;
          }
          Throwable failure = attempt(events);
          if (failure == null) {
            written.addAndGet(events.size());
            recovered(attempt);
            return true;
          }
          failedWrites.incrementAndGet();
          failed(failure, attempt, events.size());
          if (onSinkFailure == OnSinkFailure.CONTINUE && attempt >= maxAttempts) {
            LOG.warn(
                "audit sink {} failed {} times; {} events were logged to {} instead",
                name,
                attempt,
                events.size(),
                FALLBACK_LOGGER);
            if (inHand.compareAndSet(entries, null)) {
              toFallback(entries);
            }
            return false;
          }
          pause(backoff);
          backoff = Math.min(maxBackoffNanos, backoff > maxBackoffNanos / 2 ? maxBackoffNanos : backoff * 2);
        }
      } finally {
        inHand.compareAndSet(entries, null);
      }
    }

    /** Writes the batch once: null when the sink took it, else what it threw. */
    private @Nullable Throwable attempt(List<AuditEvent> events) {
      sinkLock.lock();
      try {
        if (sinkClosed) {
          return new IllegalStateException("the sink is closed");
        }
        sink.write(events);
        return null;
      } catch (Throwable t) {
        return t;
      } finally {
        sinkLock.unlock();
      }
    }

    /** A late event, after close began: one attempt, only if the sink is open and idle. */
    boolean writeDirectly(AuditEvent event) {
      if (!sinkLock.tryLock()) {
        return false;
      }
      try {
        if (sinkClosed) {
          return false;
        }
        sink.write(List.of(event));
        written.incrementAndGet();
        return true;
      } catch (Throwable t) {
        failedWrites.incrementAndGet();
        return false;
      } finally {
        sinkLock.unlock();
      }
    }

    private void pause(long nanos) {
      long deadline = System.nanoTime() + nanos;
      while (!abandoned) {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          return;
        }
        LockSupport.parkNanos(this, remaining);
      }
    }

    private void failed(Throwable failure, int attempt, int events) {
      if (healthy) {
        healthy = false;
        unhealthySinks.incrementAndGet();
        signalProgress();
      }
      long now = clock.nanoTime();
      if (!warnedOnce || now - lastWarnNanos >= WARN_INTERVAL_NANOS) {
        warnedOnce = true;
        lastWarnNanos = now;
        // The message may quote what the sink was given, so it is redacted like any text.
        LOG.warn(
            "audit sink {} failed to write {} events (attempt {}, {} warnings suppressed): {}: {}"
                + "; {}",
            name,
            events,
            attempt,
            suppressedWarnings,
            failure.getClass().getName(),
            Redactor.defaults().redactText(String.valueOf(failure.getMessage())),
            onSinkFailure == OnSinkFailure.BLOCK
                ? "retrying until it succeeds; calls are refused meanwhile"
                : "retrying up to " + maxAttempts + " attempts");
        suppressedWarnings = 0;
      } else {
        suppressedWarnings++;
      }
      LOG.debug("audit sink {} failure", name, failure);
    }

    private void recovered(int attempt) {
      if (!healthy) {
        healthy = true;
        unhealthySinks.decrementAndGet();
        LOG.info("audit sink {} recovered at {}", name, clock.instant());
        signalProgress();
      } else if (attempt > 1) {
        LOG.info("audit sink {} wrote after {} attempts", name, attempt);
      }
    }

    void toFallback(List<Queued> entries) {
      // Count first: a durable caller released below may read the statistics at once.
      dropped.addAndGet(entries.size());
      for (Queued q : entries) {
        try {
          fallback.accept(q.event);
        } catch (Throwable t) {
          LOG.error("the audit fallback failed", t);
        }
        if (q.ticket != null) {
          q.ticket.failed();
        }
      }
    }

    void drainToFallback() {
      List<Queued> rest = new ArrayList<>();
      queue.drainTo(rest);
      rest.removeIf(e -> e == STOP);
      if (!rest.isEmpty()) {
        taken.addAndGet(rest.size());
        toFallback(rest);
        completed.addAndGet(rest.size());
        signalProgress();
      }
    }

    void closeSink() {
      sinkLock.lock();
      try {
        if (!sinkClosed) {
          sinkClosed = true;
          sink.close();
        }
      } catch (Throwable t) {
        LOG.warn("audit sink {} failed to close: {}", name, t.toString());
      } finally {
        sinkLock.unlock();
      }
    }
  }

  /** An event in a sink's queue, with the ticket of a durable caller waiting for it, if any. */
  private static final class Queued {
    final AuditEvent event;
    final @Nullable Ticket ticket;

    Queued(AuditEvent event, @Nullable Ticket ticket) {
      this.event = event;
      this.ticket = ticket;
    }
  }

  /**
   * What a durable caller waits on: done when every sink wrote the event, or when one gave up on
   * it. Thread-safe.
   */
  private static final class Ticket {
    private final AtomicInteger remaining;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean failed;

    Ticket(int sinks) {
      this.remaining = new AtomicInteger(sinks);
    }

    void written() {
      if (remaining.decrementAndGet() == 0) {
        done.countDown();
      }
    }

    void failed() {
      failed = true;
      done.countDown();
    }

    boolean await(long timeoutNanos) {
      try {
        return done.await(timeoutNanos, TimeUnit.NANOSECONDS) && !failed;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  /** What {@link #admit()} does when a queue is full. */
  public enum WhenFull {
    /** Wait for room. */
    BLOCK,
    /** Refuse at once. */
    FAIL
  }

  /** What the dispatcher does while a sink fails. */
  public enum OnSinkFailure {
    /** Retry until the sink recovers; {@link #admit()} refuses calls meanwhile. */
    BLOCK,
    /**
     * Retry up to {@code maxAttempts} times, then log the batch to {@value #FALLBACK_LOGGER},
     * count it as dropped, and go on.
     */
    CONTINUE
  }

  /**
   * Counters of a dispatcher.
   *
   * @param recorded events given to {@link #record}
   * @param written events written, per sink
   * @param failedWrites failed {@link AuditSink#write} attempts, per sink
   * @param dropped events logged to the fallback instead of written, per sink
   * @param queueDepth events recorded but not yet written, for the furthest-behind sink
   * @param healthy whether no sink is failing now
   */
  public record Stats(
      long recorded, long written, long failedWrites, long dropped, int queueDepth, boolean healthy) {

    /** Validates. */
    public Stats {
      if (recorded < 0 || written < 0 || failedWrites < 0 || dropped < 0 || queueDepth < 0) {
        throw new IllegalArgumentException("audit counters must not be negative");
      }
    }
  }

  /**
   * Builds an {@link AuditDispatcher}; each setter validates at once. Not thread-safe.
   */
  public static final class Builder {
    private final List<AuditSink> sinks = new ArrayList<>();
    private int capacity = 65_536;
    private int batchSize = DEFAULT_BATCH_SIZE;
    private WhenFull whenFull = WhenFull.BLOCK;
    private OnSinkFailure onSinkFailure = OnSinkFailure.CONTINUE;
    private Duration minBackoff = Duration.ofMillis(10);
    private Duration maxBackoff = Duration.ofSeconds(5);
    private int maxAttempts = 10;
    private String threadName = "sentinel-audit";
    private Duration drainTimeout = Duration.ofSeconds(10);
    private Duration durableTimeout = Duration.ofSeconds(5);
    private Duration linger = Duration.ZERO;
    private Duration pollWhileBusy = Duration.ZERO;
    private Clock clock = Clock.system();
    private Consumer<AuditEvent> fallback = AuditDispatcher::logToFallback;

    private Builder() {}

    /** Adds a sink; it gets its own queue and writer thread. */
    public Builder sink(AuditSink sink) {
      sinks.add(Objects.requireNonNull(sink, "sink"));
      return this;
    }

    /** Sets each sink's queue capacity, in events; default 65,536. */
    public Builder capacity(int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity must be positive, got " + capacity);
      }
      this.capacity = capacity;
      return this;
    }

    /** Sets the most events handed to one {@link AuditSink#write}; default 512. */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
      }
      this.batchSize = batchSize;
      return this;
    }

    /** Sets what {@link #admit()} does when a queue is full; default {@link WhenFull#BLOCK}. */
    public Builder whenFull(WhenFull whenFull) {
      this.whenFull = Objects.requireNonNull(whenFull, "whenFull");
      return this;
    }

    /** Sets what happens while a sink fails; default {@link OnSinkFailure#CONTINUE}. */
    public Builder onSinkFailure(OnSinkFailure onSinkFailure) {
      this.onSinkFailure = Objects.requireNonNull(onSinkFailure, "onSinkFailure");
      return this;
    }

    /**
     * Sets the wait before the first retry and the most it doubles to; default 10 ms to 5 s.
     */
    public Builder retryBackoff(Duration min, Duration max) {
      Objects.requireNonNull(min, "min");
      Objects.requireNonNull(max, "max");
      if (min.isNegative() || min.isZero()) {
        throw new IllegalArgumentException("retry backoff min must be positive, got " + min);
      }
      if (max.compareTo(min) < 0) {
        throw new IllegalArgumentException(
            "retry backoff max must not be below min " + min + ", got " + max);
      }
      this.minBackoff = min;
      this.maxBackoff = max;
      return this;
    }

    /** Sets the attempts per batch under {@link OnSinkFailure#CONTINUE}; default 10. */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be positive, got " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** Sets the writer threads' name prefix; default {@code sentinel-audit}. */
    public Builder threadName(String threadName) {
      Objects.requireNonNull(threadName, "threadName");
      if (threadName.isBlank()) {
        throw new IllegalArgumentException("threadName must not be blank");
      }
      this.threadName = threadName;
      return this;
    }

    /** Sets how long {@link #close()} waits for the sinks to drain; default 10 s. */
    public Builder drainTimeout(Duration drainTimeout) {
      Objects.requireNonNull(drainTimeout, "drainTimeout");
      if (drainTimeout.isNegative()) {
        throw new IllegalArgumentException("drainTimeout must not be negative, got " + drainTimeout);
      }
      this.drainTimeout = drainTimeout;
      return this;
    }

    /**
     * Sets how long {@link #recordDurably} waits for the sinks to write its event before it
     * answers false; default 5 s.
     */
    public Builder durableTimeout(Duration durableTimeout) {
      Objects.requireNonNull(durableTimeout, "durableTimeout");
      if (durableTimeout.isNegative() || durableTimeout.isZero()) {
        throw new IllegalArgumentException(
            "durableTimeout must be positive, got " + durableTimeout);
      }
      this.durableTimeout = durableTimeout;
      return this;
    }

    /**
     * Sets how long a writer waits, after the first event of a batch, for more events before it
     * writes the batch; default zero (it writes what is queued at once). For sinks whose every
     * write has a high fixed cost, such as a database commit: at a few hundred calls per second
     * each event would otherwise be a commit of its own. The wait ends early when the batch is
     * full, when it holds an event recorded durably ({@link #recordDurably} callers do not wait
     * for it), on {@link AuditDispatcher#flush} and on {@link AuditDispatcher#close}. An event
     * recorded asynchronously reaches its sinks up to this much later, so a crash of the process
     * loses up to this much more of them.
     */
    public Builder linger(Duration linger) {
      Objects.requireNonNull(linger, "linger");
      if (linger.isNegative()) {
        throw new IllegalArgumentException("linger must not be negative, got " + linger);
      }
      this.linger = linger;
      return this;
    }

    /**
     * Sets the period at which a busy writer looks at its queue; default zero (each event wakes
     * its writer). When an event comes within half of this period of the writer's last batch,
     * the writer stops waiting to be woken: it parks for a period, writes what came meanwhile,
     * and so on until a period brings nothing. Recording an event then wakes no thread, which is
     * most of what an audit event costs a busy gateway on a small machine (BENCHMARKS.md); an
     * event recorded asynchronously reaches its sinks up to this much later while the writer
     * polls. An event that comes after a longer gap wakes the writer at once, as without it.
     * Durable events, full batches, {@link AuditDispatcher#flush} and {@link
     * AuditDispatcher#close} end a period early.
     */
    public Builder pollWhileBusy(Duration period) {
      Objects.requireNonNull(period, "period");
      if (period.isNegative()) {
        throw new IllegalArgumentException("pollWhileBusy must not be negative, got " + period);
      }
      this.pollWhileBusy = period;
      return this;
    }

    /** Sets the clock for timestamps and warning intervals; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Replaces the fallback logger, for tests that must see what fell back. */
    Builder fallback(Consumer<AuditEvent> fallback) {
      this.fallback = Objects.requireNonNull(fallback, "fallback");
      return this;
    }

    /** Builds the dispatcher and starts its writer threads. */
    public AuditDispatcher build() {
      if (sinks.isEmpty()) {
        throw new IllegalStateException("an audit dispatcher needs at least one sink");
      }
      return new AuditDispatcher(this);
    }
  }
}
