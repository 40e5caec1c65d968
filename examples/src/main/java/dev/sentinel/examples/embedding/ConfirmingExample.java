package dev.sentinel.examples.embedding;

import dev.sentinel.api.Confirmer;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.approval.RoutingConfirmer;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.policy.ConfirmSettings;
import dev.sentinel.core.policy.PolicyEngine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Asks the application's own user to confirm a call: the embedding example's policy holds a
 * refund over 100 under a {@code confirm} rule with {@code by: caller}, and the application hands
 * Sentinel a {@link ConsoleCaller} with the call, so the person asking sees the refund and its
 * arguments and answers {@code y} or not. Operators' approvals would use an {@code
 * ApprovalConfirmer} on an approval store instead of {@link Confirmer#rejectAll()} below.
 *
 * <p>{@code java -cp ... dev.sentinel.examples.embedding.ConfirmingExample}
 */
public final class ConfirmingExample {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private ConfirmingExample() {}

  /** Runs the example on the console. */
  public static void main(String[] args) throws IOException {
    run(System.in, System.out);
  }

  /** Asks for a refund of 250 for bob, an admin; answers what the call came to. */
  public static CallResult<JsonNode> run(InputStream input, PrintStream out) throws IOException {
    ToolRegistry registry = new ToolRegistry()
        .register("payments.refund", args -> JSON.createObjectNode().put("refunded", true));
    AtomicReference<Sentinel> built = new AtomicReference<>();
    // The confirmer reads the policy of the Sentinel it belongs to, during calls: once built.
    Supplier<Sentinel> self = () -> Objects.requireNonNull(built.get(), "not built yet");
    try (InputStream policy = ConfirmingExample.class.getResourceAsStream("/embedding/policy.yaml")) {
      String text = new String(policy.readAllBytes(), StandardCharsets.UTF_8);
      built.set(Sentinel.builder()
          .policy(PolicyEngine.parse(text, "policy.yaml"))
          // confirm rules go to the person asking (by: caller); nobody else can approve here
          .confirmer(RoutingConfirmer.create(Confirmer.rejectAll(), () -> self.get().policy(),
              () -> self.get().revision(), ConfirmSettings.By.CALLER, Redactor.defaults()))
          .build());
    }
    try (Sentinel sentinel = self.get()) {
      ConsoleCaller person = new ConsoleCaller(
          new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8)), out);
      Request refund = Request.toolCall("app", "payments.refund",
          JSON.readTree("{\"amount\":250,\"order\":\"o-17\"}"));
      CallResult<JsonNode> result = sentinel.call(
          Call.as(Principal.of("bob", "admin"), refund).withCaller(person),
          allowed -> registry.run(allowed.name(), allowed.arguments()));
      Refusal refusal = result.refusal(); // null unless refused: a tool that threw is a failure
      out.println("payments.refund 250 -> " + (result.ok() ? "ok " + result.value()
          : refusal != null ? refusal.message() : "failed: " + result.failure()));
      return result;
    }
  }
}
