package dev.sentinel.mcp.jsonrpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class JsonRpcMessageTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static JsonRpcMessage classify(String json) {
    return JsonRpc.classify(JSON.readTree(json));
  }

  @Test
  void required_requestHasIdMethodAndObject() {
    JsonRpcMessage request = classify("{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"method\":\"ping\"}");
    assertThat(request.requiredId()).isSameAs(request.id());
    assertThat(request.requiredId().stringValue()).isEqualTo("7");
    assertThat(request.requiredMethod()).isEqualTo("ping");
    assertThat(request.requiredObject()).isSameAs(request.raw());
  }

  @Test
  void requiredId_resultAndErrorWithIdHaveIt() {
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}").requiredId().longValue())
        .isEqualTo(3);
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-1,\"message\":\"x\"}}")
        .requiredId().longValue()).isEqualTo(4);
  }

  @Test
  void requiredId_whenAbsent_throwsNamingTheKind() {
    JsonRpcMessage notification = classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    assertThatThrownBy(notification::requiredId)
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("NOTIFICATION");
    JsonRpcMessage error = classify("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-1,\"message\":\"x\"}}");
    assertThatThrownBy(error::requiredId)
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("ERROR");
  }

  @Test
  void requiredMethod_notificationHasIt_responsesThrowNamingTheKind() {
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}").requiredMethod())
        .isEqualTo("notifications/initialized");
    JsonRpcMessage result = classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
    assertThatThrownBy(result::requiredMethod)
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("RESULT");
    JsonRpcMessage invalid = classify("{\"id\":1,\"method\":\"ping\"}");
    assertThatThrownBy(invalid::requiredMethod)
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("INVALID");
  }

  @Test
  void requiredObject_invalidNonObjectThrows_invalidObjectHasIt() {
    JsonRpcMessage batch = classify("[{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}]");
    assertThatThrownBy(batch::requiredObject)
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("INVALID");
    JsonRpcMessage invalidObject = classify("{\"id\":1,\"method\":\"ping\"}");
    assertThat(invalidObject.requiredObject()).isSameAs(invalidObject.raw());
  }
}
