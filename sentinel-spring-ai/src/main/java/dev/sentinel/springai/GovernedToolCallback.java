package dev.sentinel.springai;

import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.InvocationFailedException;
import dev.sentinel.core.Sentinel;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.ai.chat.model.ToolContext;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.springframework.ai.tool.metadata.ToolMetadata;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A Spring AI {@link ToolCallback} whose calls pass a {@link Sentinel} pipeline: the caller from
 * the {@link ToolContext} (through a {@link PrincipalResolver}), the kill switch, the policy, the
 * limits, and one audit event per call, before and around the tool it decorates.
 *
 * <pre>{@code
 * ToolCallback governed = GovernedToolCallback.of(tool, sentinel, "assistant", PrincipalResolver.fromToolContext());
 * }</pre>
 *
 * <p>The pipeline sees {@code tools/call} of the tool's name on the given backend, with the
 * model's tool input as arguments; the tool gets the very same input string, so what is decided is
 * what runs. Input that is not one JSON object, or that repeats a key (which parsers read
 * differently), is refused and recorded instead of being guessed at.
 *
 * <p>A refusal is thrown as a {@link ToolRefusedException}, which Spring AI's tool execution
 * reports to the model as text by default; a tool that throws is recorded as {@code FAILED} and
 * its exception is rethrown unchanged. Thread-safe and immutable.
 */
public final class GovernedToolCallback implements ToolCallback {
  private static final Logger log = LoggerFactory.getLogger(GovernedToolCallback.class);
  private static final Refusal UNKNOWN_CALLER =
      Refusal.of(Outcome.UNAUTHENTICATED, List.of(), "missing or invalid credentials");
  /** Strict JSON: no duplicate keys, one value, decimals kept exact for the policy. */
  private static final JsonMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(JsonNodeFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();

  private final ToolCallback delegate;
  private final Sentinel sentinel;
  private final String backend;
  private final PrincipalResolver principals;

  private GovernedToolCallback(
      ToolCallback delegate, Sentinel sentinel, String backend, PrincipalResolver principals) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.sentinel = Objects.requireNonNull(sentinel, "sentinel");
    Objects.requireNonNull(backend, "backend");
    if (backend.isBlank()) {
      throw new IllegalArgumentException("backend must not be blank: it is the name policies match");
    }
    this.backend = backend;
    this.principals = Objects.requireNonNull(principals, "principals");
  }

  /**
   * Governs a tool; a tool governed already is returned as it is, not governed twice.
   *
   * @param tool the tool
   * @param sentinel the pipeline; the application keeps owning (and closing) it
   * @param backend the name the pipeline sees as the tool's backend (policies' {@code backends:},
   *     the kill switch, the audit trail)
   * @param principals who is calling, from the tool context
   */
  public static ToolCallback of(
      ToolCallback tool, Sentinel sentinel, String backend, PrincipalResolver principals) {
    if (tool instanceof GovernedToolCallback) {
      return tool;
    }
    return new GovernedToolCallback(tool, sentinel, backend, principals);
  }

  /** The tool this one governs. */
  public ToolCallback delegate() {
    return delegate;
  }

  /** The decorated tool's definition: the model sees the same tool. */
  @Override
  public ToolDefinition getToolDefinition() {
    return delegate.getToolDefinition();
  }

  /** The decorated tool's metadata. */
  @Override
  public ToolMetadata getToolMetadata() {
    return delegate.getToolMetadata();
  }

  /** Calls the tool without a tool context: only a resolver that needs none names a caller. */
  @Override
  public String call(String toolInput) {
    return call(toolInput, null);
  }

  /**
   * Calls the tool if the pipeline allows, for the principal the resolver finds in the tool
   * context.
   *
   * @throws ToolRefusedException if the pipeline refused the call (the tool did not run)
   */
  @Override
  public String call(String toolInput, @Nullable ToolContext toolContext) {
    ToolDefinition tool = delegate.getToolDefinition();
    Principal principal = resolve(toolContext);
    if (principal == null) {
      throw refused(tool, null, Request.toolCall(backend, tool.name(), null), UNKNOWN_CALLER);
    }
    JsonNode arguments;
    try {
      arguments = arguments(toolInput);
    } catch (JacksonException | IllegalArgumentException e) {
      throw refused(tool, principal, Request.toolCall(backend, tool.name(), null), Refusal.of(
          Outcome.DENIED, List.of("arguments"), "the tool input is not one JSON object with distinct keys"));
    }
    Request request = Request.toolCall(backend, tool.name(), arguments);
    CallResult<String> result = sentinel.call(Call.as(principal, request),
        governed -> toolContext == null ? delegate.call(toolInput) : delegate.call(toolInput, toolContext));
    if (result.ok()) {
      return answer(result);
    }
    if (result.refusal() != null) {
      throw new ToolRefusedException(tool, result.refusal());
    }
    if (result.failure() instanceof RuntimeException) {
      throw (RuntimeException) result.failure();
    }
    throw new InvocationFailedException(result.outcome(), result.failure());
  }

  /** Records a refusal decided here (no caller, unreadable input) and returns its exception. */
  private ToolRefusedException refused(
      ToolDefinition tool, @Nullable Principal principal, Request request, Refusal refusal) {
    Call call = principal != null ? Call.as(principal, request)
        : Call.of(dev.sentinel.api.Credentials.none(), request);
    sentinel.refuse(call, refusal);
    return new ToolRefusedException(tool, refusal);
  }

  /**
   * The value of an allowed call: the delegate's answer, which {@link ToolCallback#call} says is
   * not null. NullAway loses that through {@link CallResult}'s value, which is null only for the
   * outcomes that throw.
   */
  @SuppressWarnings("NullAway")
  private static String answer(CallResult<String> allowed) {
    return allowed.value();
  }

  /** The resolver's principal; null if it names none or throws. */
  private @Nullable Principal resolve(@Nullable ToolContext context) {
    try {
      return principals.resolve(context);
    } catch (RuntimeException e) {
      log.warn("the principal resolver threw {}; the call is refused as unauthenticated",
          e.getClass().getName());
      return null;
    }
  }

  /** The tool input as a JSON object; an empty input is no arguments (null). */
  private static @Nullable JsonNode arguments(String toolInput) {
    if (toolInput == null || toolInput.isBlank()) {
      return null;
    }
    JsonNode node = JSON.readTree(toolInput);
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    return node;
  }

  @Override
  public String toString() {
    return "GovernedToolCallback[" + backend + "/" + delegate.getToolDefinition().name() + "]";
  }
}
