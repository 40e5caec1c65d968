package dev.sentinel.runner.http.llm;

import dev.sentinel.api.Request;
import dev.sentinel.core.llm.LlmApi;
import org.jspecify.annotations.Nullable;

/** The routes the LLM endpoint serves, with the API, method and governed method of each. */
enum LlmRoute {
  CHAT_COMPLETIONS("/v1/chat/completions", LlmApi.OPENAI, Request.LLM_CHAT, true),
  EMBEDDINGS("/v1/embeddings", LlmApi.OPENAI, Request.LLM_EMBEDDINGS, true),
  MESSAGES("/v1/messages", LlmApi.ANTHROPIC, Request.LLM_CHAT, true),
  COUNT_TOKENS("/v1/messages/count_tokens", LlmApi.ANTHROPIC, Request.LLM_CHAT, false),
  MODELS("/v1/models", LlmApi.OPENAI, null, false);

  private final String path;
  private final LlmApi api;
  private final @Nullable String method;
  private final boolean chargesTokens;

  LlmRoute(String path, LlmApi api, @Nullable String method, boolean chargesTokens) {
    this.path = path;
    this.api = api;
    this.method = method;
    this.chargesTokens = chargesTokens;
  }

  /** The route of a path, or {@code null}. */
  static @Nullable LlmRoute of(String path) {
    for (LlmRoute route : values()) {
      if (route.path.equals(path)) {
        return route;
      }
    }
    return null;
  }

  String path() {
    return path;
  }

  /** The path at the upstream, after its base URL (which ends where {@code /v1} is). */
  String upstreamPath() {
    return path.substring("/v1".length());
  }

  LlmApi api() {
    return api;
  }

  /** The governed method ({@code llm/chat}, {@code llm/embeddings}), or null for listing. */
  @Nullable String method() {
    return method;
  }

  boolean get() {
    return this == MODELS;
  }

  /** Whether the route's usage counts against token budgets. */
  boolean chargesTokens() {
    return chargesTokens;
  }
}
