package dev.sentinel.core.llm;

import java.util.Locale;

/** The wire API an upstream speaks, and a client route speaks. */
public enum LlmApi {
  /** OpenAI's: {@code /v1/chat/completions}, {@code /v1/embeddings}, {@code /v1/models}. */
  OPENAI,
  /** Anthropic's: {@code /v1/messages}, {@code /v1/messages/count_tokens}. */
  ANTHROPIC;

  /** The name as written in the config: {@code openai} or {@code anthropic}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
