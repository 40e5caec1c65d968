package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.core.testing.Conditions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Storage faults under a running SQLite store: the process survives them, calls are refused
 * (JSON-RPC -32016) while the trail cannot be written, no acknowledged record is lost, and the
 * store recovers by itself when the disk does. These tests work as root, where permissions do not
 * stop writes: the faults are a shared-memory file truncated under its mapping, and a journal
 * path the disk cannot write (a directory in its place: every open of it fails with an I/O error).
 */
class StorageFaultTest {
  @TempDir Path dir;

  private Path file() {
    return dir.resolve("sentinel.db");
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES) // a safety net for a hung child, not a measure
  void shmPulledAwayUnderARunningStore_processSurvives_andEveryAcknowledgedRecordIsStored()
      throws Exception {
    Path stderr = dir.resolve("child.err");
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process child =
        new ProcessBuilder(
                java,
                "-XX:-CreateCoredumpOnCrash",
                "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"),
                "-cp",
                System.getProperty("java.class.path"),
                StorageFaultChild.class.getName(),
                file().toString(),
                "200")
            .directory(dir.toFile())
            .redirectError(stderr.toFile())
            .start();
    Set<String> acknowledged = new HashSet<>();
    List<String> notes = new ArrayList<>();
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        if (line.startsWith("ack ")) {
          acknowledged.add(line.substring("ack ".length()));
        } else {
          notes.add(line);
        }
      }
      child.waitFor();
    } finally {
      child.destroyForcibly();
      child.waitFor();
    }

    // A SIGBUS in native code: the JVM prints "A fatal error has been detected" on stdout, writes
    // hs_err_<pid>.log and exits non-zero (134 when it aborts, 135 if the signal killed it).
    assertThat(child.exitValue())
        .as("the child died (exit %d); its output: %s; stderr: %s; crash reports: %s",
            child.exitValue(), notes, tail(stderr),
            siblings().stream().filter(f -> f.startsWith("hs_err")).collect(Collectors.toList()))
        .isZero();
    assertThat(notes).containsExactly("ready", "no shm", "done");
    assertThat(acknowledged).hasSize(400);
    try (Database db = Database.open("jdbc:sqlite:" + file(), null, null)) {
      Set<String> stored = new HashSet<>();
      AuditQuery.builder().build().forEach(db, r -> stored.add(r.event().id()));
      assertThat(stored).containsAll(acknowledged);
      VerifyReport report = AuditVerifier.verify(db);
      assertThat(report.ok()).as(report.problem()).isTrue();
    }
  }

  @Test
  void open_readsBackARollbackJournalAndNoMemoryMapping_andLeavesNoSharedMemoryFile()
      throws Exception {
    try (Database db = Database.open("jdbc:sqlite:" + file(), null, null)) {
      JdbcAuditSink sink = JdbcAuditSink.create(db);
      sink.write(List.of(AuditStoreThroughput.events(1)[0]));

      db.jdbi().useHandle(h -> {
        assertThat(h.createQuery("PRAGMA journal_mode").mapTo(String.class).one())
            .isEqualTo("truncate");
        assertThat(h.createQuery("PRAGMA mmap_size").mapTo(long.class).one()).isZero();
      });
      // The sink's connection is open: still nothing that a connection would map.
      assertThat(siblings()).doesNotContain("sentinel.db-shm", "sentinel.db-wal");
      sink.close();
    }
  }

  @Test
  void open_fileLeftInWalMode_isConvertedAndKeepsItsRecords() throws Exception {
    try (Database db = Database.open("jdbc:sqlite:" + file(), null, null)) {
      JdbcAuditSink sink = JdbcAuditSink.create(db);
      sink.write(List.of(AuditStoreThroughput.events(1)[0]));
      sink.close();
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file());
        Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode = WAL"); // as an earlier Sentinel left it
    }

    try (Database db = Database.open("jdbc:sqlite:" + file(), null, null)) {
      assertThat(AuditVerifier.verify(db)).isEqualTo(VerifyReport.intact(1));
      String journalMode = db.jdbi().withHandle(
          h -> h.createQuery("PRAGMA journal_mode").mapTo(String.class).one());
      assertThat(journalMode).isEqualTo("truncate");
    }
    assertThat(siblings()).doesNotContain("sentinel.db-shm", "sentinel.db-wal");
  }

  @Test
  void open_whileAnotherProcessHoldsTheFileInWalMode_isRefusedSayingWhy() throws Exception {
    Database.open("jdbc:sqlite:" + file(), null, null).close();
    try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file());
        Statement s = other.createStatement()) {
      try (ResultSet mode = s.executeQuery("PRAGMA journal_mode = WAL")) {
        mode.next();
        assertThat(mode.getString(1)).isEqualTo("wal");
      }
      s.execute("SELECT count(*) FROM sentinel_audit"); // holds the file open in WAL mode

      assertThatThrownBy(() -> Database.builder("jdbc:sqlite:" + file())
              .busyTimeout(Duration.ofMillis(50)).open())
          .isInstanceOf(DatabaseException.class)
          .hasMessageContaining(file().toString())
          .hasMessageContaining("in WAL mode and another process has it open")
          .hasMessageContaining("SIGBUS");
    }
  }

  @ParameterizedTest
  @EnumSource(AuditMode.class)
  void diskCannotBeWritten_callsAreRefusedWithMinus32016_andEveryRecordLandsWhenItRecovers(
      AuditMode mode) throws Exception {
    AtomicInteger invoked = new AtomicInteger();
    try (Database db = Database.open("jdbc:sqlite:" + file(), null, null)) {
      AuditDispatcher audit = AuditDispatcher.builder()
          .sink(JdbcAuditSink.create(db))
          .onSinkFailure(AuditDispatcher.OnSinkFailure.BLOCK)
          .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(20))
          .build();
      Sentinel sentinel = Sentinel.builder()
          .authenticator(Authenticator.fixed(Principal.of("alice", "dev")))
          .policy(ctx -> Decision.allow(List.of("all"), ""))
          .audit(audit)
          .auditMode(mode)
          .build();
      List<String> answered = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        answered.add(allowed(call(sentinel, invoked, "before-" + i)));
      }
      assertThat(audit.flush(Duration.ofSeconds(30))).isTrue();

      Path journal = breakTheDisk();
      CallResult<String> during = call(sentinel, invoked, "during");
      if (mode == AuditMode.ASYNC) {
        // Admitted before the sink failed: answered, so its record must never be lost.
        answered.add(allowed(during));
      } else {
        // Its intent could not be committed (within the durable timeout): refused, and the
        // backend never saw it.
        assertThat(during.outcome()).isEqualTo(Outcome.UNAVAILABLE);
      }
      Conditions.await("the sink to report failure", () -> !audit.stats().healthy());
      int before = invoked.get();
      CallResult<String> refused = call(sentinel, invoked, "refused");
      assertThat(refused.outcome()).isEqualTo(Outcome.UNAVAILABLE);
      assertThat(ErrorCode.forRefusal(refused.outcome()).code()).isEqualTo(-32016);
      assertThat(invoked.get()).isEqualTo(before);

      repair(journal);
      Conditions.await("the sink to recover", () -> audit.stats().healthy());
      answered.add(allowed(call(sentinel, invoked, "after")));
      assertThat(audit.flush(Duration.ofSeconds(30))).isTrue();

      assertThat(audit.stats().dropped()).isZero();
      Set<String> stored = new HashSet<>();
      AuditQuery.builder().build().forEach(db, r -> stored.add(r.event().id()));
      assertThat(stored).containsAll(answered).contains(during.eventId(), refused.eventId());
      assertThat(AuditVerifier.verify(db).ok()).isTrue();
      sentinel.close();
    }
  }

  /** Puts a directory where SQLite keeps its journal: every write, and every read, fails. */
  private Path breakTheDisk() throws IOException {
    Path journal = dir.resolve("sentinel.db-journal");
    Files.deleteIfExists(journal); // TRUNCATE mode keeps an empty journal between transactions
    Files.createDirectory(journal);
    return journal;
  }

  private static void repair(Path journal) throws IOException {
    Files.delete(journal);
  }

  private static CallResult<String> call(Sentinel sentinel, AtomicInteger invoked, String n) {
    Request request =
        Request.toolCall("fs", "fs__read", JsonNodeFactory.instance.objectNode().put("n", n));
    return sentinel.call(Call.of(Credentials.launch(), request), r -> {
      invoked.incrementAndGet();
      return "ok";
    });
  }

  private static String allowed(CallResult<String> result) {
    assertThat(result.outcome()).isEqualTo(Outcome.ALLOWED);
    return result.eventId();
  }

  private List<String> siblings() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).collect(Collectors.toList());
    }
  }

  private static String tail(Path file) {
    try {
      String text = Files.exists(file) ? Files.readString(file) : "";
      return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    } catch (IOException e) {
      return e.toString();
    }
  }
}
