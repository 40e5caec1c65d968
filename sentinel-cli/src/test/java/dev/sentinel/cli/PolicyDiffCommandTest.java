package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import dev.sentinel.cli.Cli.Run;
import dev.sentinel.core.audit.AuditEventJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

class PolicyDiffCommandTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  @TempDir Path dir;
  private Path before;
  private Path after;
  private Path trail;

  @BeforeEach
  void files() throws Exception {
    before = Files.writeString(dir.resolve("old.yaml"), String.join("\n",
        "roles: { dev: {} }",
        "rules:",
        "  - id: devs-query",
        "    allow: { roles: [dev], tools: [\"db__query\"] }",
        ""));
    after = Files.writeString(dir.resolve("new.yaml"), String.join("\n",
        "roles: { dev: {} }",
        "rules:",
        "  - id: devs-query",
        "    allow: { roles: [dev], tools: [\"db__query\"] }",
        "  - id: no-drop",
        "    deny: { tools: [\"db__query\"], when: { \"/sql\": { regex: \"(?i)drop\" } } }",
        ""));
    StringBuilder lines = new StringBuilder();
    String[] sql = {"select 1", "drop table t", "select 2", "DROP TABLE u"};
    for (int i = 0; i < sql.length; i++) {
      lines.append(AuditEventJson.toLine(new AuditEvent("e" + i, Instant.parse("2026-12-01T10:00:0" + i + "Z"),
          "gw", "ann", List.of("dev"), null, null, null, "tools/call", "db", "db__query",
          JSON.createObjectNode().put("sql", sql[i]), null, Effect.ALLOW, List.of("devs-query"), null, -1,
          null, Outcome.ALLOWED, null, null, null, -1, null, "r1"))).append('\n');
    }
    lines.append("{ not json\n");
    trail = Files.writeString(dir.resolve("audit.jsonl"), lines);
  }

  @Test
  void diff_withReplay_namesTheChangedCallsAndExitsOne() {
    Run run = Cli.run("policy", "diff", before.toString(), after.toString(), "--replay", trail.toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("rules:\n  + no-drop\n").contains("roles: unchanged")
        .contains("replay: 4 calls re-decided (0 records skipped, 1 unreadable lines): 2 decided differently")
        .contains("change: ALLOW -> DENY 2").contains("by rule: no-drop 2")
        .contains("ann tools/call db__query: ALLOW (devs-query) -> DENY (no-drop) [e1]")
        .contains("[e3]").doesNotContain("[e0]");
    assertThat(run.err()).contains("audit.jsonl:5: not an audit record");
  }

  @Test
  void diff_withNoChangedDecisionAndPassingTests_exitsZero() throws Exception {
    Path tests = Files.writeString(dir.resolve("policy.test.yaml"), String.join("\n",
        "tests:",
        "  - name: devs query",
        "    principal: { id: ann, roles: [dev] }",
        "    request: { backend: db, tool: db__query, arguments: { sql: select 1 } }",
        "    expect: allow",
        ""));

    Run same = Cli.run("policy", "diff", before.toString(), before.toString(), "--replay", trail.toString(),
        "--tests", tests.toString());

    assertThat(same.err()).doesNotContain("Exception");
    assertThat(same.out()).contains("rules: unchanged").contains(": 0 decided differently")
        .contains("tests " + tests + ": old policy 1 passed, 0 failed; new policy 1 passed, 0 failed");
    assertThat(same.exit()).isZero();
  }

  @Test
  void diff_replayAudit_readsTheDatabasesTrailSinceWhenItIsTold() throws Exception {
    Path db = dir.resolve("sentinel.db");
    Trails.SetClock clock = new Trails.SetClock();
    clock.now.set(java.time.Instant.now().minus(java.time.Duration.ofDays(10)));
    Trails.record(db, clock, "old-ann", 2, 0); // before the window: not replayed
    clock.now.set(java.time.Instant.now().minus(java.time.Duration.ofHours(1)));
    Trails.record(db, clock, "ann", 3, 1);
    Path reads = Files.writeString(dir.resolve("reads.yaml"), String.join("\n",
        "rules:",
        "  - id: reads",
        "    allow: { tools: [\"fs__read_*\"] }",
        "  - id: no-writes",
        "    deny: { tools: [\"fs__write_*\"] }",
        ""));
    Path none = Files.writeString(dir.resolve("none.yaml"), String.join("\n",
        "rules:",
        "  - id: no-writes",
        "    deny: { tools: [\"fs__write_*\"] }",
        ""));

    Run run = Cli.run("policy", "diff", reads.toString(), none.toString(), "--replay-audit", "7d",
        "--db", "jdbc:sqlite:" + db);

    assertThat(run.err()).doesNotContain("Exception");
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("replay: 4 calls re-decided (0 records skipped): 3 decided differently")
        .contains("change: ALLOW -> DENY 3").contains("by principal: ann 3").doesNotContain("old-ann");
  }

  @Test
  void diff_replayAuditWithoutADatabase_isAUsageError() {
    Run run = Cli.run("policy", "diff", before.toString(), after.toString(), "--replay-audit", "7d");

    assertThat(run.exit()).isNotZero();
    assertThat(run.err()).contains("--config FILE").contains("--db URL");
  }

  @Test
  void diff_aMissingExport_isOneLine() {
    Run run = Cli.run("policy", "diff", before.toString(), after.toString(), "--replay",
        dir.resolve("missing.jsonl").toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("the audit export").contains("does not exist");
  }
}
