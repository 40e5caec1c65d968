package dev.sentinel.runner.http.llm;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.net.URI;
import java.time.Duration;

/** The official clients, configured for tests: no retries, a generous timeout. */
final class Sdks {
  private Sdks() {}

  /** OpenAI's Java client on a base URL ending in {@code /v1}. */
  static OpenAIClient openAi(URI v1, String key) {
    return OpenAIOkHttpClient.builder().baseUrl(v1.toString()).apiKey(key).maxRetries(0)
        .timeout(Duration.ofSeconds(30)).build();
  }

  /** Anthropic's Java client on an origin (it adds {@code /v1} itself). */
  static AnthropicClient anthropic(URI origin, String key) {
    return AnthropicOkHttpClient.builder().baseUrl(origin.toString()).apiKey(key).maxRetries(0)
        .timeout(Duration.ofSeconds(30)).build();
  }

  static ChatCompletionCreateParams chat(String model) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("Say hello").build();
  }

  static MessageCreateParams message(String model) {
    return MessageCreateParams.builder().model(model).maxTokens(256).addUserMessage("Say hello").build();
  }

  /** The text of an OpenAI stream, chunk by chunk. */
  static String text(com.openai.core.http.StreamResponse<ChatCompletionChunk> stream) {
    StringBuilder out = new StringBuilder();
    try (stream) {
      stream.stream().forEach(chunk -> chunk.choices().forEach(
          choice -> choice.delta().content().ifPresent(out::append)));
    }
    return out.toString();
  }

  /** The text of an Anthropic stream. */
  static String text(StreamResponse<RawMessageStreamEvent> stream) {
    StringBuilder out = new StringBuilder();
    try (stream) {
      stream.stream().forEach(event -> event.contentBlockDelta().ifPresent(
          delta -> delta.delta().text().ifPresent(text -> out.append(text.text()))));
    }
    return out.toString();
  }
}
