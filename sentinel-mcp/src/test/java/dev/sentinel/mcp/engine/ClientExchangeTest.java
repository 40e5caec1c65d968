package dev.sentinel.mcp.engine;

import static dev.sentinel.mcp.engine.ScriptedClient.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Transport;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A transport that delivers {@link Transport.Exchange exchanges} (as Streamable HTTP does, one per
 * POST): the engine takes each request as the principal its transport authenticated, without
 * authenticating it again, and answers it, with what belongs to it, through its own exchange;
 * only what belongs to no request goes through {@code send}. No HTTP here: the routing is the
 * engine's.
 */
class ClientExchangeTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final Principal ALICE = Principal.of("alice", "user");
  private final AtomicInteger authentications = new AtomicInteger();
  private GatewayFixture fixture;

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  /** The fixture's two bearer tokens, counting every authentication. */
  private Authenticator counting() {
    Authenticator tokens = GatewayFixture.twoPrincipals();
    return credentials -> {
      authentications.incrementAndGet();
      return tokens.authenticate(credentials);
    };
  }

  private void start(ScriptedServer... backends) {
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(backends), counting(), builder -> {});
  }

  private static ObjectNode toolCall(String name, String progressToken) {
    ObjectNode params = NODES.objectNode().put("name", name);
    params.putObject("arguments");
    if (progressToken != null) {
      params.putObject("_meta").put("progressToken", progressToken);
    }
    return params;
  }

  @Test
  void requestsAreTakenAsTheirTransportsPrincipalWithoutAuthenticatingAgain() {
    start(new ScriptedServer("alpha").withTools("echo"));
    ExchangeTransport client = new ExchangeTransport();
    fixture.gateway.serve(client, Credentials.bearer("alice"), ALICE, "http:test");
    client.initialize();

    for (int i = 0; i < 3; i++) {
      assertThat(await(client.request(i + 10, "tools/call", toolCall("alpha__echo", null)).answer).kind())
          .isEqualTo(JsonRpcMessage.Kind.RESULT);
    }

    assertThat(authentications).as("authenticated by the transport, not again by the engine").hasValue(0);
    assertThat(fixture.trail()).hasSize(3).allSatisfy(event -> {
      assertThat(event.principal()).isEqualTo("alice");
      assertThat(event.outcome()).isEqualTo(Outcome.ALLOWED);
    });
    assertThat(client.aboutRequests()).as("nothing answered through send").isEmpty();
  }

  @Test
  void anExchangeOfAnotherPrincipalIsRefusedOnThisSession() {
    start(new ScriptedServer("alpha").withTools("echo"));
    ExchangeTransport client = new ExchangeTransport();
    fixture.gateway.serve(client, Credentials.bearer("alice"), ALICE, "http:test");
    client.initialize();

    client.as = Principal.of("bob", "user");
    client.credentials = Credentials.bearer("bob");
    JsonRpcMessage answer = await(client.request(7, "tools/call", toolCall("alpha__echo", null)).answer);

    assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(answer.error().path("code").asInt()).isEqualTo(ErrorCode.UNAUTHENTICATED.code());
    assertThat(fixture.servers.get(0).received("tools/call")).isEmpty();
  }

  @Test
  void progressAndTheAnswerGoToTheExchangeOfTheirRequest() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("work");
    alpha.handlers.put("tools/call", request -> {
      JsonNode token = request.params().path("_meta").path("progressToken");
      alpha.send(JsonRpc.notification("notifications/progress",
          NODES.objectNode().put("progress", 1).set("progressToken", token)));
      return JsonRpc.result(request.id(), NODES.objectNode().put("done", true));
    });
    start(alpha);
    ExchangeTransport client = new ExchangeTransport();
    fixture.gateway.serve(client, Credentials.bearer("alice"), ALICE, "http:test");
    client.initialize();

    Sent first = client.request(1, "tools/call", toolCall("alpha__work", "one"));
    Sent second = client.request(2, "tools/call", toolCall("alpha__work", "two"));
    await(first.answer);
    await(second.answer);

    assertThat(first.replies).extracting(message -> message.path("params").path("progressToken").asString(""))
        .containsExactly("one", "");
    assertThat(second.replies).extracting(message -> message.path("params").path("progressToken").asString(""))
        .containsExactly("two", "");
    assertThat(first.replies.get(1).path("id").asInt()).isEqualTo(1);
    assertThat(second.replies.get(1).path("id").asInt()).isEqualTo(2);
    assertThat(client.aboutRequests()).isEmpty();
  }

  @Test
  void aBackendsQuestionGoesToTheExchangeOfTheRequestItIsAbout() {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("think");
    alpha.handlers.put("tools/call", request -> {
      alpha.request(NODES.stringNode("s-1"), "sampling/createMessage", NODES.objectNode().put("maxTokens", 5))
          .thenAccept(answer -> alpha.send(JsonRpc.result(request.id(),
              NODES.objectNode().set("sampled", answer.raw().path("result")))));
      return null;
    });
    start(alpha);
    ExchangeTransport client = new ExchangeTransport();
    fixture.gateway.serve(client, Credentials.bearer("alice"), ALICE, "http:test");
    ObjectNode capabilities = NODES.objectNode();
    capabilities.putObject("sampling");
    client.initialize(capabilities);

    Sent call = client.request(5, "tools/call", toolCall("alpha__think", null));
    JsonNode question = client.awaitReply(call, 0);
    assertThat(question.path("method").asString()).isEqualTo("sampling/createMessage");
    // The client's answer arrives in an exchange of its own, as on HTTP (a POST answered 202).
    ObjectNode result = NODES.objectNode().put("role", "assistant").put("model", "m");
    result.putObject("content").put("type", "text").put("text", "ok");
    client.deliver(JsonRpc.result(question.get("id"), result));

    JsonRpcMessage answer = await(call.answer);
    assertThat(answer.result().path("sampled").path("content").path("text").asString()).isEqualTo("ok");
    assertThat(client.aboutRequests()).as("the question went with its request, not to the standalone stream").isEmpty();
    assertThat(authentications).hasValue(0);
    assertThat(fixture.trail()).extracting(AuditEvent::principal).containsOnly("alice");
  }

  @Test
  void aCancelledRequestsExchangeIsToldItGetsNoAnswer() throws Exception {
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("hang");
    alpha.handlers.put("tools/call", request -> null); // never answers
    start(alpha);
    ExchangeTransport client = new ExchangeTransport();
    fixture.gateway.serve(client, Credentials.bearer("alice"), ALICE, "http:test");
    client.initialize();

    Sent call = client.request(9, "tools/call", toolCall("alpha__hang", null));
    dev.sentinel.core.testing.Conditions.await("the backend has the call", () -> !alpha.received("tools/call").isEmpty());
    client.deliver(JsonRpc.notification("notifications/cancelled",
        NODES.objectNode().put("requestId", 9).put("reason", "changed my mind")));

    call.cancelled.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(call.answer).as("a cancelled request gets no answer").isNotDone();
    dev.sentinel.core.testing.Conditions.await("the backend hears the cancellation",
        () -> !alpha.received("notifications/cancelled").isEmpty());
  }

  @Test
  void anExchangeWithoutAPrincipal_isAuthenticatedByTheEngine() {
    start(new ScriptedServer("alpha").withTools("echo"));
    ExchangeTransport client = new ExchangeTransport();
    client.as = null; // a transport whose authenticator is not the engine's
    fixture.gateway.serve(client, Credentials.bearer("alice"), null, "http:test");
    client.initialize();

    assertThat(await(client.request(3, "tools/call", toolCall("alpha__echo", null)).answer).kind())
        .isEqualTo(JsonRpcMessage.Kind.RESULT);
    client.credentials = Credentials.bearer("mallory");
    JsonRpcMessage refused = await(client.request(4, "tools/call", toolCall("alpha__echo", null)).answer);

    assertThat(refused.error().path("code").asInt()).isEqualTo(ErrorCode.UNAUTHENTICATED.code());
    assertThat(authentications.get()).as("the engine authenticated what the transport did not").isGreaterThan(0);
  }

  @Test
  void aBackendsQuestionAboutNoRequest_isDecidedByCredentialsAuthenticatedNow_notAnEarlierPrincipal() {
    java.util.concurrent.atomic.AtomicBoolean revoked = new java.util.concurrent.atomic.AtomicBoolean();
    ScriptedServer alpha = new ScriptedServer("alpha").withTools("echo");
    fixture = new GatewayFixture(GatewayFixture.POLICY, List.of(alpha), credentials ->
        "alice".equals(credentials.secret()) && !revoked.get()
            ? dev.sentinel.api.AuthenticationResult.success(ALICE)
            : dev.sentinel.api.AuthenticationResult.failure("revoked or unknown"), builder -> {});
    ExchangeTransport client = new ExchangeTransport();
    fixture.gateway.serve(client, Credentials.bearer("alice"), ALICE, "http:test");
    ObjectNode capabilities = NODES.objectNode();
    capabilities.putObject("roots");
    client.initialize(capabilities);
    assertThat(await(client.request(1, "tools/call", toolCall("alpha__echo", null)).answer).kind())
        .isEqualTo(JsonRpcMessage.Kind.RESULT);

    revoked.set(true); // the key is revoked while the session idles
    JsonRpcMessage answer = await(alpha.request(NODES.numberNode(9), "roots/list", null));

    assertThat(answer.kind()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(client.unrelated).as("the question never reaches the client")
        .noneMatch(message -> "roots/list".equals(message.path("method").asString("")));
    assertThat(fixture.trail()).filteredOn(event -> "roots/list".equals(event.method())).singleElement()
        .satisfies(event -> assertThat(event.outcome()).isEqualTo(Outcome.UNAUTHENTICATED));
  }

  /** One request sent as an exchange: what the engine replied through it, and its answer. */
  static final class Sent {
    final List<JsonNode> replies = new CopyOnWriteArrayList<>();
    final CompletableFuture<JsonRpcMessage> answer = new CompletableFuture<>();
    /** Completes when the engine says it will not answer (the client cancelled). */
    final CompletableFuture<Void> cancelled = new CompletableFuture<>();
  }

  /** One client message as the transport hands it over, with where its replies go. */
  private record Delivered(JsonRpcMessage classified, Credentials credentials, Principal principal,
      java.util.function.Consumer<JsonNode> replies, Runnable onCancelled) implements McpExchange {
    @Override
    public void reply(JsonNode message) {
      replies.accept(message);
    }

    @Override
    public void cancelled() {
      onCancelled.run();
    }
  }

  /** The engine side of a transport that delivers every client message as an exchange. */
  static final class ExchangeTransport implements Transport {
    /** What the engine sent through {@link #send}: what belongs to no exchange. */
    final List<JsonNode> unrelated = new CopyOnWriteArrayList<>();
    volatile Principal as = ALICE;
    volatile Credentials credentials = Credentials.bearer("alice");
    private volatile Receiver receiver;

    @Override
    public void start(Receiver receiver) {
      this.receiver = receiver;
    }

    @Override
    public void send(JsonNode message) {
      unrelated.add(message);
    }

    @Override
    public void close() {}

    void initialize() {
      initialize(NODES.objectNode());
    }

    void initialize(ObjectNode capabilities) {
      ObjectNode params = NODES.objectNode().put("protocolVersion", "2025-11-25");
      params.set("capabilities", capabilities);
      params.putObject("clientInfo").put("name", "exchanges").put("version", "1");
      assertThat(await(request(0, "initialize", params).answer).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
      deliver(JsonRpc.notification("notifications/initialized", null));
    }

    Sent request(int id, String method, ObjectNode params) {
      Sent sent = new Sent();
      receiver.exchange(new Delivered(JsonRpc.classify(JsonRpc.request(NODES.numberNode(id), method, params)),
          credentials, as, reply -> {
            sent.replies.add(reply);
            if (!reply.has("method")) {
              sent.answer.complete(JsonRpc.classify(reply));
            }
          }, () -> sent.cancelled.complete(null)));
      return sent;
    }

    /**
     * What went through {@link #send} but belongs to a request: anything but a list change
     * (which the backends' coming up causes, and which belongs to no request).
     */
    List<JsonNode> aboutRequests() {
      return unrelated.stream()
          .filter(message -> !message.path("method").asString("").endsWith("/list_changed"))
          .collect(java.util.stream.Collectors.toList());
    }

    /** A notification or an answer, in an exchange whose replies nobody expects. */
    void deliver(JsonNode message) {
      receiver.exchange(new Delivered(JsonRpc.classify(message), credentials, as, unrelated::add, () -> {}));
    }

    /** Waits for the exchange's reply at an index. */
    JsonNode awaitReply(Sent sent, int index) {
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (sent.replies.size() <= index) {
        assertThat(System.nanoTime()).as("a reply within 10 s").isLessThan(deadline);
        Thread.onSpinWait();
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
      }
      return sent.replies.get(index);
    }
  }
}
