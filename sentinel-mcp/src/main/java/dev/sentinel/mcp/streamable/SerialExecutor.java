package dev.sentinel.mcp.streamable;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in the order given, on a shared pool or on the thread that gives one
 * to an idle executor ({@link #runOrQueue}): a session's delivery thread without a thread per
 * session. Thread-safe.
 */
final class SerialExecutor implements Executor {
  private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

  private final Executor pool;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
  private boolean running;

  SerialExecutor(Executor pool) {
    this.pool = pool;
  }

  @Override
  public void execute(Runnable task) {
    synchronized (tasks) {
      tasks.add(task);
      if (running) {
        return;
      }
      running = true;
    }
    resume();
  }

  /**
   * Runs the task on the calling thread when nothing runs or waits, else queues it as {@link
   * #execute} does: the same order, without a hand-off to the pool when the session is idle. What
   * is queued meanwhile runs on the pool afterwards, never on the calling thread, which a flood of
   * other tasks would otherwise hold. For a caller that holds no lock and may run the task's work.
   */
  void runOrQueue(Runnable task) {
    synchronized (tasks) {
      if (running) {
        tasks.add(task);
        return;
      }
      running = true;
    }
    try {
      task.run();
    } catch (RuntimeException e) {
      log.warn("a delivery task failed", e);
    } finally {
      resume();
    }
  }

  private void drain() {
    boolean idle = false;
    try {
      while (true) {
        Runnable task;
        synchronized (tasks) {
          task = tasks.poll();
          if (task == null) {
            running = false;
            idle = true;
            return;
          }
        }
        try {
          task.run();
        } catch (RuntimeException e) {
          log.warn("a delivery task failed", e);
        }
      }
    } finally {
      if (!idle) {
        // An Error left the loop (on a caller's thread or the pool's): what waits behind the
        // failed task still runs, and the executor is not left running forever with nobody draining.
        resume();
      }
    }
  }

  /** Hands what is queued to the pool (after an inline run, or a drain an Error ended); idle when nothing is. */
  private void resume() {
    synchronized (tasks) {
      if (tasks.isEmpty()) {
        running = false;
        return;
      }
    }
    try {
      pool.execute(this::drain);
    } catch (RejectedExecutionException e) {
      synchronized (tasks) {
        tasks.clear();
        running = false;
      }
      log.debug("delivery refused: the gateway is stopping");
    }
  }
}
