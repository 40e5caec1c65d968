package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.core.testing.Conditions;
import dev.sentinel.core.testing.Gen;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

class McpGatewayPropertiesTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /**
   * Clients that use the same request ids at once, calling tools on several backends that answer
   * in a random order, each get exactly their own answers, under their own ids and id types.
   */
  static LongStream seeds() {
    return Gen.seeds(25);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void requestIds_neverCollideAcrossClientsAndBackends(long seed) {
    Random random = new Random(seed);
    int clientCount = Gen.between(random, 1, 3);
    int backendCount = Gen.between(random, 1, 3);
    List<JsonNode> ids = ids(random);
    List<ScriptedServer> servers = new ArrayList<>();
    List<JsonRpcMessage> held = new CopyOnWriteArrayList<>();
    for (int b = 0; b < backendCount; b++) {
      ScriptedServer server = new ScriptedServer("b" + b).withTools("echo");
      server.handlers.put("tools/call", request -> {
        held.add(request);
        return null;
      });
      servers.add(server);
    }
    // Every client is the same principal: room for all their calls at once.
    try (GatewayFixture fixture = new GatewayFixture(servers, builder -> builder.maxInFlightPerPrincipal(1000))) {
      List<ScriptedClient> clients = new ArrayList<>();
      for (int c = 0; c < clientCount; c++) {
        ScriptedClient client = fixture.client();
        client.initialize();
        clients.add(client);
      }
      List<CompletableFuture<JsonRpcMessage>> answers = new ArrayList<>();
      List<String> expected = new ArrayList<>();
      for (int c = 0; c < clientCount; c++) {
        for (int i = 0; i < ids.size(); i++) {
          String tag = "client" + c + "-request" + i;
          ObjectNode params = NODES.objectNode().put("name", "b" + ((c + i) % backendCount) + "__echo");
          params.putObject("arguments").put("tag", tag);
          answers.add(clients.get(c).request(ids.get(i), "tools/call", params));
          expected.add(tag);
        }
      }
      int total = answers.size();
      Conditions.await("every call reached a backend", () -> held.size() == total);
      List<JsonRpcMessage> shuffled = new ArrayList<>(held);
      Collections.shuffle(shuffled, random);
      for (JsonRpcMessage request : shuffled) {
        ObjectNode result = NODES.objectNode();
        result.set("tag", request.params().path("arguments").path("tag"));
        owner(servers, request).send(JsonRpc.result(request.id(), result));
      }
      for (int k = 0; k < total; k++) {
        JsonRpcMessage answer = ScriptedClient.await(answers.get(k));
        JsonNode sentId = ids.get(k % ids.size());
        assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
        assertThat(answer.id()).isEqualTo(sentId);
        assertThat(answer.id().isString()).isEqualTo(sentId.isString());
        assertThat(answer.result().path("tag").asString()).isEqualTo(expected.get(k));
      }
      List<String> gatewayIds = new ArrayList<>();
      held.forEach(request -> gatewayIds.add(JsonRpc.idKey(request.id())));
      assertThat(gatewayIds).doesNotHaveDuplicates();
    }
  }

  private static ScriptedServer owner(List<ScriptedServer> servers, JsonRpcMessage request) {
    for (ScriptedServer server : servers) {
      if (server.received.contains(request)) {
        return server;
      }
    }
    throw new AssertionError("no server received " + request.raw());
  }

  /** 1 to 12 ids that differ by {@link JsonRpc#idKey}: numbers and strings that look alike. */
  private static List<JsonNode> ids(Random random) {
    List<JsonNode> ids = new ArrayList<>();
    Set<String> keys = new HashSet<>();
    int size = Gen.between(random, 1, 12);
    while (ids.size() < size) {
      JsonNode id = random.nextBoolean()
          ? NODES.numberNode(Gen.between(random, -5, 50))
          : NODES.stringNode(Gen.pick(random, "1", "2", "a", "", "x-1", "10"));
      if (keys.add(JsonRpc.idKey(id))) {
        ids.add(id);
      }
    }
    return ids;
  }
}
