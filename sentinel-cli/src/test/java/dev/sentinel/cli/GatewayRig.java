package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.Conditions;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Starts the real {@code sentinel stdio} gateway ({@link Main} in a child JVM on the test
 * classpath) in front of official-SDK backends, and finds and stops its processes.
 *
 * <p>The gateway's config ({@link #writeConfig}) names three backends: {@code kid}, the
 * {@link SdkBackend} tools on stdio in a child JVM; {@code echo}, core's
 * {@code EchoMcpServer} fixture (from its test-jar) on stdio in a child JVM; and {@code web},
 * an {@link SdkHttpBackend} in the test's JVM. Its policy lets role {@code user} call
 * {@code echo}, {@code progress}, {@code sample}, {@code frozen}, {@code metered} and
 * {@code kid__calls}; denies {@code wipe} (rule {@code no-wiping}) and an {@code echo} of text
 * starting with {@code classified} (rule {@code no-classified-echo}, a CEL condition); allows no
 * rule for
 * {@code hidden}; limits {@code metered} to 3 calls an hour per tool (limit
 * {@code metered-three}); and the kill switch disables {@code *__frozen}.
 */
final class GatewayRig {
  static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
  static final String CLASSPATH = System.getProperty("java.class.path");
  /**
   * {@code @FILE} holding {@code -cp CLASSPATH}: with the class path inline, child command lines
   * pass 4 KiB, and JDK 17's {@link ProcessHandle.Info} then reports no arguments at all, so the
   * tests could not find the gateway among this JVM's children.
   */
  static final String CLASSPATH_ARGS = classPathArgFile();
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final Duration TIMEOUT = Duration.ofSeconds(60);

  static final String DENY_REASON = "wiping is never allowed through the gateway";
  static final String KILL_REASON = "frozen during incident 7";
  static final String CEL_REASON = "classified text stays inside";

  private GatewayRig() {}

  private static String classPathArgFile() {
    try {
      Path file = Files.createTempFile("sentinel-test-classpath", ".args");
      file.toFile().deleteOnExit();
      // An argument file quotes with "..." and escapes \ as \\.
      Files.writeString(file, "-cp \"" + CLASSPATH.replace("\\", "\\\\") + "\"\n");
      return "@" + file;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Writes {@code sentinel.yaml} into the directory; the audit trail goes to
   * {@code audit.jsonl} beside it.
   *
   * @param web the URL of the Streamable HTTP backend
   * @param gatewayExtras more keys of the {@code gateway} section, as YAML flow entries
   */
  static Path writeConfig(Path dir, URI web, String gatewayExtras) throws IOException {
    String stdioArgs = "[" + quote(CLASSPATH_ARGS) + ", ";
    String yaml = String.join("\n",
        "gateway: { name: sdk-tests, request_timeout: 60s, start_timeout: 60s"
            + (gatewayExtras.isEmpty() ? "" : ", " + gatewayExtras) + " }",
        "identity: { principal: { id: tester, roles: [user] } }",
        "backends:",
        "  - name: kid",
        "    stdio: { command: " + quote(JAVA) + ", args: " + stdioArgs
            + quote(SdkBackend.class.getName()) + "] }",
        "  - name: echo",
        "    stdio: { command: " + quote(JAVA) + ", args: " + stdioArgs
            + quote("dev.sentinel.mcp.transport.EchoMcpServer") + "] }",
        "  - name: web",
        "    http: { url: " + quote(web.toString()) + " }",
        "policy:",
        "  roles: { user: {} }",
        "  rules:",
        "    - id: use-the-tools",
        "      allow: { roles: [user], tools: [\"*__echo\", \"*__progress\", \"*__sample\","
            + " \"*__frozen\", \"*__metered\", \"kid__calls\"] }",
        "    - id: no-wiping",
        "      deny: { tools: [\"*__wipe\"] }",
        "      reason: " + quote(DENY_REASON),
        "    - id: no-classified-echo",
        "      deny: { tools: [\"*__echo\"], when_cel: "
            + "'has(args.text) && args.text.startsWith(\"classified\")' }",
        "      reason: " + quote(CEL_REASON),
        "    - id: backends-may-sample",
        "      allow: { roles: [user], methods: [\"sampling/createMessage\"], backends: [kid, web] }",
        "  limits:",
        "    - id: metered-three",
        "      rate: 3/h",
        "      tools: [\"*__metered\"]",
        "      per: [principal, tool]",
        "kill_switch:",
        "  tools: { \"*__frozen\": " + quote(KILL_REASON) + " }",
        "audit:",
        "  sinks: [ { jsonl: audit.jsonl } ]",
        "");
    Path config = dir.resolve("sentinel.yaml");
    Files.writeString(config, yaml, StandardCharsets.UTF_8);
    return config;
  }

  /** A YAML double-quoted scalar (JSON string syntax is valid YAML). */
  static String quote(String text) {
    return JSON.writeValueAsString(text);
  }

  /** The gateway's arguments after the java binary. */
  static List<String> gatewayArgs(Path config) {
    return List.of(CLASSPATH_ARGS, Main.class.getName(), "stdio", "--config", config.toString());
  }

  /** A client of the official SDK, what it was asked to sample, and the progress it saw. */
  record Client(McpSyncClient sdk, List<McpSchema.CreateMessageRequest> sampled,
      List<McpSchema.ProgressNotification> progress) {}

  /**
   * Starts the gateway as the SDK's stdio client does (a child process of this JVM) and
   * initializes the session. The client declares sampling and answers every request with
   * model {@code test-model} saying {@code sampled: <first message text>}. The backends start
   * in the background: this waits until each one named lists a tool ({@code <name>__...}).
   */
  static Client connect(Path config, String... backends) {
    List<McpSchema.CreateMessageRequest> sampled = new CopyOnWriteArrayList<>();
    List<McpSchema.ProgressNotification> progress = new CopyOnWriteArrayList<>();
    StdioClientTransport transport = new StdioClientTransport(
        ServerParameters.builder(JAVA).args(gatewayArgs(config)).build(), SdkBackend.MAPPER);
    McpSyncClient sdk = McpClient.sync(transport)
        .clientInfo(new McpSchema.Implementation("sdk-test-client", "1.0.0"))
        .capabilities(McpSchema.ClientCapabilities.builder().sampling().build())
        .requestTimeout(TIMEOUT)
        .initializationTimeout(TIMEOUT)
        .sampling(request -> {
          sampled.add(request);
          McpSchema.Content first = request.messages().get(0).content();
          String text = first instanceof McpSchema.TextContent
              ? ((McpSchema.TextContent) first).text() : String.valueOf(first);
          return McpSchema.CreateMessageResult.builder(McpSchema.Role.ASSISTANT, "sampled: " + text, "test-model")
              .stopReason(McpSchema.CreateMessageResult.StopReason.END_TURN)
              .build();
        })
        .progressConsumer(progress::add)
        .build();
    try {
      sdk.initialize();
      for (String backend : backends) {
        Conditions.await("backend " + backend + " lists its tools", () -> sdk.listTools().tools().stream()
            .anyMatch(tool -> tool.name().startsWith(backend + "__")));
      }
    } catch (RuntimeException | Error e) {
      sdk.close();
      throw e;
    }
    return new Client(sdk, sampled, progress);
  }

  /** The child process of this JVM that runs the gateway with this config. */
  static ProcessHandle gateway(Path config) {
    String marker = config.toString();
    Conditions.await("the gateway process is visible", () -> find(marker).isPresent());
    return find(marker).orElseThrow();
  }

  private static Optional<ProcessHandle> find(String marker) {
    return ProcessHandle.current().children()
        .filter(p -> p.info().arguments().map(a -> List.of(a).contains(marker)).orElse(false)
            || p.info().commandLine().map(c -> c.contains(marker)).orElse(false))
        .findFirst();
  }

  /** The gateway's backend processes, once both stdio backends are running. */
  static List<ProcessHandle> backends(ProcessHandle gateway) {
    Conditions.await("both stdio backends run",
        () -> gateway.descendants().filter(ProcessHandle::isAlive).count() >= 2);
    return gateway.descendants().collect(Collectors.toList());
  }

  /** Waits until every process has ended; kills what is left and fails if one never does. */
  static void awaitEnded(String what, List<ProcessHandle> processes) {
    try {
      Conditions.await(what, () -> processes.stream().noneMatch(ProcessHandle::isAlive));
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; still alive: " + processes.stream()
          .filter(ProcessHandle::isAlive)
          .map(p -> p.pid() + " " + p.info().commandLine().orElse("?").replace(CLASSPATH, "CP"))
          .collect(Collectors.toList()), e);
    } finally {
      kill(processes);
    }
  }

  /** The last resort: kills what is still alive, children first. */
  static void kill(List<ProcessHandle> processes) {
    List<ProcessHandle> all = new ArrayList<>();
    for (ProcessHandle p : processes) {
      p.descendants().forEach(all::add);
      all.add(p);
    }
    for (ProcessHandle p : all) {
      if (p.isAlive()) {
        p.destroyForcibly();
      }
    }
  }

  /** The audit trail's events, one per line. */
  static List<JsonNode> audit(Path dir) throws IOException {
    Path file = dir.resolve("audit.jsonl");
    if (!Files.exists(file)) {
      return List.of();
    }
    List<JsonNode> events = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        events.add(JSON.readTree(line));
      }
    }
    return events;
  }

  /** {@code "tool OUTCOME"} of each {@code tools/call} event, in order. */
  static List<String> toolCalls(List<JsonNode> events) {
    return events.stream()
        .filter(e -> "tools/call".equals(e.path("method").asString("")))
        .map(e -> e.path("name").asString("") + " " + e.path("outcome").asString(""))
        .collect(Collectors.toList());
  }

  /** The text of a tool result's first content item. */
  static String text(McpSchema.CallToolResult result) {
    assertThat(result.content()).isNotEmpty();
    assertThat(result.content().get(0)).isInstanceOf(McpSchema.TextContent.class);
    return ((McpSchema.TextContent) result.content().get(0)).text();
  }
}
