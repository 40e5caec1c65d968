package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM recording in durable mode on SQLite is killed with SIGKILL under load: every call
 * it acknowledged has its record, and the chain verifies.
 */
class DurableCrashTest {
  private static final int ACKS_BEFORE_KILL = 2_000;

  @TempDir Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES) // a safety net for a broken child, not a measure
  void sigkillMidLoad_everyAcknowledgedCallHasItsRecord_andTheChainVerifies() throws Exception {
    Path file = dir.resolve("crash.db");
    Path stderr = dir.resolve("child.err");
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process child =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                DurableCrashChild.class.getName(),
                file.toString(),
                "8")
            .redirectError(stderr.toFile())
            .start();
    Set<String> acknowledged = new HashSet<>();
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line = lines.readLine();
      assertThat(line).as("child did not start: %s", errors(stderr)).isEqualTo("ready");
      while (acknowledged.size() < ACKS_BEFORE_KILL) {
        line = lines.readLine();
        assertThat(line).as("child ended early: %s", errors(stderr)).isNotNull();
        acknowledged.add(line.substring("ack ".length()));
      }
      // SIGKILL on Linux, mid-load. Lines still in the pipe are lost with it (destroy closes the
      // stream): those calls were acknowledged too, but the test checks the ones it saw.
      child.destroyForcibly();
      child.waitFor();
    } finally {
      child.destroyForcibly();
      child.waitFor();
    }
    assertThat(child.exitValue()).isEqualTo(137); // 128 + SIGKILL

    try (Database db = Database.open("jdbc:sqlite:" + file, null, null)) {
      Set<String> stored = new HashSet<>();
      List<AuditRecord> pending = new ArrayList<>();
      AuditQuery.builder().includeIntents(true).build().forEach(db, r -> {
        stored.add(r.event().id());
        if (r.pending()) {
          pending.add(r);
        }
      });
      assertThat(stored).containsAll(acknowledged);
      assertThat(pending).hasSizeGreaterThanOrEqualTo(acknowledged.size());
      VerifyReport report = AuditVerifier.verify(db);
      assertThat(report.ok()).as(report.problem()).isTrue();
    }
  }

  private static String errors(Path stderr) {
    try {
      return Files.exists(stderr) ? Files.readString(stderr) : "";
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }
}
