package dev.sentinel.core.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.jsonrpc.JsonRpc;
import dev.sentinel.core.jsonrpc.JsonRpcMessage;
import dev.sentinel.core.testing.Conditions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

class McpGatewayPropertiesTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /**
   * Clients that use the same request ids at once, calling tools on several backends that answer
   * in a random order, each get exactly their own answers, under their own ids and id types.
   */
  @Property(tries = 25)
  void requestIds_neverCollideAcrossClientsAndBackends(
      @ForAll @IntRange(min = 1, max = 3) int clientCount,
      @ForAll @IntRange(min = 1, max = 3) int backendCount,
      @ForAll("ids") List<JsonNode> ids,
      @ForAll long seed) {
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
      Collections.shuffle(shuffled, new Random(seed));
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

  @Provide
  Arbitrary<List<JsonNode>> ids() {
    Arbitrary<JsonNode> numbers = Arbitraries.integers().between(-5, 50).map(n -> (JsonNode) NODES.numberNode(n));
    Arbitrary<JsonNode> strings = Arbitraries.of("1", "2", "a", "", "x-1", "10").map(s -> (JsonNode) NODES.stringNode(s));
    return Arbitraries.oneOf(numbers, strings).list().ofMinSize(1).ofMaxSize(12)
        .uniqueElements(JsonRpc::idKey);
  }
}
