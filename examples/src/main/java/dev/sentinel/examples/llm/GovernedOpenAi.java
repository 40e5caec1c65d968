package dev.sentinel.examples.llm;

import com.openai.client.OpenAIClient;
import com.openai.core.ObjectMappers;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Request;
import dev.sentinel.core.AuditView;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.llm.ModelRequest;
import dev.sentinel.core.llm.Usage;
import java.util.Objects;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The OpenAI Java client's chat completions, governed in-process like tool calls: each request
 * is a {@code llm/chat} call named by its model, with its JSON body as the arguments, so the same
 * policy ({@code models:}, conditions on {@code /max_tokens}), limits and audit trail as the
 * gateway apply. The trail shows a summary and the token usage, never the prompt.
 *
 * <pre>{@code
 * GovernedOpenAi models = new GovernedOpenAi(sentinel, OpenAIOkHttpClient.fromEnv(), "openai");
 * ChatCompletion answer = models.create(Credentials.launch(), ChatCompletionCreateParams.builder()
 *     .model("gpt-4o-mini").addUserMessage("Say hello").build());  // throws RefusedException if refused
 * }</pre>
 *
 * <p>Thread-safe as the client is.
 */
public final class GovernedOpenAi {
  private final Sentinel sentinel;
  private final OpenAIClient client;
  private final String upstream;

  /**
   * @param sentinel the pipeline
   * @param client the OpenAI client that sends what the pipeline allows
   * @param upstream the name the policy and trail know the client's endpoint by (the backend)
   */
  public GovernedOpenAi(Sentinel sentinel, OpenAIClient client, String upstream) {
    this.sentinel = Objects.requireNonNull(sentinel, "sentinel");
    this.client = Objects.requireNonNull(client, "client");
    this.upstream = Objects.requireNonNull(upstream, "upstream");
  }

  /**
   * Sends the request if the pipeline allows it.
   *
   * @throws dev.sentinel.core.RefusedException if a stage refused it (the refusal says which)
   * @throws dev.sentinel.core.InvocationFailedException if the client failed
   */
  public ChatCompletion create(Credentials credentials, ChatCompletionCreateParams params) {
    ModelRequest body = body(params);
    Usage usage = new Usage();
    AuditView view = request -> {
      ObjectNode shown = body.summary().put("model", body.model());
      if (usage.known()) {
        shown.set("usage", usage.toJson());
      }
      return shown;
    };
    CallResult<ChatCompletion> result = sentinel.call(
        Call.of(credentials, new Request(Request.LLM_CHAT, upstream, body.model(), body.json())),
        request -> {
          ChatCompletion completion = client.chat().completions().create(params);
          completion.usage().ifPresent(u -> usage.read(tools.jackson.databind.node.JsonNodeFactory
              .instance.objectNode().set("usage", tools.jackson.databind.node.JsonNodeFactory
                  .instance.objectNode().put("prompt_tokens", u.promptTokens())
                  .put("completion_tokens", u.completionTokens()))));
          return completion;
        }, view);
    // Allowed, the value is the completion the client returned (never null).
    return Objects.requireNonNull(result.valueOrThrow(), "completion");
  }

  /** The request's JSON body, as the client will send it, read strictly. */
  private static ModelRequest body(ChatCompletionCreateParams params) {
    try {
      return ModelRequest.parse(ObjectMappers.jsonMapper().writeValueAsBytes(params._body()));
    } catch (com.fasterxml.jackson.core.JsonProcessingException | ModelRequest.Invalid e) {
      throw new IllegalArgumentException("the request cannot be governed: " + e.getMessage(), e);
    }
  }

  /** The JSON the policy decides on for these params (for policy tests). */
  static JsonNode arguments(ChatCompletionCreateParams params) {
    return body(params).json();
  }
}
