package dev.sentinel.examples.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Outcome;
import dev.sentinel.core.CallResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The confirming example: the person at the console sees the held refund and decides it. */
class ConfirmingExampleTest {

  private static String run(String typed, Outcome expected) throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    CallResult<JsonNode> result = ConfirmingExample.run(
        new ByteArrayInputStream(typed.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(printed, true, StandardCharsets.UTF_8));
    assertThat(result.outcome()).isEqualTo(expected);
    return printed.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aYes_runsTheRefund_andTheQuestionShowedIt() throws Exception {
    String console = run("y\n", Outcome.ALLOWED);
    assertThat(console).contains("tools/call: payments.refund (backend app)",
        "\"amount\":250", "a refund over 100 is confirmed by the person asking",
        "Run it? [y/N]", "payments.refund 250 -> ok {\"refunded\":true}");
  }

  @Test
  void anythingElse_orNoAnswer_refusesIt() throws Exception {
    assertThat(run("no\n", Outcome.UNCONFIRMED)).contains("declined");
    assertThat(run("", Outcome.UNCONFIRMED)).contains("could not be asked");
  }
}
