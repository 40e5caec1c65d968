package dev.sentinel.mcpsdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Outcome;
import dev.sentinel.api.Refusal;
import io.modelcontextprotocol.spec.McpError;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Refusals as MCP errors: the codes the README promises, and the gateways' data shape. */
class McpErrorsTest {

  @Test
  void everyRefusalOutcome_hasItsDocumentedCode() {
    Map<Outcome, Integer> documented = Map.of(
        Outcome.UNAUTHENTICATED, -32011, Outcome.DENIED, -32012, Outcome.DISABLED, -32013,
        Outcome.LIMITED, -32014, Outcome.UNCONFIRMED, -32015, Outcome.UNAVAILABLE, -32016);
    for (Outcome outcome : Outcome.values()) {
      if (outcome.refusal()) {
        assertThat(McpErrors.of(Refusal.of(outcome, List.of(), "")).getJsonRpcError().code())
            .as(outcome.name()).isEqualTo(documented.get(outcome));
      }
    }
    assertThat(documented.keySet()).allMatch(Outcome::refusal);
  }

  @Test
  void aLimit_carriesItsRulesAndRetryAfter() {
    McpError error = McpErrors.of(
        new Refusal(Outcome.LIMITED, List.of("writes"), "too many requests", Duration.ofMillis(1500)));

    assertThat(error.getJsonRpcError().message())
        .isEqualTo("rate limited by rule writes: too many requests (retry after 1500 ms)");
    assertThat(error.getJsonRpcError().data()).isEqualTo(Map.of(
        "outcome", "LIMITED", "rules", List.of("writes"), "retryAfterMs", 1500L));
  }
}
