package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.mcp.streamable.Bounds;
import dev.sentinel.mcp.streamable.MemoryChannel;
import dev.sentinel.mcp.streamable.StatelessExchange;
import dev.sentinel.mcp.streamable.StreamableHub;
import dev.sentinel.mcp.streamable.StreamableSession;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The engine serving Streamable HTTP sessions and stateless exchanges with no HTTP server: what
 * {@code sentinel http} does once its Jetty handler has authenticated and classified a request,
 * with in-memory responses. A session's initialize, a call whose progress turns its response
 * into a stream, a backend's question on the stream of the call it is about (answered in a
 * request of its own, as a POST answered 202), and a stateless 2026-07-28 call.
 */
class StreamableEngineTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Principal ALICE = Principal.of("alice", "user");
  private static final Credentials TOKEN = Credentials.bearer("alice");

  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final StreamableHub hub = new StreamableHub(Clock.system(), pool,
      new Bounds(10, 5, 4, 64, 64 * 1024, 256, 256 * 1024), new StreamableHub.Counters() {
        @Override
        public void refused(String cap) {}

        @Override
        public void eventDropped() {}

        @Override
        public void streamDropped(String reason) {}
      });
  private GatewayFixture fixture;

  @AfterEach
  void stop() {
    for (StreamableSession session : hub.sessions()) {
      session.terminate();
    }
    if (fixture != null) {
      fixture.close();
    }
    pool.shutdownNow();
  }

  private static JsonRpcMessage request(int id, String method, ObjectNode params) {
    return JsonRpc.classify(JsonRpc.request(NODES.numberNode(id), method, params));
  }

  private static ObjectNode toolCall(String name, String progressToken) {
    ObjectNode params = NODES.objectNode().put("name", name);
    params.putObject("arguments");
    if (progressToken != null) {
      params.putObject("_meta").put("progressToken", progressToken);
    }
    return params;
  }

  /** A session as {@code sentinel http} opens one: served by the engine, then its initialize. */
  private StreamableSession initialized(ObjectNode capabilities) {
    StreamableSession session = hub.open(ALICE.id()).session();
    session.served(fixture.gateway.serve(session, TOKEN, ALICE, "http:test"));
    ObjectNode params = NODES.objectNode().put("protocolVersion", "2025-11-25");
    params.set("capabilities", capabilities);
    params.putObject("clientInfo").put("name", "memory").put("version", "1");
    MemoryChannel channel = new MemoryChannel();
    session.request(request(0, "initialize", params), TOKEN, ALICE, channel, true, true, true);
    assertThat(channel.awaitDone().json().path("result").path("protocolVersion").asString()).isEqualTo("2025-11-25");
    session.accept(JsonRpc.classify(JsonRpc.notification("notifications/initialized", null)), TOKEN, ALICE);
    return session;
  }

  @Test
  void aCallsProgressAndAnswer_streamOnItsOwnResponse_primedForResumption() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("work");
    alpha.handlers.put("tools/call", call -> {
      alpha.send(JsonRpc.notification("notifications/progress", NODES.objectNode().put("progress", 1)
          .set("progressToken", call.params().path("_meta").path("progressToken"))));
      return JsonRpc.result(call.id(), NODES.objectNode().put("done", true));
    });
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(alpha), GatewayFixture.twoPrincipals(), b -> {});
    StreamableSession session = initialized(NODES.objectNode());

    MemoryChannel channel = new MemoryChannel();
    session.request(request(1, "tools/call", toolCall("alpha__work", "mine")), TOKEN, ALICE, channel, true, true,
        false);

    channel.awaitDone();
    assertThat(channel.kind()).isEqualTo("sse");
    List<String[]> events = channel.events();
    assertThat(events.get(0)[1]).as("2025-11-25: a priming event first").isEmpty();
    assertThat(channel.messages()).extracting(message -> message.path("params").path("progressToken").asString(""))
        .containsExactly("mine", "");
    assertThat(channel.messages().get(1).path("result").path("done").asBoolean()).isTrue();
    assertThat(fixture.trail()).extracting(AuditEvent::principal).containsOnly("alice");
  }

  @Test
  void aBackendsQuestion_goesOnTheStreamOfTheCallItIsAbout_andItsAnswerComesInARequestOfItsOwn() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("think");
    alpha.handlers.put("tools/call", call -> {
      alpha.request(NODES.stringNode("s-1"), "sampling/createMessage", NODES.objectNode().put("maxTokens", 5))
          .thenAccept(answer -> alpha.send(JsonRpc.result(call.id(),
              NODES.objectNode().set("sampled", answer.raw().path("result")))));
      return null;
    });
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(alpha), GatewayFixture.twoPrincipals(), b -> {});
    ObjectNode capabilities = NODES.objectNode();
    capabilities.putObject("sampling");
    StreamableSession session = initialized(capabilities);
    MemoryChannel standalone = new MemoryChannel();
    session.listen(standalone, null);

    MemoryChannel channel = new MemoryChannel();
    session.request(request(5, "tools/call", toolCall("alpha__think", null)), TOKEN, ALICE, channel, true, true,
        false);
    Conditions.await("the question is on the call's stream", () -> channel.messages().size() == 1);
    JsonNode question = channel.messages().get(0);
    assertThat(question.path("method").asString()).isEqualTo("sampling/createMessage");
    ObjectNode result = NODES.objectNode().put("role", "assistant").put("model", "m");
    result.putObject("content").put("type", "text").put("text", "ok");
    assertThat(session.accept(JsonRpc.classify(JsonRpc.result(question.get("id"), result)), TOKEN, ALICE)).isTrue();

    channel.awaitDone();
    assertThat(channel.messages().get(1).path("result").path("sampled").path("content").path("text").asString())
        .isEqualTo("ok");
    assertThat(standalone.messages()).extracting(message -> message.path("method").asString(""))
        .as("the question did not go to the standalone stream").doesNotContain("sampling/createMessage");
  }

  @Test
  void aStatelessCall_isAnsweredInJsonOnItsResponse_andLeavesNothingBehind() throws Exception {
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(new ScriptedServer("alpha").withTools("echo")),
        GatewayFixture.twoPrincipals(), b -> {});
    MemoryChannel channel = new MemoryChannel();
    StatelessExchange exchange = new StatelessExchange(hub, ALICE.id(), channel, true, true);
    ClientSession served = fixture.gateway.serveExchange(exchange, TOKEN, ALICE, "http:test", null);
    ObjectNode params = toolCall("alpha__echo", null);
    ObjectNode meta = params.putObject("_meta");
    meta.put("io.modelcontextprotocol/protocolVersion", "2026-07-28");
    meta.putObject("io.modelcontextprotocol/clientInfo").put("name", "memory").put("version", "1");
    meta.putObject("io.modelcontextprotocol/clientCapabilities");

    exchange.deliver(served, request(9, "tools/call", params), TOKEN, ALICE);

    JsonNode answer = channel.awaitDone().json();
    assertThat(channel.status()).isEqualTo(200);
    assertThat(answer.path("id").asInt()).isEqualTo(9);
    assertThat(answer.path("result").path("resultType").asString()).isEqualTo("complete");
    assertThat(hub.awaitQuiet(java.util.concurrent.TimeUnit.SECONDS.toNanos(10))).as("a drain waits for nothing").isTrue();
    assertThat(fixture.trail()).extracting(AuditEvent::principal).containsExactly("alice");
  }
}
