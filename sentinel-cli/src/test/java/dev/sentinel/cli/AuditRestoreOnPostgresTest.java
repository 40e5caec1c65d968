package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.cli.Cli.Run;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/deploy.md's PostgreSQL backup and restore, done as it says: the real {@code sentinel
 * stdio} gateway records its audit trail in a PostgreSQL 15 (zonky's embedded binaries), {@code
 * pg_dump --format=custom} takes the backup, {@code pg_restore} puts it into a fresh database,
 * and {@code sentinel audit verify} passes on the restored copy, and fails once a restored row
 * is altered. Needs Debian's {@code pg_dump} and {@code pg_restore} 15 or later (package
 * postgresql-client-15, which .ci/run installs); skips, saying so, without them.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AuditRestoreOnPostgresTest {
  private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)");

  @TempDir Path dir;

  @Test
  void verify_afterPgDumpAndPgRestore_passes_andFailsOnceARestoredRowIsAltered() throws Exception {
    for (String tool : List.of("pg_dump", "pg_restore")) {
      int major = majorVersion(tool);
      Assumptions.assumeTrue(major >= 15, tool + " 15 or later is needed on PATH to dump and restore"
          + " PostgreSQL 15 (Debian: apt-get install postgresql-client-15; .ci/run installs it); found "
          + (major < 0 ? "none" : "version " + major));
    }
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder()
        .setServerConfig("listen_addresses", "127.0.0.1").start()) {
      admin(postgres, "CREATE DATABASE trail");
      admin(postgres, "CREATE DATABASE restored");
      String trail = "postgresql://postgres@127.0.0.1:" + postgres.getPort() + "/trail";
      String restored = "postgresql://postgres@127.0.0.1:" + postgres.getPort() + "/restored";

      long recorded = recordThroughTheGateway(postgres, "jdbc:" + trail.replace("postgres@", "") + "?user=postgres");
      assertThat(recorded).isGreaterThanOrEqualTo(4);

      Path dump = dir.resolve("sentinel.dump");
      run("pg_dump", "--format=custom", "--file=" + dump, trail);
      run("pg_restore", "--no-owner", "--exit-on-error", "--dbname=" + restored, dump.toString());

      String restoredJdbc = "jdbc:" + restored.replace("postgres@", "") + "?user=postgres";
      Run verify = Cli.run("audit", "verify", "--db", restoredJdbc);
      assertThat(verify.exit()).as(verify.out() + verify.err()).isZero();
      assertThat(verify.out()).contains("is intact (" + recorded + " records verified)");

      try (Connection c = DriverManager.getConnection(restoredJdbc);
          Statement s = c.createStatement()) {
        assertThat(s.executeUpdate("UPDATE sentinel_audit SET event = replace(event, '\"tester\"',"
            + " '\"mallory\"') WHERE seq = 2")).isOne();
      }
      Run tampered = Cli.run("audit", "verify", "--db", restoredJdbc);
      assertThat(tampered.exit()).as(tampered.out() + tampered.err()).isEqualTo(Main.FAILED);
      assertThat(tampered.out()).contains("FAILED").contains("not intact at record seq 2");
    }
  }

  /**
   * Runs {@code sentinel stdio} on the database, calls through it (three echoes allowed, one
   * denied), stops it; answers how many records the trail holds.
   */
  private long recordThroughTheGateway(EmbeddedPostgres postgres, String url) throws Exception {
    Path config = dir.resolve("sentinel.yaml");
    Files.writeString(config, String.join("\n",
        "gateway: { name: restore-test, request_timeout: 60s, start_timeout: 60s }",
        "identity: { principal: { id: tester, roles: [user] } }",
        "database: { url: " + GatewayRig.quote(url) + " }",
        "backends:",
        "  - name: echo",
        "    stdio: { command: " + GatewayRig.quote(GatewayRig.JAVA) + ", args: ["
            + GatewayRig.quote(GatewayRig.CLASSPATH_ARGS) + ", "
            + GatewayRig.quote("dev.sentinel.mcp.transport.EchoMcpServer") + "] }",
        "policy:",
        "  rules:",
        "    - id: echoes",
        "      allow: { tools: [\"echo__echo\"] }",
        "    - id: no-secrets",
        "      deny: { tools: [\"echo__echo\"], when: { \"/text\": { prefix: \"secret\" } } }",
        "      reason: no secrets in echoes",
        "audit: { sinks: [ { database: {} } ] }",
        ""), StandardCharsets.UTF_8);
    GatewayRig.Client client = GatewayRig.connect(config, "echo");
    ProcessHandle gateway = GatewayRig.gateway(config);
    List<ProcessHandle> all = Stream.concat(gateway.descendants(), Stream.of(gateway))
        .collect(Collectors.toList());
    try {
      for (String text : List.of("one", "two", "three")) {
        assertThat(GatewayRig.text(client.sdk().callTool(
            new McpSchema.CallToolRequest("echo__echo", Map.of("text", text))))).contains(text);
      }
      McpError denied = catchThrowableOfType(McpError.class, () -> client.sdk().callTool(
          new McpSchema.CallToolRequest("echo__echo", Map.of("text", "secret"))));
      assertThat(denied.getJsonRpcError().code()).isEqualTo(-32012);
      client.sdk().closeGracefully();
      GatewayRig.awaitEnded("the gateway and its backend ended", all);
    } finally {
      GatewayRig.kill(all);
    }
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery("SELECT count(*) FROM sentinel_audit")) {
      rows.next();
      return rows.getLong(1);
    }
  }

  private static void admin(EmbeddedPostgres postgres, String sql) throws Exception {
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** The major version of a PostgreSQL client tool on PATH, or -1 when there is none. */
  private static int majorVersion(String tool) {
    try {
      Process process = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
        return -1;
      }
      Matcher matcher = VERSION.matcher(out);
      return matcher.find() ? Integer.parseInt(matcher.group(1)) : -1;
    } catch (java.io.IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private void run(String... command) throws Exception {
    Path output = dir.resolve("command.log");
    Process process = new ProcessBuilder(new ArrayList<>(List.of(command)))
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).as(String.join(" ", command)).isTrue();
    } finally {
      process.destroyForcibly();
    }
    assertThat(process.exitValue()).as(String.join(" ", command) + ": " + Files.readString(output)).isZero();
  }
}
