package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.cli.Cli.Run;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * {@code sentinel breakglass}, in-process, on the SQLite file two real gateway runtimes share:
 * a window the CLI opens is seen by both (after their sync), tags their calls, and ends when the
 * CLI closes it.
 */
class BreakGlassCommandTest {
  private static final Pattern ID = Pattern.compile("window ([a-z2-7]{12})");

  @TempDir Path dir;

  private Path config(boolean breakGlass) throws Exception {
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, "gateway: { start_timeout: 1s }\n"
        + "backends:\n  - name: db\n    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "policy:\n  rules:\n"
        + "    - id: read\n      allow: { tools: [\"db__read\"] }\n"
        + (breakGlass ? "  break_glass:\n    max_ttl: 1h\n    rules:\n"
            + "      - id: oncall-write\n        allow: { tools: [\"db__write\"] }\n" : "")
        + "database: { url: \"jdbc:sqlite:" + dir.resolve("sentinel.db") + "\" }\n");
    // The database as a gateway's first start leaves it.
    JdbcStores.open(GatewayConfig.load(file, Map.of()).database(), Clock.system()).close();
    return file;
  }

  private static CallResult<String> write(GatewayRuntime gateway) {
    return gateway.sentinel().call(Call.as(Principal.of("olga"), Request.toolCall("db",
        "db__write", JsonNodeFactory.instance.objectNode())), r -> "written");
  }

  @Test
  void aWindowOpenedByTheCli_isSeenByTwoGateways_tagsTheirCalls_andEndsWhenClosed()
      throws Exception {
    Path file = config(true);
    GatewayConfig loaded = GatewayConfig.load(file, Map.of());
    try (JdbcStores storesA = JdbcStores.open(loaded.database(), Clock.system());
        GatewayRuntime a = GatewayRuntime.start(loaded, Clock.system(), storesA);
        JdbcStores storesB = JdbcStores.open(loaded.database(), Clock.system());
        GatewayRuntime b = GatewayRuntime.start(loaded, Clock.system(), storesB)) {
      assertThat(write(a).outcome()).isEqualTo(Outcome.DENIED);

      Run open = Cli.run("breakglass", "open", "--principal", "olga", "--reason", "db on fire",
          "--ttl", "30m", "--as", "ops-lead", "--config", file.toString());

      assertThat(open.exit()).as(open.err()).isZero();
      Matcher m = ID.matcher(open.out());
      assertThat(m.find()).isTrue();
      String id = m.group(1);
      a.breakGlassWindows().refresh(); // what each gateway's sync does every sync_interval
      b.breakGlassWindows().refresh();
      for (GatewayRuntime gateway : new GatewayRuntime[] {a, b}) {
        CallResult<String> written = write(gateway);
        assertThat(written.outcome()).isEqualTo(Outcome.ALLOWED);
        assertThat(written.decision().rules()).containsExactly("oncall-write",
            Sentinel.BREAK_GLASS);
      }
      assertThat(Cli.run("breakglass", "list", "--config", file.toString()).out())
          .contains(id, "open", "olga", "ops-lead", "db on fire");

      Run close = Cli.run("breakglass", "close", id, "--config", file.toString());
      assertThat(close.exit()).as(close.err()).isZero();
      a.breakGlassWindows().refresh();
      b.breakGlassWindows().refresh();
      assertThat(write(a).outcome()).isEqualTo(Outcome.DENIED);
      assertThat(write(b).outcome()).isEqualTo(Outcome.DENIED);
      assertThat(Cli.run("breakglass", "list", "--all", "--config", file.toString()).out())
          .contains(id, "closed");
    }
  }

  @Test
  void open_withoutABreakGlassSection_isRefusedWithTheReason() throws Exception {
    Path file = config(false);
    Run open = Cli.run("breakglass", "open", "--principal", "olga", "--reason", "why",
        "--config", file.toString());
    assertThat(open.exit()).isEqualTo(Main.FAILED);
    assertThat(open.err()).contains("no 'break_glass:' section");
  }

  @Test
  void open_overTheCap_orWithoutTheConfig_isAUsageError() throws Exception {
    Path file = config(true);
    Run over = Cli.run("breakglass", "open", "--principal", "olga", "--reason", "why", "--ttl",
        "2h", "--config", file.toString());
    assertThat(over.exit()).isEqualTo(2);
    assertThat(over.err()).contains("max_ttl (1h)");
    Run noConfig = Cli.run("breakglass", "open", "--principal", "olga", "--reason", "why",
        "--db", "jdbc:sqlite:" + dir.resolve("sentinel.db"));
    assertThat(noConfig.exit()).isEqualTo(2);
    assertThat(noConfig.err()).contains("needs the gateway's config");
  }

  @Test
  void enroll_showsTheSecretOnce_asAnOtpauthUri() throws Exception {
    Path file = config(true);
    Run enroll = Cli.run("breakglass", "enroll", "--principal", "olga", "--config",
        file.toString());
    assertThat(enroll.exit()).as(enroll.err()).isZero();
    assertThat(enroll.out()).startsWith("otpauth://totp/Sentinel:olga?secret=")
        .contains("issuer=Sentinel", "only time the secret is shown");
  }
}
