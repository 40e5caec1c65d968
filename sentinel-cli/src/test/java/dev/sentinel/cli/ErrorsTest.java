package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import dev.sentinel.core.testing.Conditions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Errors a person can act on: one line with the cause and a hint, exit code 1, and the stack
 * trace only with {@code --debug}; the HTTP gateway binds its port before anything else starts.
 */
class ErrorsTest {
  @TempDir Path dir;

  /**
   * A config whose one backend leaves a marker file when it is spawned, with its database in
   * the test's folder.
   */
  private Path config(String database) throws Exception {
    Path marker = dir.resolve("backend-was-spawned");
    String yaml = String.join("\n",
        "backends:",
        "  - name: marked",
        "    stdio: { command: sh, args: [\"-c\", " + GatewayRig.quote("touch '" + marker
            + "'; exec cat") + "] }",
        "policy: { rules: [] }",
        "database: { url: " + GatewayRig.quote(database) + " }",
        "");
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, yaml, StandardCharsets.UTF_8);
    return file;
  }

  private static List<String> lines(String text) {
    return text.lines().filter(line -> !line.isBlank()).toList();
  }

  @Test
  void http_whenPortInUse_saysSoInOneLine_beforeOpeningTheDatabaseOrSpawningBackends()
      throws Exception {
    Path db = dir.resolve("sentinel.db");
    Path config = config("jdbc:sqlite:" + db);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Run run = CliProcess.run(dir, "http", "-c", config.toString(), "--port",
          String.valueOf(port));

      assertThat(run.exit()).isEqualTo(Main.FAILED);
      assertThat(lines(run.err())).singleElement().asString()
          .startsWith("sentinel: cannot listen on 127.0.0.1:" + port
              + ": the port is in use by another process. Hint: ")
          .contains("--port", "server.port");
      assertThat(dir.resolve("backend-was-spawned")).doesNotExist();
      assertThat(db).doesNotExist();
    }
  }

  @Test
  void http_whenPortInUse_withDebug_printsTheTraceToo() throws Exception {
    Path config = config("jdbc:sqlite:" + dir.resolve("sentinel.db"));
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Run run = Cli.run("http", "-c", config.toString(), "--port",
          String.valueOf(taken.getLocalPort()), "--debug");

      assertThat(run.exit()).isEqualTo(Main.FAILED);
      assertThat(run.err()).contains("the port is in use", "java.net.BindException",
          "\tat dev.sentinel.cli.");
    }
  }

  @Test
  void http_whenDatabaseUnreachable_saysSoInOneLine_beforeSpawningBackends() throws Exception {
    int closedPort;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = probe.getLocalPort();
    }
    Path config = config("jdbc:postgresql://127.0.0.1:" + closedPort + "/sentinel");
    Run run = Cli.run("http", "-c", config.toString(), "--port", "0");

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(lines(run.err())).singleElement().asString()
        .contains("127.0.0.1:" + closedPort, "Check that PostgreSQL is running")
        .doesNotContain("\tat ");
    assertThat(dir.resolve("backend-was-spawned")).doesNotExist();
  }

  @Test
  void http_whenConfigMissing_saysWhereItLooked() {
    Run run = Cli.run("http", "-c", dir.resolve("nowhere.yaml").toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(lines(run.err())).singleElement().asString()
        .contains("nowhere.yaml", "the config file does not exist; check the path");
  }

  @Test
  void http_whenItStarts_servesOnTheBoundPort() throws Exception {
    Path config = config("jdbc:sqlite:" + dir.resolve("sentinel.db"));
    try (CliProcess cli = CliProcess.start(dir, "http", "-c", config.toString(), "--port", "0",
        "--no-watch")) {
      Pattern endpoint = Pattern.compile("MCP on (http://127\\.0\\.0\\.1:\\d+/mcp)");
      Conditions.await("the gateway announces its endpoint",
          () -> endpoint.matcher(cli.err()).find());
      Matcher found = endpoint.matcher(cli.err());
      assertThat(found.find()).isTrue();
      URI livez = URI.create(found.group(1)).resolve("/livez");
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(livez).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
    }
  }

  @Command(name = "denied", description = "fails as a file it cannot open")
  static final class Denied implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new UncheckedIOException(new AccessDeniedException("/var/lib/sentinel/sentinel.db"));
    }
  }

  @Test
  void permissionDenied_isOneLineWithTheFileAndAHint_traceOnlyWithDebug() {
    CommandLine line = Main.commandLine(List.of(new Denied()));
    StringWriter err = new StringWriter();
    line.setErr(new PrintWriter(err, true));
    line.setOut(new PrintWriter(new StringWriter(), true));

    assertThat(line.execute("denied")).isEqualTo(Main.FAILED);
    assertThat(lines(err.toString())).singleElement().asString()
        .startsWith("sentinel: permission denied: /var/lib/sentinel/sentinel.db. Hint: give the"
            + " user running sentinel");

    StringWriter debug = new StringWriter();
    line.setErr(new PrintWriter(debug, true));
    assertThat(line.execute("denied", "--debug")).isEqualTo(Main.FAILED);
    assertThat(debug.toString()).contains("permission denied", "\tat ");
  }

  @Test
  void unexpectedError_asksForAReport_withoutATrace() {
    CommandLine line = Main.commandLine(List.of(new MainTest.Boom()));
    StringWriter err = new StringWriter();
    line.setErr(new PrintWriter(err, true));
    line.setOut(new PrintWriter(new StringWriter(), true));

    assertThat(line.execute("boom")).isEqualTo(Main.FAILED);
    assertThat(lines(err.toString())).singleElement().asString()
        .contains("unexpected error", "kaput", "--debug", "report");
  }
}
