package dev.sentinel.core.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Strict bodies, and changes spliced into the bytes without re-serialising anything else. */
class ModelRequestTest {
  private static ModelRequest parse(String body) throws ModelRequest.Invalid {
    return ModelRequest.parse(body.getBytes(StandardCharsets.UTF_8));
  }

  private static String text(ModelRequest request) {
    return new String(request.body(), StandardCharsets.UTF_8);
  }

  @Test
  void withModel_splicesTheModelOnly_keepingNumbersAndSpacing() throws Exception {
    String body = "{ \"temperature\": 0.70, \"model\" : \"default\",\"max_tokens\":1e2,"
        + " \"n\": 12345678901234567890, \"messages\": [] }";
    ModelRequest resolved = parse(body.replace("1e2", "100")).withModel("gpt-4o\"x");
    assertThat(text(resolved)).isEqualTo(body.replace("1e2", "100")
        .replace("\"default\"", "\"gpt-4o\\\"x\""));
    assertThat(resolved.model()).isEqualTo("gpt-4o\"x");
    assertThat(resolved.json().get("model").stringValue()).isEqualTo("gpt-4o\"x");
    assertThat(resolved.json().get("temperature").decimalValue().toString()).isEqualTo("0.70");
  }

  @Test
  void withModel_escapedOriginal_isReplacedWhole() throws Exception {
    ModelRequest request = parse("{\"model\":\"de\\u0066ault\",\"stream\":true}");
    assertThat(request.model()).isEqualTo("default");
    assertThat(text(request.withModel("m"))).isEqualTo("{\"model\":\"m\",\"stream\":true}");
  }

  @Test
  void withIncludeUsage_insertsOrSwitchesOn() throws Exception {
    assertThat(text(parse("{\"model\":\"m\",\"stream\":true}").withIncludeUsage()))
        .isEqualTo("{\"stream_options\":{\"include_usage\":true},\"model\":\"m\",\"stream\":true}");
    assertThat(text(parse("{\"model\":\"m\",\"stream_options\":{}}").withIncludeUsage()))
        .isEqualTo("{\"model\":\"m\",\"stream_options\":{\"include_usage\":true}}");
    assertThat(text(parse("{\"model\":\"m\",\"stream_options\":{\"x\":1}}").withIncludeUsage()))
        .isEqualTo("{\"model\":\"m\",\"stream_options\":{\"include_usage\":true,\"x\":1}}");
    assertThat(text(parse("{\"model\":\"m\",\"stream_options\":{\"include_usage\": false}}")
        .withIncludeUsage()))
        .isEqualTo("{\"model\":\"m\",\"stream_options\":{\"include_usage\": true}}");
    ModelRequest already = parse("{\"model\":\"m\",\"stream_options\":{\"include_usage\":true}}");
    assertThat(already.withIncludeUsage()).isSameAs(already);
  }

  @Test
  void spliceAfterSplice_findsTheNewBodysOffsets() throws Exception {
    // The second change is made to the body the first one produced, whose offsets differ.
    ModelRequest once = parse("{ \"stream_options\" : { \"x\" : 1 }, \"model\" : \"m\" }")
        .withModel("a-much-longer-model-name");
    assertThat(text(once.withIncludeUsage().withModel("b"))).isEqualTo(
        "{ \"stream_options\" : {\"include_usage\":true, \"x\" : 1 }, \"model\" : \"b\" }");
    assertThat(once.withIncludeUsage().json().at("/stream_options/include_usage").asBoolean())
        .isTrue();
  }

  @Test
  void duplicateKeys_areRefused_atAnyDepth() {
    assertThatThrownBy(() -> parse("{\"model\":\"cheap\",\"model\":\"gpt-4o\"}"))
        .isInstanceOf(ModelRequest.Invalid.class).hasMessageContaining("duplicate key");
    assertThatThrownBy(() -> parse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"role\":\"system\"}]}"))
        .isInstanceOf(ModelRequest.Invalid.class).hasMessageContaining("duplicate key");
  }

  @Test
  void badInput_namesTheField() {
    assertThatThrownBy(() -> parse("{\"model\":")).hasMessage("the body is not valid JSON");
    assertThatThrownBy(() -> parse("[1]")).hasMessage("the body must be a JSON object");
    assertThatThrownBy(() -> parse("{}")).hasMessage("'model' is required");
    assertThatThrownBy(() -> parse("{\"model\":7}")).hasMessage("'model' must be a non-empty string");
    assertThatThrownBy(() -> parse("{\"model\":\"m\",\"stream\":\"yes\"}"))
        .hasMessage("'stream' must be true or false");
    assertThatThrownBy(() -> parse("{\"model\":\"m\",\"max_tokens\":1.5}"))
        .hasMessage("'max_tokens' must be a positive whole number");
    assertThatThrownBy(() -> parse("{\"model\":\"m\"} {}")).hasMessage("the body is not valid JSON");
    assertThatThrownBy(() -> parse("[".repeat(1000))).hasMessage("the body is not valid JSON");
  }

  @Test
  void summary_hasNoPromptText() throws Exception {
    ModelRequest request = parse("{\"model\":\"m\",\"max_tokens\":50,\"temperature\":0.2,"
        + "\"system\":\"secret system prompt\",\"messages\":[{\"role\":\"user\",\"content\":\"secret prompt\"}]}");
    assertThat(request.summary().toString()).doesNotContain("secret")
        .contains("\"max_tokens\":50").contains("\"messages_count\":1");
    assertThat(request.maxTokens()).hasValue(50);
  }
}
