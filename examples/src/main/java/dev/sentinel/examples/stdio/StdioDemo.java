package dev.sentinel.examples.stdio;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The README's first command: a short scripted MCP session through {@code sentinel stdio}.
 *
 * <p>It launches {@code bin/sentinel stdio --config examples/stdio/sentinel.yaml} (the gateway,
 * fronting {@link NotesServer} under {@code examples/stdio/policy.yaml}), speaks MCP to it as a
 * client would (JSON-RPC, one message a line) and prints what happens: the handshake, the tools
 * the policy lets the user see, an allowed call, denied calls with their error code, rule and
 * reason, a rate limit, and finally the audit record of the denial. Then it closes the gateway's
 * stdin, which stops the gateway and its backend.
 *
 * <p>{@code java -jar examples/target/sentinel-examples.jar [REPOSITORY]}: the repository
 * defaults to the one this jar was built in. Needs {@code sentinel-cli/target/sentinel.jar} (or a release's {@code lib/sentinel.jar}) and
 * {@code examples/target/sentinel-examples.jar} ({@code ./mvnw -q -pl sentinel-cli,examples -am
 * package -DskipTests}).
 */
public final class StdioDemo {
  /** The gateway config of the demo, relative to the repository. */
  public static final String CONFIG = "examples/stdio/sentinel.yaml";

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String PROTOCOL = "2025-11-25";
  private static final String DENIED_TOOL = "notes__delete_all_notes";
  /** How long the demo waits for its backend to be announced (it lists what is up after that). */
  private static final java.time.Duration BACKEND_START = java.time.Duration.ofSeconds(30);

  private StdioDemo() {}

  /** Runs the demo in the given repository (by default, the one this class was built in). */
  public static void main(String[] args) {
    try {
      Path home = args.length > 0 ? Path.of(args[0]) : home();
      run(home, System.out);
    } catch (IllegalStateException | IOException e) {
      System.err.println("stdio demo failed: " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * Runs the scripted session against the gateway of the repository at {@code home}, printing the
   * transcript to {@code out}. The gateway and its backend have stopped when this returns.
   *
   * @return the audit trail the gateway wrote to
   * @throws IllegalStateException if something is missing (with the command that builds it), or
   *     the gateway does not behave (with the end of its log)
   * @throws IOException if the audit trail cannot be read
   */
  public static Path run(Path home, PrintStream out) throws IOException {
    home = home.toAbsolutePath().normalize();
    Path config = home.resolve(CONFIG);
    Path audit = config.resolveSibling("audit.jsonl");
    String build = "build it first: cd '" + home + "' && ./mvnw -q -pl sentinel-cli,examples -am package -DskipTests";
    require(home.resolve("bin/sentinel"), "the sentinel launcher");
    require(config, "the demo's gateway config");
    // A release has lib/sentinel.jar; a source tree builds sentinel-cli/target/sentinel.jar.
    Path releaseJar = home.resolve("lib/sentinel.jar");
    require(Files.exists(releaseJar) ? releaseJar : home.resolve("sentinel-cli/target/sentinel.jar"),
        "the sentinel jar; " + build);
    require(home.resolve("examples/target/sentinel-examples.jar"), "the notes server's jar; " + build);
    long auditStart = Files.exists(audit) ? Files.size(audit) : 0;

    out.println("$ bin/sentinel stdio --config " + CONFIG);
    out.println("# the gateway starts its backend 'notes' (NotesServer) under examples/stdio/policy.yaml;");
    out.println("# this program is its MCP client: one JSON-RPC message a line on the gateway's stdin");
    Path log = home.resolve("examples/target/stdio-demo/gateway.log");
    int exit;
    try (StdioProcess gateway = StdioProcess.start("the gateway",
        List.of(home.resolve("bin/sentinel").toString(), "stdio", "--config", CONFIG), home, log)) {
      session(gateway, out);
      exit = gateway.stop();
      out.println("# closed the gateway's stdin: it stopped the notes server and exited with code " + exit);
    }
    if (exit != 0) {
      throw new IllegalStateException("the gateway exited with code " + exit + "; see " + log);
    }
    List<JsonNode> events = eventsSince(audit, auditStart);
    JsonNode denial = null;
    for (JsonNode event : events) {
      if ("DENIED".equals(event.path("outcome").asString()) && DENIED_TOOL.equals(event.path("name").asString())) {
        denial = event;
      }
    }
    if (denial == null) {
      throw new IllegalStateException("no audit record of the denied " + DENIED_TOOL + " in " + audit);
    }
    out.println("audit trail: " + audit + " (" + events.size() + " events from this session); "
        + "the record of the denial:");
    out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(denial));
    return audit;
  }

  private static void session(StdioProcess gateway, PrintStream out) {
    ObjectNode init = JSON.createObjectNode().put("protocolVersion", PROTOCOL);
    init.putObject("capabilities");
    init.putObject("clientInfo").put("name", "stdio-demo").put("version", "1.0.0");
    JsonNode result = result(gateway, out, "initialize", init);
    gateway.notify("notifications/initialized");
    gateway.rememberChildren();
    JsonNode server = result.path("serverInfo");
    out.println("  <- server " + server.path("name").asString() + " " + server.path("version").asString()
        + ", protocol " + result.path("protocolVersion").asString());
    // Answered at once: the gateway starts its backends in the background and announces each
    // one that comes up, as a client that lists its tools on list_changed expects.
    out.println("# the backend starts in the background; the gateway announces it:");
    if (gateway.awaitNotification("notifications/tools/list_changed", BACKEND_START)) {
      out.println("  <- notifications/tools/list_changed");
    }

    List<String> names = new ArrayList<>();
    result(gateway, out, "tools/list", JSON.createObjectNode())
        .path("tools").forEach(tool -> names.add(tool.path("name").asString()));
    out.println("  <- " + String.join(", ", names));
    List<String> hidden = new ArrayList<>();
    for (String tool : NotesServer.TOOLS) {
      if (!names.contains("notes__" + tool)) {
        hidden.add("notes__" + tool);
      }
    }
    out.println("     hidden by the policy: " + (hidden.isEmpty() ? "nothing" : String.join(", ", hidden)));

    out.println("# reading is allowed (rule read-notes)");
    call(gateway, out, "notes__read_note", "{\"id\":\"welcome\"}");
    out.println("# writing is allowed under drafts/ (rule write-drafts)");
    call(gateway, out, "notes__write_note", "{\"id\":\"drafts/plan\",\"text\":\"try Sentinel\"}");
    out.println("# anywhere else no rule allows it: denied by default");
    call(gateway, out, "notes__write_note", "{\"id\":\"welcome\",\"text\":\"overwritten\"}");
    out.println("# a deny rule names itself and gives its reason");
    call(gateway, out, DENIED_TOOL, "{}");
    out.println("# at most 5 writes a minute (limit writes-per-minute); one is spent above");
    out.println("-> tools/call notes__write_note {\"id\":\"drafts/note-N\",\"text\":\"note N\"} for N = 2, 3, ...");
    for (int i = 2; i <= 10; i++) {
      ObjectNode arguments = JSON.createObjectNode().put("id", "drafts/note-" + i).put("text", "note " + i);
      if (call(gateway, out, "notes__write_note", arguments).has("error")) {
        break;
      }
    }
  }

  private static JsonNode result(StdioProcess gateway, PrintStream out, String method, JsonNode params) {
    out.println("-> " + method);
    JsonNode answer = gateway.request(method, params);
    if (answer.has("error")) {
      throw new IllegalStateException(method + " failed: " + answer.get("error"));
    }
    return answer.path("result");
  }

  /** Prints the call, then {@link #call(StdioProcess, PrintStream, String, JsonNode)}. */
  private static JsonNode call(StdioProcess gateway, PrintStream out, String tool, String arguments) {
    out.println("-> tools/call " + tool + " " + arguments);
    return call(gateway, out, tool, JSON.readTree(arguments));
  }

  /** Calls a tool and prints the outcome in one line; returns the whole answer. */
  private static JsonNode call(StdioProcess gateway, PrintStream out, String tool, JsonNode arguments) {
    ObjectNode params = JSON.createObjectNode().put("name", tool);
    params.set("arguments", arguments);
    JsonNode answer = gateway.request("tools/call", params);
    JsonNode error = answer.path("error");
    if (!error.isMissingNode()) {
      JsonNode data = error.path("data");
      List<String> rules = new ArrayList<>();
      data.path("rules").forEach(rule -> rules.add(rule.asString()));
      out.println("  <- error " + error.path("code").asInt() + " " + data.path("outcome").asString("")
          + (rules.isEmpty() ? "" : " (rule " + String.join(", ", rules) + ")")
          + ": " + error.path("message").asString());
      return answer;
    }
    JsonNode result = answer.path("result");
    StringBuilder text = new StringBuilder();
    result.path("content").forEach(c -> text.append(text.length() == 0 ? "" : " ").append(c.path("text").asString()));
    out.println("  <- " + (result.path("isError").asBoolean(false) ? "tool error: " : "ok: ") + text);
    return answer;
  }

  private static List<JsonNode> eventsSince(Path audit, long start) throws IOException {
    List<JsonNode> events = new ArrayList<>();
    if (!Files.exists(audit)) {
      return events;
    }
    try (RandomAccessFile file = new RandomAccessFile(audit.toFile(), "r")) {
      long from = start <= file.length() ? start : 0; // truncated meanwhile: read it all
      byte[] bytes = new byte[Math.toIntExact(file.length() - from)];
      file.seek(from);
      file.readFully(bytes);
      for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank()) {
          events.add(JSON.readTree(line));
        }
      }
    }
    return events;
  }

  private static void require(Path file, String what) {
    if (!Files.exists(file)) {
      throw new IllegalStateException(file + " is missing (" + what + ")");
    }
  }

  /** The repository this class was loaded from: {@code <home>/examples/target/<jar or classes>}. */
  private static Path home() {
    try {
      Path location = Path.of(StdioDemo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path target = location.getParent();
      if (target != null && target.getParent() != null && target.getParent().getParent() != null
          && Files.exists(target.getParent().getParent().resolve(CONFIG))) {
        return target.getParent().getParent();
      }
    } catch (URISyntaxException | RuntimeException e) {
      // Fall back to the working directory below.
    }
    Path cwd = Path.of("").toAbsolutePath();
    for (Path dir = cwd; dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve(CONFIG))) {
        return dir;
      }
    }
    throw new IllegalStateException("cannot find the Sentinel repository (with " + CONFIG
        + ") above " + cwd + "; pass its path as the argument");
  }
}
