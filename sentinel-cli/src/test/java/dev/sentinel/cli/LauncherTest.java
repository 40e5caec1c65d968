package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/sentinel}, the launcher: the JVM settings it picks per command and how they are
 * overridden. It runs against a stand-in {@code java} (JAVA_HOME) that prints its arguments, in
 * a release's layout ({@code bin/}, {@code lib/sentinel.jar}).
 */
class LauncherTest {
  /** The launcher of this source tree; tests run in the module's folder. */
  static final Path LAUNCHER = Path.of("..", "bin", "sentinel").toAbsolutePath().normalize();

  @TempDir Path dir;
  private Path home;
  private Path javaHome;

  @BeforeEach
  void layout() throws Exception {
    home = dir.resolve("sentinel-1.0");
    Files.createDirectories(home.resolve("bin"));
    Files.createDirectories(home.resolve("lib"));
    Files.copy(LAUNCHER, home.resolve("bin/sentinel"));
    Files.writeString(home.resolve("lib/sentinel.jar"), "not really a jar");
    javaHome = dir.resolve("jdk");
    Files.createDirectories(javaHome.resolve("bin"));
    Path java = javaHome.resolve("bin/java");
    Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  /** The arguments the launcher gives java. */
  private List<String> launch(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("sh", home.resolve("bin/sentinel").toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    Map<String, String> environment = builder.environment();
    environment.remove("JAVA_OPTS");
    environment.remove("SENTINEL_JAVA_OPTS");
    environment.remove("SENTINEL_JVM_DEFAULTS");
    environment.remove("SENTINEL_CDS");
    environment.remove("SENTINEL_CDS_DUMP");
    environment.put("JAVA_HOME", javaHome.toString());
    environment.putAll(env);
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();
    return out.lines().toList();
  }

  /** The JVM options: what comes before the jar ({@code -jar JAR} or {@code -cp JAR MAIN}). */
  private List<String> jvmOptions(List<String> args) {
    int jar = args.indexOf("-jar");
    return args.subList(0, jar >= 0 ? jar : args.indexOf("-cp"));
  }

  @Test
  void http_getsC2_theParallelCollector_andAHeapForTheConfigsMaxSessions() throws Exception {
    Path config = dir.resolve("sentinel.yaml");
    Files.writeString(config, "server: { host: 127.0.0.1, max_sessions: 4000 }\n");
    List<String> args = launch(Map.of(), "--log-level", "warn", "http", "-c", config.toString());

    assertThat(jvmOptions(args)).containsExactly("-XX:+UseParallelGC", "-Xshare:auto",
        "-Xmx628m", "-XX:+ExitOnOutOfMemoryError");
    assertThat(args.subList(args.indexOf("-jar"), args.size())).containsExactly("-jar",
        home.resolve("lib/sentinel.jar").toRealPath().toString(), "--log-level", "warn", "http",
        "-c", config.toString());
  }

  @Test
  void http_withoutMaxSessions_sizesTheHeapForTheDefaultThousand() throws Exception {
    Path config = dir.resolve("sentinel.yaml");
    Files.writeString(config, "server:\n  port: 8080\n");
    assertThat(launch(Map.of(), "http", "--config=" + config)).contains("-Xmx253m");
    assertThat(launch(Map.of(), "http")).contains("-Xmx253m");
  }

  @Test
  void stdio_getsC2_theSerialCollector_andA64MegabyteHeap() throws Exception {
    assertThat(jvmOptions(launch(Map.of(), "stdio", "-c", "x.yaml")))
        .containsExactly("-XX:+UseSerialGC", "-Xshare:auto", "-Xmx64m");
  }

  @Test
  void stdio_withTheReleasesCdsArchive_mapsItAndNamesTheJarByItsDescriptor() throws Exception {
    Files.writeString(home.resolve("lib/sentinel.jsa"), "an archive");
    List<String> args = launch(Map.of(), "stdio", "-c", "x.yaml");

    String archive = home.resolve("lib/sentinel.jsa").toRealPath().toString();
    assertThat(jvmOptions(args)).containsExactly("-XX:+UseSerialGC", "-Xshare:auto", "-Xmx64m",
        "-XX:SharedArchiveFile=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
    // The same path in every installation: a JDK 17 archive names its jar by path. The main
    // class is named, so that the JVM does not open the jar a second time for its manifest.
    assertThat(args.subList(args.indexOf("-cp"), args.size()))
        .containsExactly("-cp", "/dev/fd/9", "dev.sentinel.cli.Start", "stdio", "-c", "x.yaml");
  }

  @Test
  void cdsArchive_isLeftOutWhenSwitchedOff_andForOtherCommands() throws Exception {
    Files.writeString(home.resolve("lib/sentinel.jsa"), "an archive");
    assertThat(jvmOptions(launch(Map.of("SENTINEL_CDS", "off"), "stdio")))
        .containsExactly("-XX:+UseSerialGC", "-Xshare:auto", "-Xmx64m");
    assertThat(launch(Map.of("SENTINEL_JVM_DEFAULTS", "none"), "stdio"))
        .doesNotContain("/dev/fd/9").noneMatch(arg -> arg.startsWith("-XX:SharedArchiveFile"));
    assertThat(launch(Map.of(), "http")).doesNotContain("/dev/fd/9")
        .noneMatch(arg -> arg.startsWith("-XX:SharedArchiveFile"));
  }

  @Test
  void cdsDump_makesTheArchiveWithTheSettingsItIsUsedWith() throws Exception {
    List<String> args = launch(Map.of("SENTINEL_CDS_DUMP", "/tmp/x.jsa"), "stdio");
    assertThat(jvmOptions(args)).containsExactly("-XX:+UseSerialGC", "-Xshare:auto", "-Xmx64m",
        "-XX:ArchiveClassesAtExit=/tmp/x.jsa", "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
    assertThat(args).contains("/dev/fd/9");
  }

  @Test
  void policyDiffWithReplay_getsC2AndTheParallelCollector_aBatchJob() throws Exception {
    assertThat(jvmOptions(launch(Map.of(), "policy", "diff", "a.yaml", "b.yaml", "--replay", "x.jsonl")))
        .containsExactly("-XX:+UseParallelGC", "-Xshare:auto", "-Xmx512m");
    assertThat(jvmOptions(launch(Map.of(), "policy", "diff", "a.yaml", "b.yaml")))
        .contains("-XX:TieredStopAtLevel=1");
  }

  @Test
  void otherCommands_getTheQuickStartSettings() throws Exception {
    assertThat(jvmOptions(launch(Map.of(), "policy", "test", "http.yaml")))
        .containsExactly("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xmx64m");
  }

  @Test
  void javaOpts_andSentinelJavaOpts_comeAfterTheDefaults_inThatOrder() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("JAVA_OPTS", "-Xmx1g -Dfrom=java_opts");
    env.put("SENTINEL_JAVA_OPTS", "-Xmx2g");
    assertThat(jvmOptions(launch(env, "http"))).containsExactly("-XX:+UseParallelGC",
        "-Xshare:auto", "-Xmx253m", "-XX:+ExitOnOutOfMemoryError", "-Xmx1g", "-Dfrom=java_opts",
        "-Xmx2g");
  }

  @Test
  void aCollectorChosenByTheUser_replacesTheDefaultCollector() throws Exception {
    assertThat(jvmOptions(launch(Map.of("SENTINEL_JAVA_OPTS", "-XX:+UseG1GC"), "http")))
        .doesNotContain("-XX:+UseParallelGC").endsWith("-XX:+UseG1GC");
    assertThat(jvmOptions(launch(Map.of("JAVA_OPTS", "-XX:+UseZGC"), "stdio")))
        .containsExactly("-Xshare:auto", "-Xmx64m", "-XX:+UseZGC");
  }

  @Test
  void startedFromItsOwnFolderByARelativeName_findsItsJar() throws Exception {
    ProcessBuilder builder = new ProcessBuilder("sh", "sentinel", "stdio")
        .directory(home.resolve("bin").toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    builder.environment().remove("SENTINEL_JVM_DEFAULTS");
    builder.environment().put("JAVA_HOME", javaHome.toString());
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();
    assertThat(out.lines()).contains(home.resolve("lib/sentinel.jar").toRealPath().toString());
  }

  @Test
  void defaultsNone_dropsEveryDefault() throws Exception {
    assertThat(jvmOptions(launch(Map.of("SENTINEL_JVM_DEFAULTS", "none", "JAVA_OPTS", "-Xmx99m"),
        "http"))).containsExactly("-Xmx99m");
  }
}
