package dev.sentinel.springai;

import dev.sentinel.api.Principal;
import org.jspecify.annotations.Nullable;
import org.springframework.ai.chat.model.ToolContext;

/**
 * Says on whose behalf a tool is called, from the {@link ToolContext} the application passed to
 * the chat call (never from the model's tool input). Returning {@code null} or throwing refuses
 * the call as unauthenticated; there is no default principal.
 *
 * <p>Called once per tool call, on the thread that runs the tool; must be thread-safe.
 */
@FunctionalInterface
public interface PrincipalResolver {

  /** The key under which {@link #fromToolContext()} looks for the {@link Principal}. */
  String PRINCIPAL_KEY = "sentinel.principal";

  /**
   * The caller, or {@code null} if unknown.
   *
   * @param context the tool context of the chat call, or {@code null} when the tool was called
   *     without one
   */
  @Nullable Principal resolve(@Nullable ToolContext context);

  /**
   * The principal the application put into the tool context under {@value #PRINCIPAL_KEY}, as a
   * {@link Principal} object: {@code chatClient.prompt(...).toolContext(Map.of(PRINCIPAL_KEY,
   * principal))}. Anything else there (a string, a map) names no one.
   */
  static PrincipalResolver fromToolContext() {
    return context -> {
      Object value = context == null ? null : context.getContext().get(PRINCIPAL_KEY);
      return value instanceof Principal ? (Principal) value : null;
    };
  }
}
