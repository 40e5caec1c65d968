import dev.sentinel.benchmarks.PipelineBenchmark;
import dev.sentinel.benchmarks.PolicyBenchmark;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * Per-op thread CPU time (median of 15 rounds) of the JMH benchmarks' own operations, driven
 * outside JMH: thread CPU time, unlike JMH's wall time, is not inflated by other work on a
 * shared machine. The same source runs against the benchmarks jar of any commit; cases whose
 * class is not in the jar (schema, CEL and condition benchmarks before issues 9 and 10) are
 * skipped; those (and AuditBenchmark's, cases {@code audit*}, not in the default list) are called
 * by reflection, whose own cost {@code reflectedBaseline} shows (a
 * benchmark that returns a prebuilt value). Each case warms up for WARMUP_S seconds of wall time first (CEL's interpreter needs
 * C2 for its many small methods). The caller's thread only: PipelineBenchmark's audit writer
 * thread (which discards) is not counted.
 *
 * <pre>java -cp benchmarks.jar benchmarks/results/trust-policy-cpu-micro.java LABEL [case...]</pre>
 */
public class TrustPolicyCpuMicro {
  static final ThreadMXBean BEAN = ManagementFactory.getThreadMXBean();
  static final double WARMUP_S = Double.parseDouble(System.getProperty("warmup", "3"));
  static final int REPEAT = Integer.getInteger("repeat", 1);
  static volatile Object sink;

  static double measure(Callable<Object> op) throws Exception {
    long end = System.nanoTime() + (long) (WARMUP_S * 1e9);
    long n = 0;
    while (System.nanoTime() < end) {
      sink = op.call();
      n++;
    }
    // About 20 ms of CPU per round, judged by the warm-up's rate.
    int perRound = (int) Math.max(1, Math.min(1_000_000, n / WARMUP_S / 50));
    double[] rounds = new double[15];
    for (int r = 0; r < rounds.length; r++) {
      long t = BEAN.getCurrentThreadCpuTime();
      for (int i = 0; i < perRound; i++) {
        sink = op.call();
      }
      rounds[r] = (BEAN.getCurrentThreadCpuTime() - t) / (double) perRound;
    }
    Arrays.sort(rounds);
    return rounds[rounds.length / 2];
  }

  /** Sets up a benchmark class by reflection (it may be absent from an older jar). */
  static Object bench(String simpleName) throws Exception {
    Object b = Class.forName("dev.sentinel.benchmarks." + simpleName).getConstructor().newInstance();
    b.getClass().getMethod("setUp").invoke(b);
    return b;
  }

  static Callable<Object> op(Object bench, String method) throws Exception {
    Method m = bench.getClass().getMethod(method);
    return () -> m.invoke(bench);
  }

  public static void main(String[] a) throws Exception {
    String label = a[0];
    String[] cases = a.length > 1 ? Arrays.copyOfRange(a, 1, a.length) : new String[] {
        "policy10", "policy10000", "pipelineDirect", "pipelineAllow",
        "reflectedBaseline", "schemaValidTypical", "schemaValidSmall", "schemaInvalid",
        "celExpression", "celDecide", "typedDecide", "typeMismatch"};
    PipelineBenchmark pipeline = null;
    for (String c : cases) {
      Callable<Object> op;
      try {
        switch (c) {
          case "policy10":
          case "policy10000": {
            PolicyBenchmark p = new PolicyBenchmark();
            p.rules = c.equals("policy10") ? 10 : 10_000;
            p.setUp();
            op = p::decideAllow;
            break;
          }
          case "pipelineDirect":
          case "pipelineAllow": {
            if (pipeline == null) {
              pipeline = new PipelineBenchmark();
              pipeline.setUp();
            }
            PipelineBenchmark pb = pipeline;
            op = c.equals("pipelineDirect") ? pb::direct : pb::allow;
            break;
          }
          case "auditEvent": op = op(bench("AuditBenchmark"), "baseline"); break;
          case "auditRedact": op = op(bench("AuditBenchmark"), "redact"); break;
          case "auditRedactAndEnqueue": op = op(bench("AuditBenchmark"), "redactAndEnqueue"); break;
          case "reflectedBaseline": op = op(bench("SchemaBenchmark"), "baseline"); break;
          case "schemaValidTypical": op = op(bench("SchemaBenchmark"), "validTypical"); break;
          case "schemaValidSmall": op = op(bench("SchemaBenchmark"), "validSmall"); break;
          case "schemaInvalid": op = op(bench("SchemaBenchmark"), "invalidAlias"); break;
          case "celExpression": op = op(bench("CelConditionBenchmark"), "celExpression"); break;
          case "celDecide": op = op(bench("CelConditionBenchmark"), "celDecide"); break;
          case "typedDecide": op = op(bench("CelConditionBenchmark"), "typedDecide"); break;
          case "typeMismatch": op = op(bench("ConditionBenchmark"), "typeMismatch"); break;
          default: throw new IllegalArgumentException(c);
        }
      } catch (ClassNotFoundException e) {
        continue;
      }
      for (int r = 0; r < REPEAT; r++) {
        System.out.printf("%s %-20s %10.0f ns%n", label, c, measure(op));
      }
    }
    if (pipeline != null) {
      pipeline.tearDown();
    }
    System.exit(0);
  }
}
