import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes the release's class-data-sharing archive, {@code lib/sentinel.jsa} (AppCDS, JDK 17+):
 * the classes {@code sentinel stdio} loads from its start to a served {@code tools/call},
 * recorded by a training run with {@code -XX:ArchiveClassesAtExit}. Run by the build
 * (sentinel-dist, package phase) with the JDK's source launcher:
 *
 * <pre>java CdsTraining.java JAVA STAGE</pre>
 *
 * <p>STAGE is a release folder laid out as in the tarball ({@code bin/sentinel}, {@code lib/sentinel.jar},
 * {@code examples/target/sentinel-examples.jar}, {@code examples/stdio/}). The run, through the
 * launcher with {@code SENTINEL_CDS_DUMP}: the demo's
 * gateway config (its backend is the notes server) with the audit trail in a scratch folder; a
 * client that sends {@code initialize}, lists the tools until the backend is up, calls one and
 * closes its input; the gateway exits 0 and the JVM writes the archive. Also writes {@code
 * lib/sentinel.jsa.jvm}, the {@code java.vm.version} that made it (for people: the JVM itself
 * checks an archive and, with {@code -Xshare:auto}, runs without one it cannot use).
 */
public final class CdsTraining {
  private CdsTraining() {}

  /**
   * {@code JAVA STAGE}: trains in the release folder STAGE; {@code JAVA STAGE REPOSITORY}: lays
   * STAGE out from the built source tree first (the launcher, the jars with their times kept,
   * the demo's config), as the build does.
   */
  public static void main(String[] args) throws Exception {
    String java = args[0];
    Path stage = Path.of(args[1]).toAbsolutePath().normalize();
    if (args.length > 2) {
      layOut(Path.of(args[2]).toAbsolutePath().normalize(), stage);
    }
    Path archive = stage.resolve("lib/sentinel.jsa");
    Files.deleteIfExists(archive);
    Path work = Files.createTempDirectory("sentinel-cds-");
    Path config = work.resolve("sentinel.yaml");
    Files.copy(stage.resolve("examples/stdio/policy.yaml"), work.resolve("policy.yaml"));
    Files.writeString(config, Files.readString(stage.resolve("examples/stdio/sentinel.yaml"))
        .replace("../target/sentinel-examples.jar", stage.resolve("examples/target/sentinel-examples.jar").toString())
        .replace("command: java ", "command: " + java + " ")
        .replace("jsonl: audit.jsonl", "jsonl: " + work.resolve("audit.jsonl")));
    Path log = work.resolve("gateway.log");
    // Through the launcher: the archive is made with the JVM settings and the jar path
    // (/dev/fd/9) it is used with.
    ProcessBuilder builder = new ProcessBuilder(List.of("sh", stage.resolve("bin/sentinel").toString(),
        "stdio", "--config", config.toString()))
        .directory(work.toFile())
        .redirectError(log.toFile());
    builder.environment().remove("JAVA_OPTS");
    builder.environment().remove("SENTINEL_JAVA_OPTS");
    builder.environment().remove("SENTINEL_JVM_DEFAULTS");
    builder.environment().remove("SENTINEL_CDS");
    builder.environment().put("JAVA_HOME", Path.of(java).toAbsolutePath().getParent().getParent().toString());
    builder.environment().put("SENTINEL_CDS_DUMP", archive.toString());
    Process gateway = builder.start();
    try {
      OutputStream in = gateway.getOutputStream();
      BufferedReader out = new BufferedReader(
          new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8));
      int id = 1;
      request(in, out, id, "initialize", "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
          + "\"clientInfo\":{\"name\":\"cds-training\",\"version\":\"1\"}}", log);
      send(in, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!request(in, out, ++id, "tools/list", "{}", log).contains("\"notes__read_note\"")) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the notes backend never came up; the gateway's log:\n"
              + Files.readString(log));
        }
        TimeUnit.MILLISECONDS.sleep(50); // the backend is starting in the background
      }
      String answer = request(in, out, ++id, "tools/call",
          "{\"name\":\"notes__read_note\",\"arguments\":{\"id\":\"welcome\"}}", log);
      if (!answer.contains("\"result\"")) {
        throw new IllegalStateException("the training call failed: " + answer);
      }
      in.close();
      if (!gateway.waitFor(60, TimeUnit.SECONDS) || gateway.exitValue() != 0) {
        throw new IllegalStateException("the gateway did not exit cleanly; its log:\n" + Files.readString(log));
      }
    } finally {
      gateway.destroyForcibly();
    }
    if (!Files.isRegularFile(archive) || Files.size(archive) == 0) {
      throw new IllegalStateException("no archive at " + archive + "; the gateway's log:\n" + Files.readString(log));
    }
    Files.writeString(stage.resolve("lib/sentinel.jsa.jvm"), System.getProperty("java.vm.version") + "\n");
    System.out.println("CdsTraining: wrote " + archive + " (" + Files.size(archive) + " bytes) for JVM "
        + System.getProperty("java.vm.version"));
  }

  /**
   * Copies what the run needs from the source tree. The jar keeps its modification time: the
   * archive records the jar's size and time, and the tarball packs the same jar with that time.
   */
  private static void layOut(Path repository, Path stage) throws IOException {
    copy(repository.resolve("bin/sentinel"), stage.resolve("bin/sentinel"));
    copy(repository.resolve("sentinel-cli/target/sentinel.jar"), stage.resolve("lib/sentinel.jar"));
    copy(repository.resolve("examples/target/sentinel-examples.jar"),
        stage.resolve("examples/target/sentinel-examples.jar"));
    copy(repository.resolve("examples/stdio/sentinel.yaml"), stage.resolve("examples/stdio/sentinel.yaml"));
    copy(repository.resolve("examples/stdio/policy.yaml"), stage.resolve("examples/stdio/policy.yaml"));
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to.getParent());
    Files.copy(from, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
  }

  private static void send(OutputStream in, String line) throws IOException {
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  /** Sends a request and answers its response line, skipping notifications. */
  private static String request(OutputStream in, BufferedReader out, int id, String method, String params,
      Path log) throws IOException {
    send(in, "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"" + method + "\",\"params\":" + params + "}");
    String line;
    while ((line = out.readLine()) != null) {
      if (line.contains("\"id\":" + id + ",") || line.contains("\"id\":" + id + "}")) {
        return line;
      }
    }
    throw new IllegalStateException("the gateway closed its output before answering " + method
        + "; its log:\n" + Files.readString(log));
  }
}
