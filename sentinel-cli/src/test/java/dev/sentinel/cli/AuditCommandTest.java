package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code sentinel audit}, in-process, against a real SQLite trail written by a real pipeline. */
class AuditCommandTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;
  private final Trails.SetClock clock = new Trails.SetClock();

  private String db() {
    return "jdbc:sqlite:" + dir.resolve("sentinel.db");
  }

  @BeforeEach
  void writeTrail() {
    // 2026-03-01T10:00Z: ann reads twice and is denied a write; an hour later bob reads once.
    Trails.record(dir.resolve("sentinel.db"), clock, "ann", 2, 1);
    clock.now.set(clock.now.get().plus(Duration.ofHours(1)));
    Trails.record(dir.resolve("sentinel.db"), clock, "bob", 1, 0);
  }

  @Test
  void verify_intactTrail_exitsZero() {
    Run run = Cli.run("audit", "verify", "--db", db());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("OK: the audit trail in SQLite database")
        .contains("is intact (4 records verified)");
  }

  @Test
  void verify_afterABackupIsRestored_passes_andTheRestoredChainGrows() throws Exception {
    // docs/deploy.md: SQLite's online backup while the trail is open (sqlite3's .backup is the
    // same API), and VACUUM INTO; a restore is copying the file back.
    Path backups = Files.createDirectories(dir.resolve("backups"));
    try (Connection open = DriverManager.getConnection(db())) {
      open.createStatement().executeUpdate("backup to " + backups.resolve("online.db"));
      open.createStatement().execute("VACUUM INTO '" + backups.resolve("vacuumed.db") + "'");
    }
    for (String backup : new String[] {"online.db", "vacuumed.db"}) {
      Path restored = Files.createDirectories(dir.resolve("restored-" + backup));
      Files.copy(backups.resolve(backup), restored.resolve("sentinel.db"));
      Run run = Cli.run("audit", "verify", "--db", "jdbc:sqlite:" + restored.resolve("sentinel.db"));
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.out()).contains("is intact (4 records verified)");

      Trails.record(restored.resolve("sentinel.db"), clock, "cy", 1, 1);
      Run grown = Cli.run("audit", "verify", "--db", "jdbc:sqlite:" + restored.resolve("sentinel.db"));
      assertThat(grown.exit()).as(grown.err()).isZero();
      assertThat(grown.out()).contains("is intact (6 records verified)");
    }
  }

  @Test
  void verify_afterTamperingWithRawSql_exitsOneNamingTheRecord() throws Exception {
    try (Connection c = DriverManager.getConnection(db())) {
      c.createStatement().execute(
          "UPDATE sentinel_audit SET event = replace(event, '/w/1', '/w/9') WHERE seq = 2");
    }
    Run run = Cli.run("audit", "verify", "--db", db());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("FAILED").contains("not intact at record seq 2: ");
  }

  @Test
  void verify_afterDeletingARecord_namesTheGap() throws Exception {
    try (Connection c = DriverManager.getConnection(db())) {
      c.createStatement().execute("DELETE FROM sentinel_audit WHERE seq = 3");
    }
    Run run = Cli.run("audit", "verify", "--db", db());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("seq 3");
  }

  /** Deletes the records after {@code seq} and rewrites the chain row to match. */
  private void truncateTo(long seq) throws Exception {
    try (Connection c = DriverManager.getConnection(db())) {
      c.createStatement().execute("DELETE FROM sentinel_audit WHERE seq > " + seq);
      c.createStatement().execute("UPDATE sentinel_audit_chain SET head_seq = " + seq
          + ", head_hash = (SELECT hash FROM sentinel_audit WHERE seq = " + seq + ")");
    }
  }

  private static Path pem(Path file, String label, Key key) throws Exception {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(key.getEncoded());
    return Files.writeString(file,
        "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n");
  }

  @Test
  void head_printsOneLineThatVerifyExpectHeadTakesBack() {
    Run head = Cli.run("audit", "head", "--db", db());
    assertThat(head.exit()).as(head.err()).isZero();
    assertThat(head.out()).matches("4:sha256:[0-9a-f]{64}@2026-03-01T11:00:00Z\n");

    Run verify = Cli.run("audit", "verify", "--expect-head", head.out().strip(), "--db", db());
    assertThat(verify.exit()).as(verify.out() + verify.err()).isZero();
    assertThat(verify.out()).contains("is intact (4 records verified); it holds the expected head.");
  }

  @Test
  void verify_expectHead_afterTheNewestRecordsWereDeleted_exitsOne() throws Exception {
    String head = Cli.run("audit", "head", "--db", db()).out().strip();
    truncateTo(2);
    assertThat(Cli.run("audit", "verify", "--db", db()).exit())
        .as("the chain alone does not show it").isZero();

    Run run = Cli.run("audit", "verify", "--expect-head", head, "--db", db());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("not intact at record seq 3: the expected head 4:sha256:")
        .contains("the chain now ends at seq 2");
  }

  @Test
  void verify_badExpectHead_isAUsageError() {
    Run run = Cli.run("audit", "verify", "--expect-head", "4:abc", "--db", db());
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("--expect-head: expected a chain head");
  }

  @Test
  void checkpoint_signsTheHead_andVerifyWithCheckpointsCatchesTruncation() throws Exception {
    KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Path key = pem(dir.resolve("checkpoint.key"), "PRIVATE KEY", keys.getPrivate());
    Path pub = pem(dir.resolve("checkpoint.pub"), "PUBLIC KEY", keys.getPublic());
    Path file = dir.resolve("anchors/checkpoints.jsonl");

    Run taken = Cli.run("audit", "checkpoint", "--key", key.toString(), "--append",
        file.toString(), "--db", db());
    assertThat(taken.exit()).as(taken.err()).isZero();
    JsonNode line = JSON.readTree(taken.out());
    assertThat(line.get("seq").asLong()).isEqualTo(4);
    assertThat(Files.readAllLines(file)).containsExactly(taken.out().strip());

    Run ok = Cli.run("audit", "verify", "--checkpoints", file.toString(), "--trust",
        pub.toString(), "--db", db());
    assertThat(ok.exit()).as(ok.out() + ok.err()).isZero();
    assertThat(ok.out()).contains("it holds 1 signed checkpoint.");

    truncateTo(3);
    Run caught = Cli.run("audit", "verify", "--checkpoints", file.toString(), "--trust",
        pub.toString(), "--db", db());
    assertThat(caught.exit()).isEqualTo(Main.FAILED);
    assertThat(caught.out()).contains("the checkpoint at seq 4 hash sha256:")
        .contains("the chain now ends at seq 3");
  }

  @Test
  void verify_checkpointSignedByAnUntrustedKey_exitsOne() throws Exception {
    KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Path key = pem(dir.resolve("other.key"), "PRIVATE KEY", other.getPrivate());
    Path pub = pem(dir.resolve("checkpoint.pub"), "PUBLIC KEY", keys.getPublic());
    Path file = dir.resolve("checkpoints.jsonl");
    Cli.run("audit", "checkpoint", "--key", key.toString(), "--append", file.toString(),
        "--db", db());

    Run run = Cli.run("audit", "verify", "--checkpoints", file.toString(), "--trust",
        pub.toString(), "--db", db());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("is not signed by a trusted key").doesNotContain("Exception");
  }

  @Test
  void verify_checkpointsWithoutTrust_isAUsageError() {
    Run run = Cli.run("audit", "verify", "--checkpoints", "cp.jsonl", "--db", db());
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("--checkpoints needs --trust PUBKEY");
  }

  @Test
  void query_defaultTable_withFilters() {
    Run all = Cli.run("audit", "query", "--db", db());
    assertThat(all.exit()).as(all.err()).isZero();
    assertThat(all.out().lines().findFirst().orElseThrow()).contains("SEQ", "PRINCIPAL", "TOOL");
    assertThat(all.out().lines().count()).isEqualTo(5);

    Run denied = Cli.run("audit", "query", "--outcome", "denied", "--db", db());
    assertThat(denied.out().lines().skip(1).toList()).singleElement().asString()
        .contains("ann").contains("fs__write_file").contains("DENIED").contains("no-writes");
    Run bob = Cli.run("audit", "query", "--principal", "bob", "--format", "jsonl", "--db", db());
    assertThat(bob.out().lines().toList()).singleElement().asString().contains("\"bob\"");
    Run byRule = Cli.run("audit", "query", "--rule", "reads", "--tool", "fs__read_file",
        "--format", "jsonl", "--db", db());
    assertThat(byRule.out().lines().count()).isEqualTo(3);
    Run limited = Cli.run("audit", "query", "--limit", "1", "--newest-first", "--format",
        "jsonl", "--db", db());
    assertThat(limited.out().lines().toList()).singleElement().asString().contains("\"bob\"");
    Run window = Cli.run("audit", "query", "--from", "2026-03-01T10:30:00Z", "--to",
        "2026-03-02", "--format", "jsonl", "--db", db());
    assertThat(window.out().lines().count()).isEqualTo(1);
    Run none = Cli.run("audit", "query", "--principal", "nobody", "--db", db());
    assertThat(none.out()).contains("(no matching audit records)");
  }

  @Test
  void query_csv_hasAHeaderAndOneLinePerRecord() {
    Run run = Cli.run("audit", "query", "--format", "csv", "--db", db());
    List<String> lines = run.out().lines().toList();
    assertThat(lines.get(0)).startsWith("seq,id,time,");
    assertThat(lines).hasSize(5);
    assertThat(run.out()).contains("\r\n");
  }

  @Test
  void query_badOptions_areUsageErrors() {
    Run outcome = Cli.run("audit", "query", "--outcome", "alowed", "--db", db());
    assertThat(outcome.exit()).isEqualTo(Main.USAGE);
    assertThat(outcome.err()).contains("unknown outcome 'alowed'").contains("allowed");
    Run format = Cli.run("audit", "query", "--format", "xml", "--db", db());
    assertThat(format.exit()).isEqualTo(Main.USAGE);
    assertThat(format.err()).contains("unknown format 'xml'");
    Run range = Cli.run("audit", "query", "--from", "2026-03-02", "--to", "2026-03-01",
        "--db", db());
    assertThat(range.exit()).isEqualTo(Main.USAGE);
    assertThat(range.err()).contains("the time range is empty");
  }

  @Test
  void export_jsonlToAFile_withProgressOnStderr() throws Exception {
    Path out = dir.resolve("out/trail.jsonl");
    Files.createDirectories(out.getParent());
    Run run = Cli.run("audit", "export", "--output", out.toString(), "--progress", "--db", db());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("Exported 4 records to " + out);
    List<String> lines = Files.readAllLines(out);
    assertThat(lines).hasSize(4);
    for (String line : lines) {
      JsonNode event = JSON.readTree(line);
      assertThat(event.path("principal").asString()).isIn("ann", "bob");
    }
    assertThat(Files.exists(dir.resolve("out/trail.jsonl.part"))).isFalse();
  }

  @Test
  void export_csvToStdout_withFilters() {
    Run run = Cli.run("audit", "export", "--format", "csv", "--principal", "ann", "--no-progress",
        "--db", db());
    assertThat(run.exit()).isZero();
    assertThat(run.out().lines().count()).isEqualTo(4);
    assertThat(run.err()).isEmpty();
  }

  @Test
  void purge_asksForYesThenDeletesTheOldestAndTheRestVerifies() {
    Run asked = Cli.run("audit", "purge", "--before", "2026-03-01T10:30:00Z", "--db", db());
    assertThat(asked.exit()).isEqualTo(Main.FAILED);
    assertThat(asked.err()).contains("add --yes");
    assertThat(Cli.run("audit", "query", "--format", "jsonl", "--db", db()).out().lines().count())
        .isEqualTo(4);

    Run purged = Cli.run("audit", "purge", "--before", "2026-03-01T10:30:00Z", "--yes",
        "--db", db());
    assertThat(purged.exit()).as(purged.err()).isZero();
    assertThat(purged.out()).contains("Purged 3 records before 2026-03-01T10:30:00Z");
    Run rest = Cli.run("audit", "query", "--format", "jsonl", "--db", db());
    assertThat(rest.out().lines().toList()).singleElement().asString().contains("\"bob\"");
    assertThat(Cli.run("audit", "verify", "--db", db()).exit()).isZero();
  }

  @Test
  void purge_needsExactlyOneCutOff() {
    assertThat(Cli.run("audit", "purge", "--yes", "--db", db()).exit()).isEqualTo(Main.USAGE);
    Run bad = Cli.run("audit", "purge", "--older-than", "soon", "--yes", "--db", db());
    assertThat(bad.exit()).isEqualTo(Main.USAGE);
    assertThat(bad.err()).contains("--older-than: 'soon' is not a duration");
  }

  @Test
  void audit_withConfig_readsTheDefaultDatabaseBesideIt() throws Exception {
    Path config = dir.resolve("gw.yaml");
    Files.writeString(config, "backends: [ { name: fs, stdio: { command: x } } ]\n"
        + "policy: { rules: [] }\n");
    Run run = Cli.run("audit", "verify", "--config", config.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains(dir.resolve("sentinel.db").toString()).contains("4 records");
  }

  @Test
  void audit_onAMissingDatabase_exitsOne() {
    Run run = Cli.run("audit", "verify", "--db", "jdbc:sqlite:" + dir.resolve("typo.db"));
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("typo.db").contains("does not exist");
    assertThat(Files.exists(dir.resolve("typo.db"))).isFalse();
  }
}
