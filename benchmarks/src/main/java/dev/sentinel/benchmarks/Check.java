package dev.sentinel.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code benchmarks/run --check}: compares what one run measured with the ratio targets recorded
 * in BENCHMARKS.md, and writes a Markdown summary. Every target is a ratio of two measurements of
 * the same run (the gateway against the backend reached directly, a governed call against the
 * tool called directly), never an absolute time: the machines are shared and noisy, and a ratio
 * within one run is what stays comparable.
 *
 * <p>The targets are the table between {@value #BEGIN} and {@value #END} in BENCHMARKS.md, one
 * row per target: the measurement and its baseline as names in backticks, then the bound, such
 * as {@code ≤ 150} (the ratio may be at most 150) or {@code ≥ 0.05}. Names of measurements:
 * <ul>
 *   <li>{@code jmh Class.method p50} (sample-time benchmarks) and {@code jmh Class.method mean}
 *       (any mode), in nanoseconds; with parameters, {@code jmh Class.method[rules=1000] mean};
 *   <li>{@code stdio BACKEND ARM p50|p90|p99|cpu} from the stdio harness
 *       ({@link StdioGatewayBench}), the arm's label up to its first parenthesis
 *       ({@code direct}, {@code gateway C2}, {@code gateway C1}), in µs;
 *   <li>{@code http ARM p50|p99|calls/s|cpu} from the HTTP harness ({@link HttpGatewayBench}),
 *       arms {@code direct} and {@code sentinel http}.
 * </ul>
 *
 * <p>{@code java -cp benchmarks.jar dev.sentinel.benchmarks.Check --targets BENCHMARKS.md
 * [--jmh FILE] [--stdio FILE] [--http FILE] --summary FILE}: exits 0 when every target is met,
 * 1 when one is missed or was not measured, 2 on bad arguments.
 */
public final class Check {
  /** The line before the targets' table in BENCHMARKS.md. */
  static final String BEGIN = "<!-- benchmarks/run --check: targets -->";
  /** The line after it. */
  static final String END = "<!-- benchmarks/run --check: end -->";
  private static final Pattern NAME = Pattern.compile("`([^`]+)`");
  private static final Pattern BOUND = Pattern.compile("(≤|<=|≥|>=)\\s*([0-9]+(?:\\.[0-9]+)?)");

  private Check() {}

  /** Whether a ratio must stay under or over its limit. */
  enum Bound {
    AT_MOST("≤"), AT_LEAST("≥");

    final String sign;

    Bound(String sign) {
      this.sign = sign;
    }

    boolean holds(double ratio, double limit) {
      return this == AT_MOST ? ratio <= limit : ratio >= limit;
    }
  }

  /** One target: {@code measured / baseline} must be within {@code limit}. */
  record Target(String measured, String baseline, Bound bound, double limit) {
    Target {
      Objects.requireNonNull(measured, "measured");
      Objects.requireNonNull(baseline, "baseline");
      Objects.requireNonNull(bound, "bound");
      if (!(limit > 0) || Double.isInfinite(limit)) {
        throw new IllegalArgumentException("a ratio target must be a positive number, was " + limit);
      }
    }

    /** The bound as BENCHMARKS.md writes it, such as {@code ≤ 40} or {@code ≥ 0.04}. */
    String describe() {
      return bound.sign + " " + java.math.BigDecimal.valueOf(limit).stripTrailingZeros().toPlainString();
    }
  }

  /** What a target came to in one run. */
  enum Status { MET, MISSED, NOT_MEASURED }

  /** A target, what was measured, and whether it holds. */
  record Verdict(Target target, double measured, double baseline, double ratio, Status status) {}

  /**
   * The targets of the table between {@link #BEGIN} and {@link #END}.
   *
   * @throws IllegalArgumentException if there is no such table, it has no target, or a row
   *     cannot be read (naming the row)
   */
  static List<Target> targets(String markdown) {
    int begin = markdown.indexOf(BEGIN);
    int end = markdown.indexOf(END);
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException("no targets' table between " + BEGIN + " and " + END);
    }
    List<Target> targets = new ArrayList<>();
    for (String line : markdown.substring(begin + BEGIN.length(), end).split("\n")) {
      String row = line.strip();
      if (!row.startsWith("|") || row.matches("\\|[\\s|:-]*")) {
        continue;
      }
      String[] cells = row.substring(1).split("\\|");
      if (cells.length < 3) {
        throw new IllegalArgumentException("a target row needs a measurement, a baseline and a"
            + " bound: " + row);
      }
      Matcher measured = NAME.matcher(cells[0]);
      Matcher baseline = NAME.matcher(cells[1]);
      if (!measured.find() || !baseline.find()) {
        // the header row: its cells name no measurement
        if (targets.isEmpty() && !cells[0].contains("`")) {
          continue;
        }
        throw new IllegalArgumentException("a target row names its measurement and baseline in"
            + " backticks: " + row);
      }
      Matcher bound = BOUND.matcher(cells[2]);
      if (!bound.find()) {
        throw new IllegalArgumentException("a target row's third cell is a bound such as ≤ 150"
            + " or ≥ 0.05: " + row);
      }
      Bound kind = bound.group(1).equals("≤") || bound.group(1).equals("<=")
          ? Bound.AT_MOST : Bound.AT_LEAST;
      targets.add(new Target(measured.group(1).strip(), baseline.group(1).strip(), kind,
          Double.parseDouble(bound.group(2))));
    }
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("the targets' table between " + BEGIN + " and " + END
          + " has no target");
    }
    return targets;
  }

  /** Decides every target from the measurements of one run. */
  static List<Verdict> evaluate(List<Target> targets, Map<String, Double> measured) {
    List<Verdict> verdicts = new ArrayList<>();
    for (Target target : targets) {
      Double value = measured.get(target.measured());
      Double base = measured.get(target.baseline());
      if (value == null || base == null || !(base > 0) || value.isNaN()) {
        verdicts.add(new Verdict(target, value == null ? Double.NaN : value,
            base == null ? Double.NaN : base, Double.NaN, Status.NOT_MEASURED));
        continue;
      }
      double ratio = value / base;
      verdicts.add(new Verdict(target, value, base, ratio,
          target.bound().holds(ratio, target.limit()) ? Status.MET : Status.MISSED));
    }
    return verdicts;
  }

  /** Whether every target was measured and met. */
  static boolean passed(List<Verdict> verdicts) {
    return verdicts.stream().allMatch(v -> v.status() == Status.MET);
  }

  /** The Markdown summary: a line saying passed or failed, then a row per target. */
  static String summary(List<Verdict> verdicts, String heading, List<String> notes) {
    StringBuilder out = new StringBuilder();
    out.append("## ").append(heading).append("\n\n");
    long missed = verdicts.stream().filter(v -> v.status() != Status.MET).count();
    out.append(missed == 0
        ? "**Passed**: every ratio target of BENCHMARKS.md was met (" + verdicts.size() + ").\n\n"
        : "**Failed**: " + missed + " of " + verdicts.size() + " ratio targets of BENCHMARKS.md"
            + " missed or not measured.\n\n");
    out.append("| Measured | Baseline (same run) | Value | Baseline value | Ratio | Target | |\n");
    out.append("|---|---|---|---|---|---|---|\n");
    for (Verdict v : verdicts) {
      out.append("| `").append(v.target().measured()).append("` | `")
          .append(v.target().baseline()).append("` | ").append(format(v.measured()))
          .append(" | ").append(format(v.baseline())).append(" | ")
          .append(Double.isNaN(v.ratio()) ? "" : format(v.ratio())).append(" | ")
          .append(v.target().describe()).append(" | ")
          .append(switch (v.status()) {
            case MET -> "met";
            case MISSED -> "**missed**";
            case NOT_MEASURED -> "**not measured**";
          }).append(" |\n");
    }
    if (!notes.isEmpty()) {
      out.append('\n');
      notes.forEach(note -> out.append(note).append('\n'));
    }
    return out.toString();
  }

  /** The measurements of a JMH result array, by name. */
  static Map<String, Double> jmh(JsonNode results) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (JsonNode result : results) {
      String benchmark = result.path("benchmark").asString();
      int dot = benchmark.lastIndexOf('.');
      String name = benchmark.substring(benchmark.lastIndexOf('.', dot - 1) + 1);
      StringBuilder params = new StringBuilder();
      result.path("params").properties().forEach(e -> params.append(params.length() == 0 ? "" : ",")
          .append(e.getKey()).append('=').append(e.getValue().asString()));
      String key = "jmh " + name + (params.length() == 0 ? "" : "[" + params + "]");
      JsonNode primary = result.path("primaryMetric");
      double toNanos = nanosPer(primary.path("scoreUnit").asString());
      out.put(key + " mean", primary.path("score").asDouble() * toNanos);
      if (result.path("mode").asString().equals("sample")) {
        out.put(key + " p50", primary.path("scorePercentiles").path("50.0").asDouble() * toNanos);
        out.put(key + " p99", primary.path("scorePercentiles").path("99.0").asDouble() * toNanos);
      }
    }
    return out;
  }

  /** The measurements of a {@link StdioGatewayBench} result, by name. */
  static Map<String, Double> stdio(JsonNode result) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (JsonNode backend : result.path("latency")) {
      for (JsonNode arm : backend.path("arms")) {
        String key = "stdio " + backend.path("backend").asString() + " " + armName(arm);
        JsonNode us = arm.path("us");
        for (String percentile : List.of("p50", "p90", "p99")) {
          if (us.has(percentile)) {
            out.put(key + " " + percentile, us.get(percentile).asDouble());
          }
        }
        if (arm.has("cpuUsPerCall")) {
          out.put(key + " cpu", arm.get("cpuUsPerCall").asDouble());
        }
      }
    }
    return out;
  }

  /** The measurements of an {@link HttpGatewayBench} result, by name. */
  static Map<String, Double> http(JsonNode result) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (JsonNode arm : result.path("httpBackend").path("arms")) {
      String key = "http " + armName(arm);
      JsonNode us = arm.path("us");
      for (String percentile : List.of("p50", "p99")) {
        if (us.has(percentile)) {
          out.put(key + " " + percentile, us.get(percentile).asDouble());
        }
      }
      if (arm.has("callsPerSecond")) {
        out.put(key + " calls/s", arm.get("callsPerSecond").asDouble());
      }
      if (arm.has("cpuUsPerCall")) {
        out.put(key + " cpu", arm.get("cpuUsPerCall").asDouble());
      }
    }
    return out;
  }

  private static String armName(JsonNode arm) {
    String label = arm.path("label").asString();
    int parenthesis = label.indexOf(" (");
    return (parenthesis < 0 ? label : label.substring(0, parenthesis)).strip();
  }

  private static double nanosPer(String unit) {
    String time = unit.contains("/op") ? unit.substring(0, unit.indexOf('/')) : unit;
    return switch (time) {
      case "ns" -> 1;
      case "us" -> 1_000;
      case "ms" -> 1_000_000;
      case "s" -> 1_000_000_000;
      default -> throw new IllegalArgumentException("a JMH score unit of time per operation"
          + " (ns/op, us/op, ms/op, s/op) was expected, got " + unit);
    };
  }

  static String format(double value) {
    if (Double.isNaN(value)) {
      return "";
    }
    double magnitude = Math.abs(value);
    String pattern = magnitude >= 100 ? "%,.0f" : magnitude >= 10 ? "%.1f" : magnitude >= 1 ? "%.2f" : "%.3f";
    return String.format(Locale.ROOT, pattern, value);
  }

  /** Runs the check; see the class comment for the arguments. */
  public static void main(String[] args) throws IOException {
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      options.put(args[i], args[i + 1]);
    }
    if (args.length % 2 != 0 || !options.containsKey("--targets") || !options.containsKey("--summary")) {
      System.err.println("usage: Check --targets BENCHMARKS.md [--jmh FILE] [--stdio FILE]"
          + " [--http FILE] --summary FILE [--heading TEXT]");
      System.exit(2);
      return;
    }
    JsonMapper json = JsonMapper.builder().build();
    Map<String, Double> measured = new LinkedHashMap<>();
    List<String> notes = new ArrayList<>();
    if (options.containsKey("--jmh")) {
      measured.putAll(jmh(json.readTree(Path.of(options.get("--jmh")).toFile())));
    }
    if (options.containsKey("--stdio")) {
      JsonNode stdio = json.readTree(Path.of(options.get("--stdio")).toFile());
      measured.putAll(stdio(stdio));
      notes.add("stdio harness: load average at end " + stdio.path("loadAverageAtEnd").asString());
    }
    if (options.containsKey("--http")) {
      JsonNode http = json.readTree(Path.of(options.get("--http")).toFile());
      measured.putAll(http(http));
      notes.add("http harness: load average at end " + http.path("loadAverageAtEnd").asString());
    }
    List<Target> targets = targets(Files.readString(Path.of(options.get("--targets"))));
    List<Verdict> verdicts = evaluate(targets, measured);
    String summary = summary(verdicts,
        options.getOrDefault("--heading", "Benchmark check: ratios against the same run's baselines"),
        notes);
    Files.writeString(Path.of(options.get("--summary")), summary, StandardCharsets.UTF_8);
    System.out.print(summary);
    System.exit(passed(verdicts) ? 0 : 1);
  }
}
