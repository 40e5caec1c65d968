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
import dev.sentinel.core.audit.AuditMode;
import java.io.PrintStream;
import java.util.List;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * The child JVM of {@link DurableCrashTest}: records calls in durable mode on a SQLite file from
 * several threads, forever, and prints {@code ack <event id>} for every call that returned (whose
 * intent was committed), flushed at once. The test kills it with SIGKILL.
 *
 * <p>Arguments: the SQLite file, the number of threads.
 */
public final class DurableCrashChild {
  private DurableCrashChild() {}

  /** Runs until killed. */
  public static void main(String[] args) throws Exception {
    Database database = Database.open("jdbc:sqlite:" + args[0], null, null);
    int threads = Integer.parseInt(args[1]);
    Sentinel sentinel =
        Sentinel.builder()
            .authenticator(Authenticator.fixed(Principal.of("crash", "dev")))
            .policy(ctx -> Decision.allow(List.of("all"), ""))
            .audit(AuditDispatcher.builder().sink(JdbcAuditSink.create(database)).build())
            .auditMode(AuditMode.DURABLE)
            .build();
    PrintStream out = System.out;
    synchronized (out) {
      out.println("ready");
      out.flush();
    }
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread worker =
          new Thread(
              () -> {
                for (long i = 0; ; i++) {
                  Request request =
                      Request.toolCall(
                          "fs",
                          "fs__read",
                          JsonNodeFactory.instance.objectNode().put("n", thread + "-" + i));
                  CallResult<String> result =
                      sentinel.call(Call.of(Credentials.launch(), request), r -> "ok");
                  if (result.outcome() == Outcome.ALLOWED) {
                    synchronized (out) {
                      out.println("ack " + result.eventId());
                      out.flush();
                    }
                  }
                }
              },
              "caller-" + t);
      worker.start();
    }
    Thread.currentThread().join(); // until killed
  }
}
