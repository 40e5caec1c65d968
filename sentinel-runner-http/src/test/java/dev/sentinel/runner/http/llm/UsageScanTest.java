package dev.sentinel.runner.http.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.llm.Usage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link UsageScan} reads the same usage as {@link Usage#read} of the answer's tree, for answers
 * of both APIs and for answers shaped to mislead: usage nested where it does not count, repeated,
 * of the wrong type, or in something that is not one JSON object.
 */
class UsageScanTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static final List<String> ANSWERS = List.of(
      // OpenAI: a completion, an embeddings answer, a stream's final chunk
      "{\"id\":\"c1\",\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}],"
          + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18}}",
      "{\"object\":\"list\",\"data\":[{\"embedding\":[0.1,0.2]}],"
          + "\"usage\":{\"prompt_tokens\":5,\"total_tokens\":5}}",
      "{\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}",
      // Anthropic: a message, a stream's message_start
      "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],"
          + "\"usage\":{\"input_tokens\":9,\"output_tokens\":2}}",
      "{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":4,"
          + "\"output_tokens\":1}}}",
      // usage where it does not count: inside a choice, a message's content
      "{\"choices\":[{\"usage\":{\"prompt_tokens\":99}}],\"data\":{\"usage\":{\"input_tokens\":1}}}",
      // no usage, or not an object
      "{\"id\":\"x\"}",
      "{\"usage\":null,\"message\":{\"usage\":{\"input_tokens\":6}}}",
      "{\"usage\":[1,2],\"message\":{\"usage\":{\"output_tokens\":8}}}",
      "{\"usage\":{\"prompt_tokens\":\"12\",\"completion_tokens\":-1}}",
      "{\"usage\":{\"prompt_tokens\":1.5,\"completion_tokens\":2}}",
      "{\"message\":\"text\",\"usage\":\"none\"}",
      "{\"message\":{\"usage\":{\"input_tokens\":1}},\"message\":7}",
      // repeated: the last counts
      "{\"usage\":{\"prompt_tokens\":1},\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3}}",
      // not one JSON object
      "[{\"usage\":{\"prompt_tokens\":1}}]",
      "\"usage\"",
      "",
      "{\"usage\":{\"prompt_tokens\":1}",
      "{\"usage\":{\"prompt_tokens\":1}} {\"usage\":{\"prompt_tokens\":2}}",
      "not json at all");

  private static Usage byTree(String answer) {
    Usage usage = new Usage();
    try {
      usage.read(JSON.readTree(answer.getBytes(StandardCharsets.UTF_8)));
    } catch (JacksonException notJson) {
      // no usage
    }
    return usage;
  }

  private static Usage byScan(String answer) {
    Usage usage = new Usage();
    UsageScan.read(answer.getBytes(StandardCharsets.UTF_8), usage);
    return usage;
  }

  @Test
  void readsWhatTheTreeReads_forEveryAnswer() {
    for (String answer : ANSWERS) {
      Usage tree = byTree(answer);
      Usage scan = byScan(answer);
      assertThat(scan.input()).as("input of %s", answer).isEqualTo(tree.input());
      assertThat(scan.output()).as("output of %s", answer).isEqualTo(tree.output());
    }
  }

  @Test
  void countsTheAnswersOwnUsage_notOneNestedElsewhere() {
    Usage openAi = byScan(ANSWERS.get(0));
    assertThat(openAi.input()).isEqualTo(11);
    assertThat(openAi.output()).isEqualTo(7);
    Usage anthropic = byScan(ANSWERS.get(4));
    assertThat(anthropic.input()).isEqualTo(4);
    assertThat(byScan(ANSWERS.get(5)).known()).isFalse();
  }
}
