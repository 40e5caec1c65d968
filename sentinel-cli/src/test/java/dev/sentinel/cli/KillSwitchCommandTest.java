package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Clock;
import dev.sentinel.cli.Cli.Run;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sentinel killswitch}, in-process, against a real SQLite file and a real gateway. */
class KillSwitchCommandTest {
  @TempDir Path dir;
  private Path config;

  @BeforeEach
  void writeConfig() throws Exception {
    config = dir.resolve("sentinel.yaml");
    Files.writeString(config, "gateway: { start_timeout: 1s }\n"
        + "backends:\n"
        + "  - name: fs\n"
        + "    stdio: { command: /nonexistent/sentinel-test-server }\n"
        + "policy: { rules: [ { id: all, allow: {} } ] }\n"
        + "kill_switch: { tools: { \"rm*\": never } }\n"
        + "database: { url: \"jdbc:sqlite:" + dir.resolve("sentinel.db") + "\" }\n");
    // The database exists once a gateway or a key command has opened it.
    try (JdbcStores stores = JdbcStores.open(
        GatewayConfig.loadDatabase(config, Map.of()), Clock.system())) {
      assertThat(stores.description()).contains("sentinel.db");
    }
  }

  @Test
  void disableStatusEnable_changeWhatAGatewayOnTheDatabaseEnforces() throws Exception {
    Run off = Cli.run("killswitch", "disable", "--tool", "write*", "--reason", "incident 9",
        "--config", config.toString());
    assertThat(off.exit()).as(off.err()).isZero();
    assertThat(off.out()).contains("Switched off tool 'write*'")
        .contains("tool   write*  operator  incident 9")
        .contains("tool   rm*     config    never");

    GatewayConfig loaded = GatewayConfig.load(config, Map.of());
    try (JdbcStores stores = JdbcStores.open(loaded.database(), Clock.system());
        GatewayRuntime gateway = GatewayRuntime.start(loaded, Clock.system(), stores)) {
      assertThat(gateway.sentinel().killSwitch().state().tools())
          .containsEntry("write*", "incident 9").containsEntry("rm*", "never");

      Run all = Cli.run("killswitch", "disable", "--all", "--reason", "stop",
          "--db", "jdbc:sqlite:" + dir.resolve("sentinel.db"));
      assertThat(all.exit()).as(all.err()).isZero();
      assertThat(gateway.syncKillSwitch()).isTrue();
      assertThat(gateway.sentinel().killSwitch().state().all()).isEqualTo("stop");

      Run on = Cli.run("killswitch", "enable", "--all", "--config", config.toString());
      assertThat(on.exit()).as(on.err()).isZero();
      assertThat(gateway.syncKillSwitch()).isTrue();
      assertThat(gateway.operatorKillSwitch()).isEqualTo(
          new KillSwitch.State(null, Map.of(), Map.of("write*", "incident 9"), Map.of()));
    }

    Run status = Cli.run("killswitch", "status", "--config", config.toString());
    assertThat(status.out()).startsWith("SCOPE").contains("write*").contains("rm*")
        .doesNotContain("stop");
    Cli.run("killswitch", "enable", "--tool", "write*", "--config", config.toString());
    assertThat(Cli.run("killswitch", "status", "--db",
        "jdbc:sqlite:" + dir.resolve("sentinel.db")).out()).startsWith("Nothing is switched off");
  }

  @Test
  void badChanges_areUsageErrorsAndChangeNothing() {
    Run noReason = Cli.run("killswitch", "disable", "--all", "--config", config.toString());
    assertThat(noReason.exit()).isEqualTo(Main.USAGE);
    assertThat(noReason.err()).contains("--reason");

    Run two = Cli.run("killswitch", "disable", "--all", "--tool", "x", "--reason", "r",
        "--config", config.toString());
    assertThat(two.exit()).isEqualTo(Main.USAGE);

    Run blank = Cli.run("killswitch", "disable", "--all", "--reason", " ",
        "--config", config.toString());
    assertThat(blank.exit()).isEqualTo(Main.USAGE);
    assertThat(blank.err()).contains("a reason is required");

    Run backend = Cli.run("killswitch", "disable", "--backend", "nope", "--reason", "r",
        "--config", config.toString());
    assertThat(backend.exit()).isEqualTo(Main.USAGE);
    assertThat(backend.err()).contains("unknown backend 'nope'; backends: fs");

    assertThat(Cli.run("killswitch", "status", "--config", config.toString()).out())
        .doesNotContain("operator");
  }
}
