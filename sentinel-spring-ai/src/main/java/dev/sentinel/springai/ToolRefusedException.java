package dev.sentinel.springai;

import dev.sentinel.api.Refusal;
import dev.sentinel.core.RefusedException;
import org.springframework.ai.tool.definition.ToolDefinition;
import org.springframework.ai.tool.execution.ToolExecutionException;

/**
 * A governed tool call that Sentinel refused. A {@link ToolExecutionException}, so that Spring
 * AI's tool execution tells the model the refusal's message (such as {@code denied by rule
 * no-secret-titles: secret notes are kept elsewhere}) unless the application asks it to rethrow;
 * the {@link #refusal()} carries the outcome, rules and retry-after for the application.
 */
public final class ToolRefusedException extends ToolExecutionException {
  private static final long serialVersionUID = 1L;

  private final transient Refusal refusal;

  /** The refusal of a call of the tool. */
  public ToolRefusedException(ToolDefinition tool, Refusal refusal) {
    super(tool, new RefusedException(refusal));
    this.refusal = refusal;
  }

  /** Why the call was refused. */
  public Refusal refusal() {
    return refusal;
  }

  /** The refusal's stable code, as the MCP front ends send it ({@link Refusal#code()}). */
  public int code() {
    return refusal.code();
  }
}
