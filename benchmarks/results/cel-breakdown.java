import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.policy.ConditionInput;
import dev.sentinel.core.policy.ConditionLanguage;
import dev.sentinel.policy.cel.CelConditionLanguage;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.Arrays;
import java.util.Set;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Where CelConditionBenchmark's typical condition spends its time: thread CPU per evaluation
 * (median of 15 rounds after 12 s of warm-up) of the whole expression and of its parts, on the
 * benchmark's input (amount 5,000, principal with role finance).
 * java -cp benchmarks.jar benchmarks/results/cel-breakdown.java
 */
public class CelBreakdown {
  static final ThreadMXBean BEAN = ManagementFactory.getThreadMXBean();
  static volatile Object sink;

  public static void main(String[] a) {
    RequestContext payment = RequestContext.of(Principal.of("ann", "finance"),
        Request.toolCall("bank", "pay", JsonNodeFactory.instance.objectNode().put("amount", 5000)
            .put("to", "DE89370400440532013000")), Instant.parse("2026-03-02T10:00:00Z"));
    ConditionInput input = ConditionInput.of(payment, Set.of("finance"));
    String[] expressions = {
        "true",
        "args.amount > 1000",
        "\"finance\" in principal.roles",
        "principal.roles.exists(r, r == \"finance\")",
        "args.amount > 1000 && \"finance\" in principal.roles",
        "args.amount > 1000 && principal.roles.exists(r, r == \"finance\")"};
    for (String e : expressions) {
      ConditionLanguage.Expression x = CelConditionLanguage.create().compile(e);
      long end = System.nanoTime() + 12_000_000_000L;
      long n = 0;
      while (System.nanoTime() < end) {
        sink = x.evaluate(input);
        n++;
      }
      int per = (int) Math.max(1, n / 12 / 50);
      double[] rounds = new double[15];
      for (int r = 0; r < rounds.length; r++) {
        long t = BEAN.getCurrentThreadCpuTime();
        for (int i = 0; i < per; i++) {
          sink = x.evaluate(input);
        }
        rounds[r] = (BEAN.getCurrentThreadCpuTime() - t) / (double) per;
      }
      Arrays.sort(rounds);
      System.out.printf("%6.0f ns  %s%n", rounds[7], e);
    }
  }
}
