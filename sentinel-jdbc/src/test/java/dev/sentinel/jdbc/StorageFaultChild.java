package dev.sentinel.jdbc;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * The child JVM of {@link StorageFaultTest}: records calls in async mode on a SQLite file, pulls
 * the shared-memory file away under the running store (truncates {@code <db>-shm} to 0 bytes, if
 * there is one), records more calls, and exits once everything is written. Prints {@code ready},
 * {@code ack <event id>} for every call answered, {@code shm truncated} or {@code no shm}, and
 * {@code done} before a normal exit. A store that maps the file dies here with SIGBUS.
 *
 * <p>Arguments: the SQLite file, the number of calls before and after the fault.
 */
public final class StorageFaultChild {
  private StorageFaultChild() {}

  /** Runs the calls, the fault and the calls again, then exits 0. */
  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int calls = Integer.parseInt(args[1]);
    Database database = Database.open("jdbc:sqlite:" + file, null, null);
    AuditDispatcher audit =
        AuditDispatcher.builder()
            .sink(JdbcAuditSink.create(database))
            .onSinkFailure(AuditDispatcher.OnSinkFailure.BLOCK)
            .build();
    Sentinel sentinel =
        Sentinel.builder()
            .authenticator(Authenticator.fixed(Principal.of("fault", "dev")))
            .policy(ctx -> Decision.allow(List.of("all"), ""))
            .audit(audit)
            .build();
    PrintStream out = System.out;
    out.println("ready");
    call(sentinel, out, "before", calls);
    // Written, so the store's connection is open (in WAL mode it has the -shm file mapped now).
    if (!audit.flush(Duration.ofMinutes(1))) {
      throw new IllegalStateException("the first calls' records were not written");
    }
    Path shm = file.resolveSibling(file.getFileName() + "-shm");
    if (Files.exists(shm)) {
      try (FileChannel c = FileChannel.open(shm, StandardOpenOption.WRITE)) {
        c.truncate(0); // what a disk pulled away does to a mapping: the next access faults
      }
      out.println("shm truncated");
    } else {
      out.println("no shm");
    }
    out.flush();
    call(sentinel, out, "after", calls);
    if (!audit.flush(Duration.ofMinutes(1))) {
      throw new IllegalStateException("the last calls' records were not written");
    }
    sentinel.close();
    database.close();
    out.println("done");
    out.flush();
  }

  private static void call(Sentinel sentinel, PrintStream out, String phase, int calls) {
    for (int i = 0; i < calls; i++) {
      Request request =
          Request.toolCall("fs", "fs__read", JsonNodeFactory.instance.objectNode().put("n", phase + i));
      CallResult<String> result = sentinel.call(Call.of(Credentials.launch(), request), r -> "ok");
      if (result.outcome() == Outcome.ALLOWED) {
        out.println("ack " + result.eventId());
        out.flush();
      }
    }
  }
}
