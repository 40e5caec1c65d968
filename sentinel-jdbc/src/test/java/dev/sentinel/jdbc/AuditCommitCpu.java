package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * CPU time of the writing thread per audit row written through {@link JdbcAuditSink} to a new
 * SQLite file, by batch size: what one commit costs apart from its rows, which the wall time of
 * a loaded machine hides. Not a test. Arguments: a folder, the batch size, the rows to write
 * after as many rows of warm-up. Command in BENCHMARKS.md (the audit trail's commit CPU).
 */
public final class AuditCommitCpu {
  private AuditCommitCpu() {}

  /** Writes, then prints one line: thread CPU and wall time per row. */
  public static void main(String[] args) throws Exception {
    Path dir = Files.createDirectories(Path.of(args[0]));
    int batch = Integer.parseInt(args[1]);
    int rows = Integer.parseInt(args[2]);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    AuditEvent[] events = AuditStoreThroughput.events(rows * 2);
    try (Database db = Database.open("jdbc:sqlite:" + dir.resolve("sentinel.db"), null, null);
        JdbcAuditSink sink = JdbcAuditSink.create(db)) {
      int i = 0;
      for (; i < rows; i += batch) { // warm-up
        sink.write(List.of(Arrays.copyOfRange(events, i, i + batch)));
      }
      // Thread CPU includes the kernel's time in this thread (the journal's writes and syncs).
      long cpu = mx.getCurrentThreadCpuTime();
      long wall = System.nanoTime();
      for (; i < 2 * rows; i += batch) {
        sink.write(List.of(Arrays.copyOfRange(events, i, i + batch)));
      }
      cpu = mx.getCurrentThreadCpuTime() - cpu;
      wall = System.nanoTime() - wall;
      System.out.printf("batch %d: %d rows, thread CPU %.1f us/row, wall %.1f us/row, commits %d%n",
          batch, rows, cpu / 1e3 / rows, wall / 1e3 / rows, rows / batch);
    }
  }
}
