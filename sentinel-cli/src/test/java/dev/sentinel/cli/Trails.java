package dev.sentinel.cli;

import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.jdbc.JdbcStores;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Writes real audit trails for the CLI tests: calls through a real pipeline whose audit sink is
 * the database's, on a clock the test sets.
 */
final class Trails {
  /** A wall clock the test sets; monotonic time follows it. */
  static final class SetClock implements Clock {
    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-03-01T10:00:00Z"));

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public long nanoTime() {
      Instant t = now.get();
      return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }
  }

  private static final String POLICY = String.join("\n",
      "rules:",
      "  - id: reads",
      "    allow: { tools: [\"fs__read_*\"] }",
      "  - id: no-writes",
      "    deny: { tools: [\"fs__write_*\"] }",
      "    reason: read only",
      "");

  private Trails() {}

  /**
   * Records calls as {@code principal}: {@code reads} allowed reads of {@code fs__read_file},
   * then {@code denials} denied {@code fs__write_file} calls.
   */
  static void record(Path db, Clock clock, String principal, int reads, int denials) {
    try (JdbcStores stores =
        JdbcStores.open(DatabaseSettings.of("jdbc:sqlite:" + db, null, null), clock)) {
      Sentinel sentinel = Sentinel.builder()
          .clock(clock)
          .instance("cli-test")
          .authenticator(Authenticator.fixed(Principal.of(principal, "developer")))
          .policy(PolicyEngine.parse(POLICY, "policy.yaml"))
          .audit(AuditDispatcher.builder().clock(clock).sink(stores.auditSink().orElseThrow())
              .build())
          .build();
      try (sentinel) {
        for (int i = 0; i < reads + denials; i++) {
          String tool = i < reads ? "fs__read_file" : "fs__write_file";
          sentinel.call(Call.of(Credentials.launch(), Request.toolCall("fs", tool,
              JsonNodeFactory.instance.objectNode().put("path", "/w/" + i))), r -> "ok");
        }
        if (!sentinel.audit().flush(Duration.ofSeconds(30))) {
          throw new IllegalStateException("the audit trail was not flushed");
        }
      }
    }
  }
}
