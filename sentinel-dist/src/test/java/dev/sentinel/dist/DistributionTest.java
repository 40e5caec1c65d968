package dev.sentinel.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release tarball, as a user gets it: unpacked into an empty folder (no source tree, no
 * Maven, no repository around it), its demo and {@code sentinel http} run from there with the
 * JDK running this test. Runs after {@code package} (see the pom).
 */
class DistributionTest {
  static final String VERSION = System.getProperty("sentinel.version");
  /** Set by the pom's execution after package; absent in a run before the tarball exists. */
  static final String TARBALL_PROPERTY = System.getProperty("sentinel.tarball");
  static final String JAVA_HOME = System.getProperty("java.home");

  @TempDir static Path root;
  static Path home;

  @BeforeAll
  static void unpack() throws Exception {
    // Selected by name (-Dtest=...) in the unit-test execution, before package: nothing to test.
    Assumptions.assumeTrue(TARBALL_PROPERTY != null, "runs after package (integration-test)");
    Path tarball = Path.of(TARBALL_PROPERTY);
    assertThat(tarball).exists().hasFileName("sentinel-" + VERSION + ".tar.gz");
    Run tar = run(root, List.of("tar", "-xzf", tarball.toString(), "-C", root.toString()), Map.of());
    assertThat(tar.exit()).as(tar.output()).isZero();
    home = root.resolve("sentinel-" + VERSION);
  }

  record Run(int exit, String output) {}

  /** Runs a command in {@code dir} with only PATH, HOME and JAVA_HOME, and waits for it. */
  static Run run(Path dir, List<String> command, Map<String, String> env) throws Exception {
    Path output = Files.createTempFile(root, "output", ".txt");
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(output.toFile());
    environment(builder, env);
    Process process = builder.start();
    try {
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).as(String.join(" ", command)).isTrue();
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
    return new Run(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
  }

  private static void environment(ProcessBuilder builder, Map<String, String> env) {
    Map<String, String> environment = builder.environment();
    String path = environment.get("PATH");
    environment.clear();
    environment.put("PATH", Path.of(JAVA_HOME, "bin") + ":" + (path == null ? "/usr/bin:/bin" : path));
    environment.put("HOME", root.toString());
    environment.put("JAVA_HOME", JAVA_HOME);
    environment.putAll(env);
  }

  @Test
  void layout_hasTheLauncher_theJars_theConfigs_andTheDeployKit() {
    assertThat(home.resolve("bin/sentinel")).isExecutable();
    assertThat(home.resolve("lib/sentinel.jar")).isRegularFile();
    assertThat(home.resolve("lib/sentinel.jsa")).isRegularFile();
    assertThat(home.resolve("examples/target/sentinel-examples.jar")).isRegularFile();
    for (String file : new String[] {"examples/stdio/sentinel.yaml", "examples/stdio/policy.yaml",
        "examples/stdio/policy.test.yaml", "examples/grafana/sentinel-dashboard.json",
        "deploy/sentinel.yaml", "deploy/Containerfile", "deploy/compose/compose.yaml",
        "deploy/systemd/sentinel.service", "deploy/kubernetes/sentinel.yaml", "docs/deploy.md",
        "docs/config.md", "README.md"}) {
      assertThat(home.resolve(file)).as(file).isRegularFile();
    }
    assertThat(home.resolve("sentinel-cli")).doesNotExist();
  }

  @Test
  void version_isTheReleases() throws Exception {
    Run run = run(home, List.of("bin/sentinel", "--version"), Map.of());
    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(run.output()).startsWith("sentinel " + VERSION + "\n");
  }

  @Test
  void demo_runsFromTheUnpackedFolder() throws Exception {
    Run run = run(home, List.of("java", "-jar", "examples/target/sentinel-examples.jar"), Map.of());
    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(run.output())
        .contains("$ bin/sentinel stdio --config examples/stdio/sentinel.yaml")
        .contains("notes__list_notes, notes__read_note, notes__write_note")
        .contains("DENIED (rule no-bulk-delete)")
        .contains("audit trail: " + home.resolve("examples/stdio/audit.jsonl"));
    Run tests = run(home, List.of("bin/sentinel", "policy", "test",
        "examples/stdio/policy.test.yaml"), Map.of());
    assertThat(tests.exit()).as(tests.output()).isZero();
  }

  @Test
  void http_servesFromTheUnpackedFolder_withTheDeployConfig() throws Exception {
    Path state = Files.createDirectories(root.resolve("state"));
    Map<String, String> env = new HashMap<>();
    env.put("SENTINEL_ADMIN_TOKEN", "a-test-admin-token-of-forty-characters-x");
    env.put("SENTINEL_ALLOWED_HOST", "localhost");
    env.put("SENTINEL_DATABASE_URL", "jdbc:sqlite:" + state.resolve("sentinel.db"));
    Run check = run(home, List.of("bin/sentinel", "config", "check", "deploy/sentinel.yaml"), env);
    assertThat(check.exit()).as(check.output()).isZero();
    assertThat(check.output()).doesNotContain("a-test-admin-token");

    Path log = state.resolve("http.log");
    ProcessBuilder builder = new ProcessBuilder("bin/sentinel", "http", "--config",
        "deploy/sentinel.yaml", "--port", "0").directory(home.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile());
    environment(builder, env);
    Process http = builder.start();
    try {
      Pattern endpoint = Pattern.compile("MCP on (http://127\\.0\\.0\\.1:\\d+)/mcp");
      Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
      Matcher found = endpoint.matcher("");
      while (!found.find()) {
        assertThat(http.isAlive()).as(Files.readString(log)).isTrue();
        assertThat(Instant.now()).as("sentinel http serves; log: %s", Files.readString(log))
            .isBefore(deadline);
        // Polling the log of another process: there is no event to wait on.
        http.waitFor(100, TimeUnit.MILLISECONDS);
        found = endpoint.matcher(Files.readString(log));
      }
      URI base = URI.create(found.group(1));
      assertThat(status(base.resolve("/livez"))).isEqualTo(200);
      Instant ready = Instant.now().plus(Duration.ofSeconds(120));
      while (status(base.resolve("/readyz")) != 200) {
        assertThat(Instant.now()).as("ready; log: %s", Files.readString(log)).isBefore(ready);
        http.waitFor(100, TimeUnit.MILLISECONDS);
      }
      assertThat(state.resolve("sentinel.db")).isRegularFile();
    } finally {
      http.descendants().forEach(ProcessHandle::destroyForcibly);
      http.destroyForcibly();
      http.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /**
   * The build's class-data-sharing archive is in the release and {@code bin/sentinel stdio} maps
   * its classes from it, in a folder the build never saw.
   */
  @Test
  void stdio_mapsTheReleasesCdsArchive() throws Exception {
    assertThat(home.resolve("lib/sentinel.jsa")).isRegularFile();
    Stdio stdio = stdio(home, "cds-used");
    assertThat(stdio.stdout()).hasSize(1);
    assertThat(stdio.stdout().get(0)).startsWith("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":");
    assertThat(stdio.fromArchive()).as("classes mapped from lib/sentinel.jsa").isPositive();
  }

  /**
   * An archive the JVM cannot use (the jar changed since it was made; a file that is no archive
   * at all) is ignored without a word: stdout carries the one answer and nothing else.
   */
  @Test
  void stdio_withAnArchiveTheJvmCannotUse_startsWithoutItSilently() throws Exception {
    for (String broken : List.of("jar-changed", "not-an-archive")) {
      Path copy = Files.createDirectories(root.resolve(broken));
      for (String file : List.of("bin/sentinel", "lib/sentinel.jar", "lib/sentinel.jsa",
          "examples/stdio/sentinel.yaml", "examples/stdio/policy.yaml",
          "examples/target/sentinel-examples.jar")) {
        Files.createDirectories(copy.resolve(file).getParent());
        Files.copy(home.resolve(file), copy.resolve(file), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
      }
      if (broken.equals("jar-changed")) {
        Files.setLastModifiedTime(copy.resolve("lib/sentinel.jar"),
            java.nio.file.attribute.FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
      } else {
        Files.write(copy.resolve("lib/sentinel.jsa"), new byte[4096]);
      }
      Stdio stdio = stdio(copy, broken);
      assertThat(stdio.exit()).as(broken + ": " + stdio.stderr()).isZero();
      assertThat(stdio.stdout()).as(broken).hasSize(1);
      assertThat(stdio.stdout().get(0)).as(broken).startsWith("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":");
      assertThat(stdio.fromArchive()).as(broken).isZero();
      assertThat(stdio.stderr()).as(broken).doesNotContainIgnoringCase("cds").doesNotContain("shared archive");
    }
  }

  record Stdio(int exit, List<String> stdout, String stderr, long fromArchive) {}

  /**
   * Runs {@code bin/sentinel stdio} on the demo's config in {@code dir}: initialize, then end of
   * input; with the JVM's class-loading log in a file to count the classes mapped from the
   * release's archive.
   */
  private static Stdio stdio(Path dir, String name) throws Exception {
    Path classes = root.resolve(name + "-classes.log");
    Path stderr = root.resolve(name + "-stderr.log");
    Path stdout = root.resolve(name + "-stdout.log");
    ProcessBuilder builder = new ProcessBuilder("bin/sentinel", "stdio", "--config",
        "examples/stdio/sentinel.yaml").directory(dir.toFile())
        .redirectError(stderr.toFile()).redirectOutput(stdout.toFile());
    environment(builder, Map.of("SENTINEL_JAVA_OPTS", "-Xlog:class+load=info:file=" + classes));
    Process process = builder.start();
    try {
      process.getOutputStream().write(("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
          + "\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
          + "\"clientInfo\":{\"name\":\"dist-test\",\"version\":\"1\"}}}\n").getBytes(StandardCharsets.UTF_8));
      process.getOutputStream().close();
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("sentinel stdio ends").isTrue();
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
    long mapped;
    try (java.util.stream.Stream<String> lines = Files.lines(classes)) {
      mapped = lines.filter(line -> line.contains("source: shared objects file (top)")).count();
    }
    return new Stdio(process.exitValue(), Files.readAllLines(stdout), Files.readString(stderr), mapped);
  }

  private static int status(URI url) throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(url).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
