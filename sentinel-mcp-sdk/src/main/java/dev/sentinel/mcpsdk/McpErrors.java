package dev.sentinel.mcpsdk;

import dev.sentinel.api.Refusal;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.InvocationFailedException;
import io.modelcontextprotocol.spec.McpError;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Refusals as the SDK's errors, in the shape Sentinel's gateways send them. */
final class McpErrors {
  private McpErrors() {}

  /**
   * The error a refusal is answered with: Sentinel's code, the refusal's message (no secrets, no
   * stack trace) and {@code data: {outcome, rules, retryAfterMs}}.
   */
  static McpError of(Refusal refusal) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("outcome", refusal.outcome().name());
    data.put("rules", refusal.rules());
    data.put("retryAfterMs", refusal.retryAfter().toMillis());
    return McpError.builder(refusal.code()).message(refusal.message()).data(data).build();
  }

  /**
   * The invoker's value; or the refusal as an MCP error; or what the invoker threw, unchanged (a
   * checked exception, from waiting on an asynchronous handler, wrapped). The value is {@code null}
   * if the invoker returned none.
   */
  static <T> @Nullable T valueOrThrow(CallResult<T> result) {
    if (result.ok()) {
      return result.value();
    }
    if (result.refusal() != null) {
      throw of(result.refusal());
    }
    Throwable failure = result.failure();
    if (failure instanceof RuntimeException) {
      throw (RuntimeException) failure;
    }
    throw new InvocationFailedException(result.outcome(), failure);
  }
}
