package dev.sentinel.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns a JMH JSON result file into a Markdown table: each benchmark's score (with p50 and p99
 * for sample-time runs) and its difference from and ratio to the baseline of the same class and
 * parameters measured in the same run.
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar dev.sentinel.benchmarks.Report FILE}
 */
public final class Report {
  private Report() {}

  /** Prints the table for the result file named by the first argument. */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: Report JMH_RESULT.json");
      System.exit(2);
    }
    System.out.print(render(JsonMapper.builder().build().readTree(Path.of(args[0]).toFile())));
  }

  /** The Markdown table for a JMH result array. */
  static String render(JsonNode results) {
    Map<String, Row> baselines = new LinkedHashMap<>();
    List<Row> rows = new ArrayList<>();
    for (JsonNode result : results) {
      Row row = Row.of(result);
      rows.add(row);
      if (row.method.startsWith("baseline") || row.method.equals("direct")) {
        baselines.put(row.group() + suffixThreads(row), row);
      }
    }
    StringBuilder out = new StringBuilder();
    out.append("| benchmark | params | threads | mean | p50 | p99 | baseline | overhead | ratio |\n");
    out.append("|---|---|---|---|---|---|---|---|---|\n");
    for (Row row : rows) {
      Row base = baselines.get(row.group() + suffixThreads(row));
      if (base == null) {
        base = baselines.get(row.group() + "#1");
      }
      out.append(String.format(Locale.ROOT, "| %s.%s | %s | %d | %s | %s | %s | %s | %s | %s |%n",
          row.cls, row.method, row.params.isEmpty() ? "" : row.params, row.threads,
          fmt(row.score, row.unit), fmt(row.p50, row.unit), fmt(row.p99, row.unit),
          base == null || base == row ? "" : base.method,
          base == null || base == row ? "" : fmt(row.headline() - base.headline(), row.unit),
          base == null || base == row || base.headline() <= 0 ? ""
              : String.format(Locale.ROOT, "%.1fx", row.headline() / base.headline())));
    }
    return out.toString();
  }

  private static String suffixThreads(Row row) {
    return "#" + row.threads;
  }

  private static String fmt(double value, String unit) {
    return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.1f %s", value, unit);
  }

  private static final class Row {
    String cls;
    String method;
    String params;
    int threads;
    double score;
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    String unit;

    static Row of(JsonNode result) {
      Row row = new Row();
      String name = result.get("benchmark").asString();
      int dot = name.lastIndexOf('.');
      row.cls = name.substring(name.lastIndexOf('.', dot - 1) + 1, dot);
      row.method = name.substring(dot + 1);
      StringBuilder params = new StringBuilder();
      result.path("params").properties().forEach(e ->
          params.append(params.length() == 0 ? "" : ",").append(e.getKey()).append('=').append(e.getValue().asString()));
      row.params = params.toString();
      row.threads = result.get("threads").asInt();
      JsonNode primary = result.get("primaryMetric");
      row.score = primary.get("score").asDouble();
      row.unit = primary.get("scoreUnit").asString();
      JsonNode percentiles = primary.path("scorePercentiles");
      if (result.get("mode").asString().equals("sample")) {
        row.p50 = percentiles.path("50.0").asDouble();
        row.p99 = percentiles.path("99.0").asDouble();
      }
      return row;
    }

    String group() {
      return cls + "|" + params;
    }

    double headline() {
      return Double.isNaN(p50) ? score : p50;
    }
  }
}
