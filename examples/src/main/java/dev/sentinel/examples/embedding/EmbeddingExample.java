package dev.sentinel.examples.embedding;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.core.CallResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs the embedding example: registers three tools, governs them for an analyst, makes a few
 * calls (allowed, denied by a rule, denied by default, rate limited) and prints what happened
 * and where the audit trail is.
 *
 * <p>{@code java -cp ... dev.sentinel.examples.embedding.EmbeddingExample [work-dir]}
 */
public final class EmbeddingExample {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private EmbeddingExample() {}

  /** Runs the example in the given directory (a temporary one by default). */
  public static void main(String[] args) throws IOException {
    Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("sentinel-example");
    run(dir, System.out);
  }

  /** Runs the example, writing the policy and audit files under {@code dir}; returns the audit file. */
  public static Path run(Path dir, PrintStream out) throws IOException {
    Files.createDirectories(dir);
    Path policy = dir.resolve("policy.yaml");
    try (InputStream in = EmbeddingExample.class.getResourceAsStream("/embedding/policy.yaml")) {
      Files.copy(in, policy, StandardCopyOption.REPLACE_EXISTING);
    }
    Path audit = dir.resolve("audit.jsonl");
    Files.deleteIfExists(audit); // each run shows its own trail

    ToolRegistry registry = new ToolRegistry()
        .register("customers.lookup", args -> JSON.createObjectNode()
            .put("id", args.path("id").asString()).put("name", "Ada Lovelace"))
        .register("reports.run", args -> JSON.createObjectNode().put("rows", 42))
        .register("payments.refund", args -> JSON.createObjectNode().put("refunded", true));

    Principal ann = Principal.of("ann", "analyst");
    Principal bob = Principal.of("bob", "admin");
    try (GovernedTools tools = new GovernedTools(registry, policy, audit)) {
      show(out, "customers.lookup", tools.call(ann, "customers.lookup", JSON.readTree("{\"id\":\"c-7\"}")));
      show(out, "reports.run SELECT *", tools.call(ann, "reports.run", JSON.readTree("{\"query\":\"select * from orders\"}")));
      show(out, "payments.refund", tools.call(ann, "payments.refund", JSON.readTree("{\"amount\":20}")));
      show(out, "payments.refund by bob, an admin", tools.call(bob, "payments.refund", JSON.readTree("{\"amount\":20}")));
      for (int i = 1; i <= 4; i++) {
        show(out, "reports.run #" + i, tools.call(ann, "reports.run", JSON.readTree("{\"query\":\"select id from orders\"}")));
      }
    }
    java.util.List<String> events = Files.readAllLines(audit);
    out.println("audit trail: " + audit + " (" + events.size() + " events); the denial's record:");
    out.println(events.get(1));
    return audit;
  }

  private static void show(PrintStream out, String what, CallResult<JsonNode> result) {
    Refusal refusal = result.refusal(); // null unless refused: a tool that threw is a failure
    String shown = result.ok() ? "ok " + result.value()
        : refusal != null ? refusal.message() : "failed: " + result.failure();
    out.println(what + " -> " + shown);
  }
}
