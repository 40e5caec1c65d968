package dev.sentinel.mcp.jsonrpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Outcome;
import dev.sentinel.core.internal.WireJson;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;

class JsonRpcTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final WireJson WIRE = new WireJson(StreamReadConstraints.defaults());
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static JsonNode wire(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    return WIRE.read(bytes, 0, bytes.length);
  }

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
    assertThat(JsonRpc.idKey(NODES.numberNode(1L))).isEqualTo(JsonRpc.idKey(JSON.readTree("1")));
    assertThat(JsonRpc.idKey(NODES.numberNode(BigInteger.ONE))).isEqualTo(JsonRpc.idKey(JSON.readTree("1")));
  }

  /**
   * Ids the gateway cannot answer with the same token: a double-reading peer turns 1e999 into
   * Infinity (it was answered with id "Infinity"), 1.5 is not an integer as JSON-RPC asks,
   * integers past 64 bits do not fit the ids the gateway keeps. Refused, with id null.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"1e999", "1.5", "1.0", "1e2", "-0.0", "9223372036854775808",
      "-9223372036854775809", "123456789012345678901234567890", "null", "true", "[1]"})
  void classify_requestWithIdThatCannotRoundTrip_isInvalidWithNullId(String id) {
    String text = "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"ping\"}";
    for (JsonNode message : List.of(JSON.readTree(text), wire(text))) {
      JsonRpcMessage request = JsonRpc.classify(message);

      assertThat(request.kind()).as("%s as %s", id, message.get("id").getNodeType()).isEqualTo(JsonRpcMessage.Kind.INVALID);
      assertThat(request.id()).isNull();
      assertThat(request.problem()).isEqualTo("\"id\" must be a string or an integer of at most 64 bits");
      JsonNode answer = JsonRpc.invalidRequest(request);
      assertThat(answer.toString()).isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
          + "\"message\":\"invalid request: \\\"id\\\" must be a string or an integer of at most 64 bits\"}}");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"1e999", "1.5", "9223372036854775808"})
  void classify_responseWithIdThatCannotRoundTrip_isInvalid(String id) {
    assertThat(JsonRpc.classify(wire("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{}}")).kind())
        .isEqualTo(JsonRpcMessage.Kind.INVALID);
    assertThat(JsonRpc.classify(wire("{\"jsonrpc\":\"2.0\",\"id\":" + id
        + ",\"error\":{\"code\":1,\"message\":\"m\"}}")).kind()).isEqualTo(JsonRpcMessage.Kind.INVALID);
  }

  /** Every integer of 64 bits is kept, and answered with the same token. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"0", "-1", "2147483648", "9223372036854775807", "-9223372036854775808", "\"1e999\""})
  void classify_requestWithStringOrLongId_isAnsweredWithTheSameToken(String id) {
    JsonRpcMessage request = JsonRpc.classify(wire("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"ping\"}"));

    assertThat(request.kind()).isEqualTo(JsonRpcMessage.Kind.REQUEST);
    assertThat(new String(WIRE.write(JsonRpc.result(request.id(), NODES.objectNode())), StandardCharsets.UTF_8))
        .isEqualTo("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{}}");
    assertThat(request.idText()).isEqualTo(id.replace("\"", ""));
  }

  /** Progress tokens may be any number; their keys stay as small as the token and never throw. */
  @Test
  void idKey_ofAnyNumberToken_isShortAndNeverThrows() {
    assertThat(JsonRpc.validToken(wire("1e999999"))).isTrue();
    assertThat(JsonRpc.validId(wire("1e999999"))).isFalse();
    assertThat(JsonRpc.idKey(wire("1e999999"))).isEqualTo("f:1e999999");
    assertThat(JsonRpc.idKey(wire("1e2147483647"))).hasSizeLessThan(20);
    assertThat(JsonRpc.idKey(NODES.numberNode(Double.NaN))).isEqualTo("f:NaN");
    assertThat(JsonRpc.idKey(NODES.numberNode(Double.POSITIVE_INFINITY))).isEqualTo("f:Infinity");
    assertThat(JsonRpc.idKey(wire("123456789012345678901234567890"))).isEqualTo("n:123456789012345678901234567890");
    assertThat(JsonRpc.idKey(wire("1.5"))).isNotEqualTo(JsonRpc.idKey(wire("\"1.5\"")));
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
