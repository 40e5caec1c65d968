import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.policy.PolicyEngine;
import java.time.Instant;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * ConditionBenchmark's catastrophic case, single shots at growing lengths, with only the public
 * PolicyEngine API so that the same source runs against the core before and after the regex
 * budget: a deny rule {@code /s regex (a+)+$} decided for n a's and a '!'. Stops a length series
 * once one decision takes more than 10 s.
 * java -cp benchmarks.jar benchmarks/results/catastrophic-regex-ab.java LABEL n...
 */
public class CatastrophicRegexAb {
  public static void main(String[] a) {
    PolicyEngine policy = PolicyEngine.parse("rules:\n  - id: all\n    allow: { tools: [t] }\n"
        + "  - id: r\n    deny:\n      tools: [t]\n      when: { \"/s\": { regex: \"(a+)+$\" } }\n",
        "bench.yaml");
    for (int i = 1; i < a.length; i++) {
      int n = Integer.parseInt(a[i]);
      RequestContext call = RequestContext.of(Principal.of("ann"), Request.toolCall("b", "t",
          JsonNodeFactory.instance.objectNode().put("s", "a".repeat(n) + "!")),
          Instant.parse("2026-03-02T10:00:00Z"));
      long t = System.nanoTime();
      boolean permits = policy.decide(call).permits();
      double ms = (System.nanoTime() - t) / 1e6;
      System.out.printf("%s n=%d %s %.1f ms%n", a[0], n, permits ? "allowed" : "denied", ms);
      if (ms > 10_000) {
        break;
      }
    }
  }
}
