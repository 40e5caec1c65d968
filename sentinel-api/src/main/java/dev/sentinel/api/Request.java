package dev.sentinel.api;

import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * One governed action: an MCP method, the backend and target it addresses, and its arguments.
 *
 * <p>The arguments node is not copied, for speed: do not change it after handing it over.
 *
 * @param method the MCP method, such as {@code tools/call} or {@code resources/read}
 * @param backend the backend that owns the target, or {@code null} for gateway-level methods
 * @param name the tool or prompt name, the resource URI, the model of {@code llm/chat} and
 *     {@code llm/embeddings}, or the path of {@code llm/passthrough}; {@code null} when the method
 *     has none
 * @param arguments the arguments (an object; empty when there are none)
 */
public record Request(
    String method, @Nullable String backend, @Nullable String name, JsonNode arguments) {

  /** The MCP method of a tool call. */
  public static final String TOOLS_CALL = "tools/call";
  /** The MCP method of a prompt request. */
  public static final String PROMPTS_GET = "prompts/get";
  /** The MCP method of a resource read. */
  public static final String RESOURCES_READ = "resources/read";
  /** The method of a model's chat completion or message (the LLM route); the name is the model. */
  public static final String LLM_CHAT = "llm/chat";
  /** The method of a model's embeddings (the LLM route); the name is the model. */
  public static final String LLM_EMBEDDINGS = "llm/embeddings";
  /**
   * The method of a request an upstream passes through (the LLM route's {@code passthrough:}
   * paths); the name is the request's canonical path, such as {@code /v1/responses}.
   */
  public static final String LLM_PASSTHROUGH = "llm/passthrough";

  private static final JsonNode NO_ARGUMENTS = JsonNodeFactory.instance.objectNode();

  /** Validates and fills in empty arguments. */
  public Request {
    Objects.requireNonNull(method, "method");
    if (method.isBlank()) {
      throw new IllegalArgumentException("method must not be blank");
    }
    if (arguments == null || arguments.isMissingNode() || arguments.isNull()) {
      arguments = NO_ARGUMENTS;
    }
  }

  /** A {@code tools/call} of a backend's tool. */
  public static Request toolCall(
      @Nullable String backend, String tool, @Nullable JsonNode arguments) {
    return new Request(TOOLS_CALL, backend, Objects.requireNonNull(tool, "tool"),
        arguments == null ? NO_ARGUMENTS : arguments);
  }

  /** A method with no target, such as {@code ping}. */
  public static Request of(String method) {
    return new Request(method, null, null, NO_ARGUMENTS);
  }

  /** What kind of thing the request's name refers to. */
  public Kind kind() {
    return Kind.of(method);
  }

  /** What a request's {@link #name()} refers to, derived from the method. */
  public enum Kind {
    /** A tool ({@code tools/call}). */
    TOOL,
    /** A prompt ({@code prompts/get}). */
    PROMPT,
    /** A resource URI ({@code resources/read}, subscriptions). */
    RESOURCE,
    /** Anything else. */
    OTHER,
    /** A model ({@code llm/chat}, {@code llm/embeddings}: the LLM route). */
    MODEL,
    /**
     * A path an upstream passes through ({@code llm/passthrough}: the LLM route), such as
     * {@code /v1/responses}; never a model, so that no rule about models opens a path.
     */
    PATH;

    /** The kind of target a method addresses. */
    public static Kind of(String method) {
      if (method.startsWith("tools/")) {
        return TOOL;
      }
      if (method.startsWith("prompts/")) {
        return PROMPT;
      }
      if (method.startsWith("resources/")) {
        return RESOURCE;
      }
      if (method.equals(LLM_PASSTHROUGH)) {
        return PATH;
      }
      if (method.startsWith("llm/")) {
        return MODEL;
      }
      return OTHER;
    }
  }
}
