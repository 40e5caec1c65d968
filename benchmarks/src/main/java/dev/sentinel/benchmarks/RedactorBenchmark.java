package dev.sentinel.benchmarks;

import dev.sentinel.core.audit.Redacted;
import dev.sentinel.core.audit.Redactor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The default {@link Redactor} on one string, as free text ({@code redactText}) and as the one
 * member of an argument object ({@code redact}, which adds the digest of the original), for
 * inputs of several kinds:
 *
 * <ul>
 *   <li>{@code prose}: 300 characters of ordinary text with no secret shape (the common case);
 *   <li>{@code secrets}: a 400-character log line with a bearer token, a Stripe key, a GitLab
 *       token and a connection string's password;
 *   <li>{@code sk_live_1MB}: {@code sk_live_} repeated to 1 MiB, an adversarial input for a
 *       pattern anchored on that prefix;
 *   <li>{@code a_1MB}: 1 MiB of {@code a};
 *   <li>{@code mixed_1MB}: 1 MiB of ordinary JSON-ish log text, the shape triggers of every
 *       pattern sprinkled through it without completing a secret.
 * </ul>
 *
 * <p>Redaction must stay linear in the input; the 1 MiB inputs show it (compare their time per
 * byte with {@code prose}). {@code baseline} copies the text into a new string, one pass over it.
 *
 * <p>Run: {@code benchmarks/run RedactorBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RedactorBenchmark {
  private static final int MIB = 1 << 20;

  @Param({"prose", "secrets", "sk_live_1MB", "a_1MB", "mixed_1MB"})
  public String input;

  private Redactor redactor;
  private String text;
  private JsonNode arguments;

  @Setup
  public void setUp() {
    redactor = Redactor.defaults();
    text = input(input);
    ObjectNode object = JsonNodeFactory.instance.objectNode();
    object.put("text", text);
    arguments = object;
  }

  static String input(String kind) {
    switch (kind) {
      case "prose":
        return ("The quarterly report lists revenue by region; see the password reset instructions"
            + " in section 4 and the npm_modules cache notes. Deploy 3f2a9c1 went out at 10:42"
            + " with request 9b2e4c6a-1f3d-4e5b-8a7c-0d1e2f3a4b5c; Ms. Aizawa signed it off. ")
            .repeat(2).substring(0, 300);
      case "secrets":
        return "2026-03-02T10:00:00Z POST /v1/charges Authorization: Bearer abc123DEF456ghi789jkl"
            + " key=sk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEfGh project glpat-xYz12AbC34dEf56GhI78jK"
            + " db=Server=db.internal;Database=app;User Id=app;Password=s3cr3t-Passw0rd;"
            + " X-Api-Key: 0123456789abcdef0123456789abcdef ok "
            + "the rest of the line is ordinary text about the request and its outcome ....";
      case "sk_live_1MB":
        return "sk_live_".repeat(MIB / 8);
      case "a_1MB":
        return "a".repeat(MIB);
      case "mixed_1MB": {
        String chunk = "{\"level\":\"info\",\"msg\":\"bearer of news\",\"url\":\"https://example.com/a?b=c\","
            + "\"note\":\"sk- AKIA ghp_ xox eyJ Password npm_ AIza glpat- api_key token= key:\"}\n";
        return chunk.repeat(MIB / chunk.length() + 1).substring(0, MIB);
      }
      default:
        throw new IllegalArgumentException("unknown input " + kind);
    }
  }

  /** Copies the text: the cost of touching every character once. */
  @Benchmark
  public String baseline() {
    return new String(text.toCharArray());
  }

  /** Redacts the text as free text (error messages). */
  @Benchmark
  public String redactText() {
    return redactor.redactText(text);
  }

  /** Redacts {@code {"text": <the text>}} as arguments, with the digest of the original. */
  @Benchmark
  public Redacted redact() {
    return redactor.redact(arguments);
  }
}
