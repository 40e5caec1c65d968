package dev.sentinel.springai;

import dev.sentinel.core.Sentinel;
import java.util.Arrays;
import java.util.Objects;
import org.springframework.ai.tool.ToolCallback;
import org.springframework.ai.tool.ToolCallbackProvider;

/**
 * A {@link ToolCallbackProvider} whose tools are {@link GovernedToolCallback}s. The provider's
 * tools are asked for and governed on every {@link #getToolCallbacks()}, so that a provider whose
 * tools change (an MCP client's, say) is governed whole. Thread-safe if the provider is.
 */
public final class GovernedToolCallbackProvider implements ToolCallbackProvider {
  private final ToolCallbackProvider delegate;
  private final Sentinel sentinel;
  private final String backend;
  private final PrincipalResolver principals;

  private GovernedToolCallbackProvider(
      ToolCallbackProvider delegate, Sentinel sentinel, String backend, PrincipalResolver principals) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.sentinel = Objects.requireNonNull(sentinel, "sentinel");
    this.backend = Objects.requireNonNull(backend, "backend");
    this.principals = Objects.requireNonNull(principals, "principals");
  }

  /**
   * Governs a provider's tools, as {@link GovernedToolCallback#of}; a provider governed already is
   * returned as it is.
   */
  public static ToolCallbackProvider of(
      ToolCallbackProvider provider, Sentinel sentinel, String backend, PrincipalResolver principals) {
    if (provider instanceof GovernedToolCallbackProvider) {
      return provider;
    }
    return new GovernedToolCallbackProvider(provider, sentinel, backend, principals);
  }

  /** The provider's tools as they are now, each governed. */
  @Override
  public ToolCallback[] getToolCallbacks() {
    return Arrays.stream(delegate.getToolCallbacks())
        .map(tool -> GovernedToolCallback.of(tool, sentinel, backend, principals))
        .toArray(ToolCallback[]::new);
  }
}
