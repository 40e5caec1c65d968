package dev.sentinel.benchmarks;

import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.internal.WireJson;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
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
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON of the wire, what every message in and out pays: parsing a frame into a tree ({@code
 * read}), writing a tree as compact JSON ({@code write}), and the canonical digest of a tree
 * that the audit computes for arguments ({@code digest}). {@code numbers=exact} is the wire's
 * reader ({@link WireJson}: floats as decimals that keep their text); {@code numbers=doubles} is
 * the reader the transports had before (floats as {@code double}), for the ratio between them in
 * one run. Payloads: {@code call}, a typical {@code tools/call} request (strings, a few integers
 * and floats); {@code floats}, a result of 100 floats. {@code baseline} reads one byte.
 *
 * <p>Run: {@code benchmarks/run WireJsonBenchmark}. On a loaded machine, where JMH's runs of one
 * configuration after the other see different loads, {@link #main} measures the two
 * configurations alternately, in short blocks, and prints the median ratio of exact to doubles:
 * {@code java -cp benchmarks/target/benchmarks.jar dev.sentinel.benchmarks.WireJsonBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class WireJsonBenchmark {
  private static final String CALL = "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"tools/call\",\"params\":{"
      + "\"name\":\"db__query\",\"arguments\":{\"sql\":\"select id, name, total from orders where total > ?\","
      + "\"bind\":[250.75],\"limit\":100,\"timeout_s\":2.5,\"sample\":0.125,\"region\":\"eu-west-1\","
      + "\"where\":{\"lat\":51.5074,\"lon\":-0.1278}},\"_meta\":{\"progressToken\":7}}}";

  @Param({"doubles", "exact"})
  public String numbers;

  @Param({"call", "floats"})
  public String payload;

  private byte[] bytes;
  private JsonNode tree;
  private Reader reader;

  /** One of the two configurations. */
  private interface Reader {
    JsonNode read(byte[] bytes);

    byte[] write(JsonNode tree);
  }

  @Setup
  public void setUp() {
    bytes = ("call".equals(payload) ? CALL : floats()).getBytes(StandardCharsets.UTF_8);
    StreamReadConstraints constraints = StreamReadConstraints.builder()
        .maxNestingDepth(64).maxStringLength(4 << 20).maxDocumentLength(4 << 20).maxNameLength(4 << 20)
        .build();
    if ("exact".equals(numbers)) {
      WireJson wire = new WireJson(constraints);
      reader = new Reader() {
        @Override
        public JsonNode read(byte[] in) {
          return wire.read(in, 0, in.length);
        }

        @Override
        public byte[] write(JsonNode value) {
          return wire.write(value);
        }
      };
    } else {
      // the transports' reader before exact numbers: JsonFraming and the HTTP runner's Json
      JsonMapper mapper = JsonMapper.builder(JsonFactory.builder().streamReadConstraints(constraints).build())
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();
      reader = new Reader() {
        @Override
        public JsonNode read(byte[] in) {
          return mapper.readTree(in);
        }

        @Override
        public byte[] write(JsonNode value) {
          return mapper.writeValueAsBytes(value);
        }
      };
    }
    tree = reader.read(bytes);
  }

  private static String floats() {
    Random random = new Random(7);
    StringBuilder sb = new StringBuilder("{\"jsonrpc\":\"2.0\",\"id\":42,\"result\":{\"structuredContent\":{\"values\":[");
    for (int i = 0; i < 100; i++) {
      sb.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.6f", (random.nextDouble() - 0.5) * 1e4));
    }
    return sb.append("]}}}").toString();
  }

  /** Alternating blocks of each operation in both configurations; prints medians and ratios. */
  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    long sink = 0;
    System.out.println("| payload | op | doubles ns/op | exact ns/op | exact/doubles (median of rounds) |");
    System.out.println("|---|---|---|---|---|");
    for (String payload : List.of("call", "floats")) {
      WireJsonBenchmark doubles = state("doubles", payload);
      WireJsonBenchmark exact = state("exact", payload);
      for (String op : List.of("read", "write", "digest")) {
        int ops = "floats".equals(payload) ? 200 : 2000;
        double[] a = new double[rounds];
        double[] b = new double[rounds];
        double[] ratio = new double[rounds];
        for (int r = -rounds / 4; r < rounds; r++) { // the first quarter warms up
          boolean doublesFirst = (r & 1) == 0;
          long first = time(doublesFirst ? doubles : exact, op, ops);
          long second = time(doublesFirst ? exact : doubles, op, ops);
          sink += first ^ second;
          if (r >= 0) {
            a[r] = (double) (doublesFirst ? first : second) / ops;
            b[r] = (double) (doublesFirst ? second : first) / ops;
            ratio[r] = b[r] / a[r];
          }
        }
        System.out.printf(Locale.ROOT, "| %s | %s | %.0f | %.0f | %.2f |%n",
            payload, op, median(a), median(b), median(ratio));
      }
    }
    if (sink == 42) {
      System.out.println();
    }
  }

  private static WireJsonBenchmark state(String numbers, String payload) {
    WireJsonBenchmark state = new WireJsonBenchmark();
    state.numbers = numbers;
    state.payload = payload;
    state.setUp();
    return state;
  }

  private static long time(WireJsonBenchmark state, String op, int ops) {
    long hash = 0;
    long start = System.nanoTime();
    for (int i = 0; i < ops; i++) {
      switch (op) {
        case "read":
          hash += state.read().size();
          break;
        case "write":
          hash += state.write().length;
          break;
        default:
          hash += state.digest().length();
      }
    }
    long elapsed = System.nanoTime() - start;
    return hash == 0 ? elapsed + 1 : elapsed;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** Reads one byte of the frame. */
  @Benchmark
  public byte baseline() {
    return bytes[0];
  }

  /** Parses the frame into a tree. */
  @Benchmark
  public JsonNode read() {
    return reader.read(bytes);
  }

  /** Writes the parsed tree as compact JSON. */
  @Benchmark
  public byte[] write() {
    return reader.write(tree);
  }

  /** The canonical SHA-256 digest of the parsed tree. */
  @Benchmark
  public String digest() {
    return CanonicalJson.sha256(tree);
  }
}
