package dev.sentinel.runner.http.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.anthropic.client.AnthropicClient;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The upstream fixture speaks both APIs: the official Java clients, pointed at it directly,
 * read its answers, streams, usage and errors.
 */
class ModelFixtureTest {
  private static ModelFixture fixture;
  private static OpenAIClient openAi;
  private static AnthropicClient anthropic;

  @BeforeAll
  static void start() {
    fixture = ModelFixture.start();
    openAi = Sdks.openAi(fixture.v1(), "sk-direct");
    anthropic = Sdks.anthropic(fixture.origin(), "sk-ant-direct");
  }

  @AfterAll
  static void stop() {
    openAi.close();
    anthropic.close();
    fixture.close();
  }

  @Test
  void openAi_chatCompletion_withUsage() {
    ChatCompletion completion = openAi.chat().completions().create(Sdks.chat("gpt-4o"));
    assertThat(completion.choices().get(0).message().content()).hasValue(ModelFixture.ANSWER);
    assertThat(completion.model()).isEqualTo("gpt-4o");
    assertThat(completion.usage().orElseThrow().totalTokens())
        .isEqualTo(ModelFixture.INPUT_TOKENS + ModelFixture.OUTPUT_TOKENS);
  }

  @Test
  void openAi_stream_chunkByChunk_withFinalUsage() {
    ChatCompletionCreateParams params = Sdks.chat("gpt-4o").toBuilder()
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
    var usage = new java.util.concurrent.atomic.AtomicLong();
    StringBuilder text = new StringBuilder();
    try (var stream = openAi.chat().completions().createStreaming(params)) {
      stream.stream().forEach(chunk -> {
        chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append));
        chunk.usage().ifPresent(u -> usage.set(u.totalTokens()));
      });
    }
    assertThat(text.toString()).isEqualTo(ModelFixture.ANSWER);
    assertThat(usage.get()).isEqualTo(ModelFixture.INPUT_TOKENS + ModelFixture.OUTPUT_TOKENS);
  }

  @Test
  void openAi_embeddingsAndModels() {
    CreateEmbeddingResponse embeddings = openAi.embeddings().create(
        EmbeddingCreateParams.builder().model("embed-small").input("a text").build());
    assertThat(embeddings.data().get(0).embedding()).hasSize(3);
    assertThat(embeddings.usage().promptTokens()).isEqualTo(ModelFixture.INPUT_TOKENS);
    assertThat(openAi.models().list().data().stream().map(Model::id).collect(Collectors.toList()))
        .contains("gpt-4o", "embed-small");
  }

  @Test
  void openAi_errors_carryStatusAndRetryAfter() {
    assertThatThrownBy(() -> openAi.chat().completions().create(Sdks.chat("error-429")))
        .isInstanceOf(com.openai.errors.RateLimitException.class)
        .satisfies(e -> assertThat(((com.openai.errors.RateLimitException) e).headers()
            .values("Retry-After")).containsExactly("7"));
    assertThatThrownBy(() -> openAi.chat().completions().create(Sdks.chat("error-500")))
        .isInstanceOf(com.openai.errors.InternalServerException.class);
  }

  @Test
  void anthropic_message_streamAndCount() {
    Message message = anthropic.messages().create(Sdks.message("claude-fixture"));
    assertThat(message.content().get(0).text().orElseThrow().text()).isEqualTo(ModelFixture.ANSWER);
    assertThat(message.usage().outputTokens()).isEqualTo(ModelFixture.OUTPUT_TOKENS);
    assertThat(Sdks.text(anthropic.messages().createStreaming(Sdks.message("claude-fixture"))))
        .isEqualTo(ModelFixture.ANSWER);
    assertThat(anthropic.messages().countTokens(MessageCountTokensParams.builder()
        .model("claude-fixture").addUserMessage("hi").build()).inputTokens())
        .isEqualTo(ModelFixture.INPUT_TOKENS);
  }

  @Test
  void anthropic_errors_areTyped() {
    assertThatThrownBy(() -> anthropic.messages().create(Sdks.message("error-429")))
        .isInstanceOf(com.anthropic.errors.RateLimitException.class);
    assertThatThrownBy(() -> anthropic.messages().create(Sdks.message("error-500")))
        .isInstanceOf(com.anthropic.errors.InternalServerException.class);
  }

  @Test
  void drip_clientThatCloses_isSeenAsACancel() {
    int before = fixture.cancels();
    try (var stream = openAi.chat().completions().createStreaming(Sdks.chat("drip"))) {
      assertThat(stream.stream().limit(3).count()).isEqualTo(3);
    }
    dev.sentinel.core.testing.Conditions.await("the fixture sees the cancel",
        () -> fixture.cancels() > before);
  }
}
