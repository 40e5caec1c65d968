import dev.sentinel.core.audit.Redactor;
import java.util.Arrays;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Per-op thread CPU time (median of 15 rounds) of redaction on the RedactorBenchmark inputs and on
 * AuditBenchmark's typical arguments, with only the public Redactor API, so that the same source
 * runs against the core before and after a change: thread CPU time, unlike JMH's wall time, is
 * not inflated by other work on a shared machine. Run against a core jar or classes directory:
 * java -cp CLASSPATH benchmarks/results/redaction-cpu-micro.java LABEL
 */
public class RedactionCpuMicro {
  static final java.lang.management.ThreadMXBean BEAN = java.lang.management.ManagementFactory.getThreadMXBean();
  static volatile Object sink;

  static String input(String kind) {
    int mib = 1 << 20;
    switch (kind) {
      case "prose": return ("The quarterly report lists revenue by region; see the password reset instructions"
            + " in section 4 and the npm_modules cache notes. Deploy 3f2a9c1 went out at 10:42"
            + " with request 9b2e4c6a-1f3d-4e5b-8a7c-0d1e2f3a4b5c; Ms. Aizawa signed it off. ").repeat(2).substring(0, 300);
      case "secrets": return "2026-03-02T10:00:00Z POST /v1/charges Authorization: Bearer abc123DEF456ghi789jkl"
            + " key=sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh project glpat-xYz12AbC34dEf56GhI78jK"
            + " db=Server=db.internal;Database=app;User Id=app;Password=s3cr3t-Passw0rd;"
            + " X-Api-Key: 0123456789abcdef0123456789abcdef ok "
            + "the rest of the line is ordinary text about the request and its outcome ....";
      case "sk_live_1MB": return "sk_live_".repeat(mib / 8);
      case "a_1MB": return "a".repeat(mib);
      case "mixed_1MB": {
        String chunk = "{\"level\":\"info\",\"msg\":\"bearer of news\",\"url\":\"https://example.com/a?b=c\","
            + "\"note\":\"sk- AKIA ghp_ xox eyJ Password npm_ AIza glpat- api_key token= key:\"}\n";
        return chunk.repeat(mib / chunk.length() + 1).substring(0, mib);
      }
      default: throw new IllegalArgumentException(kind);
    }
  }

  static double measure(Runnable op, int perRound) {
    double[] rounds = new double[15];
    for (int w = 0; w < 5; w++) { for (int i = 0; i < perRound; i++) op.run(); }
    for (int r = 0; r < rounds.length; r++) {
      long t = BEAN.getCurrentThreadCpuTime();
      for (int i = 0; i < perRound; i++) op.run();
      rounds[r] = (BEAN.getCurrentThreadCpuTime() - t) / (double) perRound;
    }
    Arrays.sort(rounds);
    return rounds[rounds.length / 2];
  }

  public static void main(String[] a) {
    Redactor r = Redactor.defaults();
    JsonNode typical = JsonMapper.builder().build().readTree(
        "{\"path\":\"/workspace/src/Main.java\",\"content\":\"class Main {}\",\"api_key\":\"k-123\"}");
    System.out.printf("%s typical-args redact: %.0f ns%n", a[0], measure(() -> sink = r.redact(typical), 20000));
    for (String kind : new String[] {"prose", "secrets", "sk_live_1MB", "a_1MB", "mixed_1MB"}) {
      String text = input(kind);
      JsonNode args = JsonNodeFactory.instance.objectNode().put("text", text);
      int per = text.length() > 10000 ? 2 : 5000;
      System.out.printf("%s %-12s redactText %12.0f ns   redact %12.0f ns%n", a[0], kind,
          measure(() -> sink = r.redactText(text), per), measure(() -> sink = r.redact(args), per));
    }
  }
}
