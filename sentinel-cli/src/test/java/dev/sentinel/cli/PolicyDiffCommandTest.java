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
  void diff_aMissingExport_isOneLine() {
    Run run = Cli.run("policy", "diff", before.toString(), after.toString(), "--replay",
        dir.resolve("missing.jsonl").toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("the audit export").contains("does not exist");
  }
}
