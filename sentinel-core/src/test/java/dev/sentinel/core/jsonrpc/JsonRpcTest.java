package dev.sentinel.core.jsonrpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Outcome;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class JsonRpcTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static JsonRpcMessage classify(String json) {
    return JsonRpc.classify(JSON.readTree(json));
  }

  @Test
  void classify_requestKeepsIdTypeAndRawFields() {
    JsonRpcMessage request = classify("{\"jsonrpc\":\"2.0\",\"id\":\"7\",\"method\":\"tools/call\",\"params\":{},\"x\":1}");
    assertThat(request.kind()).isEqualTo(JsonRpcMessage.Kind.REQUEST);
    assertThat(request.id().isString()).isTrue();
    assertThat(request.idText()).isEqualTo("7");
    assertThat(request.method()).isEqualTo("tools/call");
    assertThat(request.raw().path("x").asInt()).isEqualTo(1);

    JsonRpcMessage numeric = classify("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}");
    assertThat(numeric.id().isNumber()).isTrue();
    assertThat(JsonRpc.idKey(numeric.id())).isNotEqualTo(JsonRpc.idKey(request.id()));
  }

  @Test
  void classify_notificationResultAndError() {
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}").kind())
        .isEqualTo(JsonRpcMessage.Kind.NOTIFICATION);
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}").kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
    JsonRpcMessage error = classify("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"x\"}}");
    assertThat(error.kind()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(error.id()).isNull();
    assertThat(error.isResponse()).isTrue();
  }

  @Test
  void classify_invalidMessagesNameTheProblemAndKeepRecoverableIds() {
    JsonRpcMessage noVersion = classify("{\"id\":3,\"method\":\"ping\"}");
    assertThat(noVersion.kind()).isEqualTo(JsonRpcMessage.Kind.INVALID);
    assertThat(noVersion.id().asInt()).isEqualTo(3);
    assertThat(noVersion.problem()).contains("jsonrpc");

    assertThat(classify("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}").problem()).contains("id");
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}").id().asInt()).isEqualTo(1);
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":3}").problem()).contains("params");
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{}}").problem()).contains("both");
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"id\":1}").kind()).isEqualTo(JsonRpcMessage.Kind.INVALID);
    assertThat(classify("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"bad\"}").kind()).isEqualTo(JsonRpcMessage.Kind.INVALID);
    assertThat(classify("42").problem()).contains("object");
  }

  @Test
  void classify_batchIsInvalidAndSaysWhy() {
    JsonRpcMessage batch = classify("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
    assertThat(batch.kind()).isEqualTo(JsonRpcMessage.Kind.INVALID);
    assertThat(batch.problem()).contains("2025-06-18");
    JsonNode response = JsonRpc.invalidRequest(batch);
    assertThat(response.path("error").path("code").asInt()).isEqualTo(-32600);
    assertThat(response.path("id").isNull()).isTrue();
  }

  @Test
  void builders_produceWellFormedMessages() {
    JsonNode error = JsonRpc.error(JSON.readTree("\"a\""), ErrorCode.INVALID_PARAMS, "unknown tool: x");
    assertThat(error.toString())
        .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"error\":{\"code\":-32602,\"message\":\"unknown tool: x\"}}");
    assertThat(JsonRpc.classify(error).kind()).isEqualTo(JsonRpcMessage.Kind.ERROR);
    assertThat(JsonRpc.parseError("unexpected end").path("error").path("code").asInt()).isEqualTo(-32700);
    assertThat(JsonRpc.methodNotFound(JSON.readTree("1"), "x/y").path("error").path("message").asString())
        .isEqualTo("method not found: x/y");
    assertThat(JsonRpc.classify(JsonRpc.notification("n", null)).kind()).isEqualTo(JsonRpcMessage.Kind.NOTIFICATION);
    assertThat(JsonRpc.idKey(JSON.readTree("1.0"))).isEqualTo(JsonRpc.idKey(JSON.readTree("1")));
  }

  @Test
  void errorCode_refusalCodesAreStable() {
    assertThat(ErrorCode.forRefusal(Outcome.UNAUTHENTICATED).code()).isEqualTo(-32011);
    assertThat(ErrorCode.forRefusal(Outcome.DENIED).code()).isEqualTo(-32012);
    assertThat(ErrorCode.forRefusal(Outcome.DISABLED).code()).isEqualTo(-32013);
    assertThat(ErrorCode.forRefusal(Outcome.LIMITED).code()).isEqualTo(-32014);
    assertThat(ErrorCode.forRefusal(Outcome.UNCONFIRMED).code()).isEqualTo(-32015);
    assertThat(ErrorCode.forRefusal(Outcome.UNAVAILABLE).code()).isEqualTo(-32016);
    assertThatThrownBy(() -> ErrorCode.forRefusal(Outcome.ALLOWED)).isInstanceOf(IllegalArgumentException.class);
  }
}
