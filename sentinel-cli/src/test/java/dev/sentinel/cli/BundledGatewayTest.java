package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.bundle.BundleState;
import dev.sentinel.core.testing.Conditions;
import io.modelcontextprotocol.spec.McpError;
import io.modelcontextprotocol.spec.McpSchema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * {@code sentinel stdio} running a signed bundle, end to end: the bundle built and signed with
 * the CLI, the gateway started by the official MCP Java SDK client as its child process, a new
 * signed bundle applied while it serves, and an untrusted and an older one refused while the
 * running one keeps serving.
 */
class BundledGatewayTest {
  @TempDir Path dir;

  private Path source;
  private Path run;

  private void policy(String rule) throws Exception {
    Files.writeString(source.resolve("policy.yaml"), "rules:\n" + rule);
  }

  private static final String ALLOW_ECHO = "  - { id: echo-allowed, allow: { tools: [\"*__echo\"] } }\n";
  private static final String DENY_ECHO = "  - { id: echo-allowed, allow: { tools: [\"*__echo\"] } }\n"
      + "  - { id: no-echo, deny: { tools: [\"*__echo\"] }, reason: \"echo is off in sequence 2\" }\n";

  /** Builds the source as a bundle of that sequence into {@code file}, signed by the key. */
  private void publish(int sequence, String key, Path file) {
    Path built = dir.resolve("out.bundle");
    assertThat(Cli.run("bundle", "build", "--config", source.resolve("sentinel.yaml").toString(),
        "-o", built.toString(), "--sequence", Integer.toString(sequence)).exit()).isZero();
    assertThat(Cli.run("bundle", "sign", built.toString(), "--key",
        dir.resolve(key + ".key").toString()).exit()).isZero();
    try {
      // Replaced whole, as an operator's deploy would (cp to a temporary name, then mv).
      Files.move(built, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The call's text, or the gateway's error code and message. */
  private static String echo(GatewayRig.Client client, String text) {
    try {
      McpSchema.CallToolResult result = client.sdk().callTool(
          new McpSchema.CallToolRequest("echo__echo", Map.of("text", text)));
      return GatewayRig.text(result) + (Boolean.TRUE.equals(result.isError()) ? " (error)" : "");
    } catch (McpError e) {
      return e.getJsonRpcError().code() + " " + e.getJsonRpcError().message() + " (error)";
    }
  }

  @Test
  void stdio_runsASignedBundle_appliesANewerOne_andRefusesUntrustedAndOlderOnes() throws Exception {
    source = Files.createDirectories(dir.resolve("source"));
    run = Files.createDirectories(dir.resolve("run"));
    for (String key : List.of("alice", "mallory")) {
      assertThat(Cli.run("bundle", "keygen", "--out", dir.resolve(key).toString()).exit()).isZero();
    }
    Files.copy(dir.resolve("alice.pub"), run.resolve("alice.pub"));
    Files.writeString(source.resolve("sentinel.yaml"), String.join("\n",
        "gateway: { request_timeout: 60s, start_timeout: 60s }",
        "identity: { principal: { id: tester, roles: [user] } }",
        "backends:",
        "  - name: echo",
        "    stdio: { command: " + GatewayRig.quote(GatewayRig.JAVA) + ", args: ["
            + GatewayRig.quote(GatewayRig.CLASSPATH_ARGS) + ", "
            + GatewayRig.quote("dev.sentinel.mcp.transport.EchoMcpServer") + "] }",
        "policy: { file: policy.yaml }",
        "audit: { sinks: [ { jsonl: audit.jsonl } ] }",
        ""));
    policy(ALLOW_ECHO);
    Path bundle = run.resolve("prod.bundle");
    publish(1, "alice", bundle);
    Path older = Files.copy(bundle, dir.resolve("sequence-1.bundle"));
    Path boot = Files.writeString(run.resolve("sentinel.yaml"),
        "bundle: { file: prod.bundle, trust: [alice.pub] }\n");
    // A policy file beside the running config: a bundled config never reads it.
    Files.writeString(run.resolve("policy.yaml"), "rules: [ { id: all, allow: { tools: [\"*\"] } } ]\n");

    GatewayRig.Client client = GatewayRig.connect(boot, "echo");
    ProcessHandle gateway = GatewayRig.gateway(boot);
    List<ProcessHandle> all = Stream.concat(gateway.descendants(), Stream.of(gateway))
        .collect(Collectors.toList());
    try {
      assertThat(echo(client, "one")).contains("one").doesNotContain("(error)");
      assertThat(client.sdk().listTools().tools()).extracting(McpSchema.Tool::name)
          .containsExactly("echo__echo");
      BundleState first = BundleState.read(run.resolve("bundle-state.json")).orElseThrow();
      assertThat(first.sequence()).isEqualTo(1);

      // An untrusted signer's bundle, however new, is refused; the running one keeps serving.
      policy(DENY_ECHO);
      publish(9, "mallory", bundle);
      Conditions.await("the untrusted bundle is refused", () -> refusals() > 0);
      assertThat(BundleState.read(run.resolve("bundle-state.json")).orElseThrow().sequence())
          .isEqualTo(1);
      assertThat(echo(client, "two")).contains("two").doesNotContain("(error)");

      // A newer bundle of the trusted signer is applied while serving.
      publish(2, "alice", bundle);
      Conditions.await("sequence 2 is applied",
          () -> echo(client, "three").contains("echo is off in sequence 2"));
      assertThat(echo(client, "three")).startsWith("-32012 ").contains("no-echo");
      // The state file is written just after the swap the call above saw.
      Conditions.await("sequence 2 is recorded in the state file", () -> BundleState.read(
          run.resolve("bundle-state.json")).orElseThrow().sequence() == 2);

      // The older signed bundle put back is refused: no rollback without an operator.
      Files.copy(older, bundle, StandardCopyOption.REPLACE_EXISTING);
      long refusedBefore = refusals();
      Conditions.await("the older bundle is refused", () -> refusals() > refusedBefore);
      assertThat(echo(client, "four")).contains("echo is off in sequence 2");
    } finally {
      client.sdk().closeGracefully();
      GatewayRig.awaitEnded("the gateway and its backend ended", all);
      GatewayRig.kill(all);
    }
    List<JsonNode> events = GatewayRig.audit(run);
    assertThat(events).filteredOn(e -> e.path("method").asString().equals("sentinel/bundle.apply"))
        .extracting(e -> e.path("reason").asString())
        .anySatisfy(r -> assertThat(r).contains("sequence 1"))
        .anySatisfy(r -> assertThat(r).contains("sequence 2"));
    assertThat(events).filteredOn(e -> e.path("method").asString().equals("sentinel/bundle.refuse"))
        .extracting(e -> e.path("reason").asString())
        .anySatisfy(r -> assertThat(r).contains("signed by 0 of the 1").contains("untrusted"))
        .anySatisfy(r -> assertThat(r).contains("sequence 1 is not above the running 2"));
    List<String> calls = events.stream()
        .filter(e -> e.path("method").asString().equals("tools/call"))
        .map(e -> e.path("outcome").asString()).toList();
    assertThat(calls.subList(0, 2)).containsExactly("ALLOWED", "ALLOWED");
    assertThat(calls.subList(calls.size() - 2, calls.size())).containsExactly("DENIED", "DENIED");
  }

  @Test
  void stdio_followsADatabaseChannel_appliesAPublish_andRefusesAnUntrustedOne() throws Exception {
    source = Files.createDirectories(dir.resolve("source"));
    run = Files.createDirectories(dir.resolve("run"));
    for (String key : List.of("alice", "mallory")) {
      assertThat(Cli.run("bundle", "keygen", "--out", dir.resolve(key).toString()).exit()).isZero();
    }
    Files.copy(dir.resolve("alice.pub"), run.resolve("alice.pub"));
    String db = "jdbc:sqlite:" + dir.resolve("fleet.db");
    Files.writeString(source.resolve("sentinel.yaml"), String.join("\n",
        "gateway: { request_timeout: 60s, start_timeout: 60s }",
        "identity: { principal: { id: tester, roles: [user] } }",
        "backends:",
        "  - name: echo",
        "    stdio: { command: " + GatewayRig.quote(GatewayRig.JAVA) + ", args: ["
            + GatewayRig.quote(GatewayRig.CLASSPATH_ARGS) + ", "
            + GatewayRig.quote("dev.sentinel.mcp.transport.EchoMcpServer") + "] }",
        "policy: { file: policy.yaml }",
        "audit: { sinks: [ { jsonl: audit.jsonl } ] }",
        ""));
    policy(ALLOW_ECHO);
    Path built = dir.resolve("channel.bundle");
    publishOnChannel(1, "alice", built, db);
    Path boot = Files.writeString(run.resolve("sentinel.yaml"), "bundle: { source: database,"
        + " channel: prod, trust: [alice.pub], poll_interval: 100ms }\n"
        + "database: { url: " + GatewayRig.quote(db) + " }\n");

    GatewayRig.Client client = GatewayRig.connect(boot, "echo");
    ProcessHandle gateway = GatewayRig.gateway(boot);
    List<ProcessHandle> all = Stream.concat(gateway.descendants(), Stream.of(gateway))
        .collect(Collectors.toList());
    try {
      assertThat(echo(client, "one")).contains("one").doesNotContain("(error)");

      policy(DENY_ECHO);
      publishOnChannel(9, "mallory", built, db);
      Conditions.await("the untrusted bundle is refused", () -> refusals() > 0);
      assertThat(echo(client, "two")).contains("two").doesNotContain("(error)");

      publishOnChannel(2, "alice", built, db);
      Conditions.await("sequence 2 is applied",
          () -> echo(client, "three").contains("echo is off in sequence 2"));
      // The state file is written just after the swap.
      Conditions.await("sequence 2 is recorded in the state file", () -> BundleState.read(
          run.resolve("bundle-state.json")).orElseThrow().sequence() == 2);
    } finally {
      client.sdk().closeGracefully();
      GatewayRig.awaitEnded("the gateway and its backend ended", all);
      GatewayRig.kill(all);
    }
    assertThat(GatewayRig.audit(run))
        .filteredOn(e -> e.path("method").asString().equals("sentinel/bundle.refuse"))
        .extracting(e -> e.path("reason").asString())
        .anySatisfy(r -> assertThat(r).contains("signed by 0 of the 1").contains("channel prod"));
  }

  /** Builds and signs the source as a bundle of that sequence and publishes it on prod. */
  private void publishOnChannel(int sequence, String key, Path built, String db) {
    assertThat(Cli.run("bundle", "build", "--config", source.resolve("sentinel.yaml").toString(),
        "-o", built.toString(), "--sequence", Integer.toString(sequence)).exit()).isZero();
    assertThat(Cli.run("bundle", "sign", built.toString(), "--key",
        dir.resolve(key + ".key").toString()).exit()).isZero();
    assertThat(Cli.run("bundle", "publish", built.toString(), "--channel", "prod", "--db", db)
        .exit()).isZero();
  }

  /** How many refused bundles the audit trail holds so far. */
  private long refusals() {
    try {
      return GatewayRig.audit(run).stream()
          .filter(e -> e.path("method").asString().equals("sentinel/bundle.refuse")).count();
    } catch (java.io.IOException | RuntimeException e) {
      return 0; // a line being written: the next look reads it whole
    }
  }
}
