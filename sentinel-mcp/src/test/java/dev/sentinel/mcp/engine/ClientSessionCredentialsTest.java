package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Credentials;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@link ClientSession#present}: a session's requests are governed with the credentials last
 * presented (HTTP: each request's own), not only with those it was served with.
 */
class ClientSessionCredentialsTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private GatewayFixture fixture;

  @AfterEach
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private static ObjectNode echo() {
    ObjectNode params = NODES.objectNode().put("name", "alpha__echo");
    params.putObject("arguments");
    return params;
  }

  @Test
  void present_governsLaterRequestsWithTheNewCredentials() {
    fixture = new GatewayFixture(List.of(new ScriptedServer("alpha").withTools("echo")), builder -> {});
    ScriptedClient client = fixture.client(); // served with the launch identity, which the fixture accepts
    client.initialize();
    assertThat(client.call("tools/call", echo()).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);

    client.session.present(Credentials.apiKey("snk_not_accepted_here"));
    JsonRpcMessage refused = client.call("tools/call", echo());
    assertThat(refused.kind()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(refused.error().path("code").asInt()).isEqualTo(ErrorCode.UNAUTHENTICATED.code());
    assertThat(client.call("tools/list", NODES.objectNode()).result().path("tools")).isEmpty();

    client.session.present(Credentials.launch());
    assertThat(client.call("tools/call", echo()).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
  }
}
