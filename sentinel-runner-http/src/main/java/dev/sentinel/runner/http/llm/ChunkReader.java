package dev.sentinel.runner.http.llm;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Content;
import org.jspecify.annotations.Nullable;

/**
 * Reads a Jetty content source chunk by chunk, waiting at most a given time for each: the model
 * route's and the passthrough's reader of upstream answers. One thread at a time.
 */
final class ChunkReader {
  private final Content.Source source;
  private final Semaphore ready = new Semaphore(0);
  private boolean demanding;

  ChunkReader(Content.Source source) {
    this.source = source;
  }

  /** The next chunk, or {@code null} when none came within the time. */
  Content.@Nullable Chunk next(long nanos) throws InterruptedException {
    long deadline = System.nanoTime() + nanos;
    while (true) {
      if (!demanding) {
        Content.Chunk chunk = source.read();
        if (chunk != null) {
          return chunk;
        }
        demanding = true;
        source.demand(ready::release);
      }
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0 || !ready.tryAcquire(remaining, TimeUnit.NANOSECONDS)) {
        return null;
      }
      demanding = false;
    }
  }
}
