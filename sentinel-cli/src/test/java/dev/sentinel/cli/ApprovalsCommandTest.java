package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.cli.Cli.Run;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code sentinel approvals}, in-process, deciding the calls a real gateway runtime holds in a
 * real SQLite file.
 */
class ApprovalsCommandTest {
  private static final Pattern ID = Pattern.compile("approval ([a-z2-7]{12})");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path dir;

  private Path config() throws Exception {
    return config("");
  }

  /** The config, with more keys for the refunds rule (such as its {@code wait}). */
  private Path config(String ruleExtras) throws Exception {
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, "gateway: { start_timeout: 1s }\n"
        + "backends:\n  - name: billing\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "policy:\n  rules:\n"
        + "    - id: refunds\n      confirm: { tools: [\"billing__refund\"] }\n"
        + "      reason: refunds need a second person\n" + ruleExtras
        + "database: { url: \"jdbc:sqlite:" + dir.resolve("sentinel.db") + "\" }\n");
    return file;
  }

  @Test
  void aCallThatWaits_runsAsSoonAsAnOperatorApprovesItWithTheCli() throws Exception {
    Path file = config("      wait: 2m\n");
    GatewayConfig loaded = GatewayConfig.load(file, Map.of());
    try (JdbcStores stores = JdbcStores.open(loaded.database(), Clock.system());
        GatewayRuntime gateway = GatewayRuntime.start(loaded, Clock.system(), stores)) {
      java.util.concurrent.CompletableFuture<CallResult<String>> waiting =
          java.util.concurrent.CompletableFuture.supplyAsync(() -> refund(gateway, 40));
      Conditions.await("the call is queued", () -> Cli.run("approvals", "list", "--config",
          file.toString()).out().contains("pending"));
      Matcher m = Pattern.compile("(?m)^([a-z2-7]{12}) ").matcher(
          Cli.run("approvals", "list", "--config", file.toString()).out());
      assertThat(m.find()).isTrue();
      assertThat(waiting).as("the call waits for the operator").isNotDone();

      Run approved = Cli.run("approvals", "approve", m.group(1), "--as", "bob",
          "--config", file.toString());

      assertThat(approved.exit()).as(approved.err()).isZero();
      CallResult<String> ran = waiting.get(60, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(ran.outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(ran.value()).isEqualTo("refunded");
    }
  }

  private static CallResult<String> refund(GatewayRuntime gateway, int amount) {
    return gateway.sentinel().call(Call.as(Principal.of("ann"),
        Request.toolCall("billing", "billing__refund",
            JSON.readTree("{\"amount\":" + amount + "}"))), r -> "refunded");
  }

  @Test
  void aHeldCall_isListedAndRunsOnceAfterAnotherOperatorApprovesIt() throws Exception {
    Path file = config();
    GatewayConfig loaded = GatewayConfig.load(file, Map.of());
    try (JdbcStores stores = JdbcStores.open(loaded.database(), Clock.system());
        GatewayRuntime gateway = GatewayRuntime.start(loaded, Clock.system(), stores)) {
      CallResult<String> held = refund(gateway, 40);
      assertThat(held.outcome()).isEqualTo(Outcome.UNCONFIRMED);
      Matcher m = ID.matcher(held.refusal().reason());
      assertThat(m.find()).isTrue();
      String id = m.group(1);

      Run list = Cli.run("approvals", "list", "--config", file.toString());
      assertThat(list.exit()).as(list.err()).isZero();
      assertThat(list.out()).startsWith("ID").contains(id).contains("pending").contains("ann")
          .contains("billing__refund").contains("refunds").contains("0/1");
      assertThat(Cli.run("approvals", "show", id, "--config", file.toString()).out())
          .contains("refunds need a second person").contains("{\"amount\":40}");

      Run self = Cli.run("approvals", "approve", id, "--as", "ann", "--config", file.toString());
      assertThat(self.exit()).isEqualTo(Main.FAILED);
      assertThat(self.err()).contains("four eyes");

      Run approved = Cli.run("approvals", "approve", id, "--as", "bob",
          "--config", file.toString());
      assertThat(approved.exit()).as(approved.err()).isZero();
      assertThat(approved.out()).contains("Approved " + id);

      assertThat(refund(gateway, 40).outcome()).isEqualTo(Outcome.ALLOWED);
      assertThat(refund(gateway, 40).outcome()).isEqualTo(Outcome.UNCONFIRMED);
      assertThat(Cli.run("approvals", "list", "--all", "--config", file.toString()).out())
          .contains(id + "  used");
    }
  }

  @Test
  void unknownIdsAndDecidedApprovals_getAClearError() throws Exception {
    Path file = config();
    GatewayConfig loaded = GatewayConfig.load(file, Map.of());
    String id;
    try (JdbcStores stores = JdbcStores.open(loaded.database(), Clock.system());
        GatewayRuntime gateway = GatewayRuntime.start(loaded, Clock.system(), stores)) {
      Matcher m = ID.matcher(refund(gateway, 40).refusal().reason());
      assertThat(m.find()).isTrue();
      id = m.group(1);
    }
    Run unknown = Cli.run("approvals", "approve", "nosuchthing0", "--as", "bob",
        "--config", file.toString());
    assertThat(unknown.exit()).isEqualTo(Main.FAILED);
    assertThat(unknown.err()).contains("no approval with id 'nosuchthing0'");
    assertThat(Cli.run("approvals", "deny", id, "--as", "bob", "--reason", "no",
        "--config", file.toString()).exit()).isZero();
    Run twice = Cli.run("approvals", "approve", id, "--as", "carol", "--config", file.toString());
    assertThat(twice.exit()).isEqualTo(Main.FAILED);
    assertThat(twice.err()).contains("is denied; only a pending approval can be decided");
    assertThat(Cli.run("approvals", "approve", id, "--config", file.toString()).exit())
        .isEqualTo(Main.USAGE);
  }
}
