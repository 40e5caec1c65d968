package dev.sentinel.benchmarks;

import java.nio.file.Path;
import java.util.Locale;
import tools.jackson.databind.JsonNode;

/** Renders a {@link StdioGatewayBench} result as Markdown tables. Stateless. */
final class Markdown {
  private Markdown() {}

  /** The Markdown summary of a result; {@code file} is where its JSON was written, or null. */
  static String render(JsonNode result, Path file) {
    StringBuilder out = new StringBuilder();
    JsonNode machine = result.path("machine");
    out.append("## sentinel stdio: end-to-end benchmark\n\n");
    out.append(String.format(Locale.ROOT, "%s to %s; %d CPUs (%s), %d MiB; load %s at start, %s"
            + " at end; gateway JVM: %s%n%n",
        result.path("started").asString(), result.path("finished").asString(),
        machine.path("nproc").asInt(), machine.path("cpuModel").asString(),
        machine.path("memTotalMb").asLong(), machine.path("loadAverageAtStart").asString(),
        result.path("loadAverageAtEnd").asString(),
        machine.path("gatewayJavaVersion").asString().replace("\n", "; ")));
    if (file != null) {
      out.append("JSON: `").append(file).append("`\n\n");
    }
    for (JsonNode note : result.path("notes")) {
      out.append("- note: ").append(note.asString()).append('\n');
    }
    JsonNode settings = result.path("settings");
    if (result.has("latency")) {
      out.append(String.format(Locale.ROOT, "%n### Latency of tools/call (µs; %d calls per arm"
              + " after %d warm-up, blocks of %d, arms alternating)%n%n",
          settings.path("calls").asInt(), settings.path("warmup").asInt(),
          settings.path("block").asInt()));
      out.append("| backend | arm | p50 | p90 | p99 | p99.9 | mean | added p50 | added p90"
          + " | added p99 | added p99.9 | block-median diff (min/med/max) | CPU µs/call (user+sys)"
          + " | ctx switches/call | gateway RSS after |\n");
      out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      for (JsonNode latency : result.path("latency")) {
        for (JsonNode arm : latency.path("arms")) {
          JsonNode us = arm.path("us");
          JsonNode added = arm.path("addedUs");
          JsonNode blocks = arm.path("blockMedianDifferenceUs");
          out.append(String.format(Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
              latency.path("backend").asString(), arm.path("label").asString(),
              num(us, "p50"), num(us, "p90"), num(us, "p99"), num(us, "p99.9"), num(us, "mean"),
              num(added, "p50"), num(added, "p90"), num(added, "p99"), num(added, "p99.9"),
              blocks.isMissingNode() ? "" : num(blocks, "min") + " / " + num(blocks, "median")
                  + " / " + num(blocks, "max"),
              num(arm, "cpuUsPerCall") + " (" + num(arm, "cpuUserUsPerCall") + "+"
                  + num(arm, "cpuSystemUsPerCall") + ")", num(arm, "contextSwitchesPerCall"),
              arm.has("rssAfterRunKb")
                  ? String.format(Locale.ROOT, "%.1f MB", arm.path("rssAfterRunKb").asLong()
                      / 1024.0) : ""));
        }
      }
      out.append("\nTargets: added p50 ≤ 100 µs, added p99 ≤ 500 µs. CPU and context switches"
          + " are those of the process the client talks to (the gateway JVM alone for gateway"
          + " arms, the backend for direct arms).\n");
    }
    if (result.has("startup")) {
      JsonNode startup = result.path("startup");
      out.append(String.format(Locale.ROOT, "%n### Launch to the initialize answer (ms; %d"
          + " launches each, interleaved)%n%n", startup.path("launches").asInt()));
      out.append("| launch | median | min | max | minus backend alone | tool listed (median)"
          + " | exit after stdin EOF (median) |\n|---|---|---|---|---|---|---|\n");
      for (JsonNode row : startup.path("kinds")) {
        out.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s |%n",
            row.path("label").asString(), num(row, "medianMs"), num(row, "minMs"),
            num(row, "maxMs"), num(row, "minusBackendAloneMs"), num(row, "toolsListedMedianMs"),
            num(row, "medianExitAfterEofMs")));
      }
      out.append("\nTarget: launch to the gateway's initialize answer ≤ 300 ms (median; it no longer"
          + " waits for its backends).\n");
    }
    if (result.has("memory")) {
      out.append("\n### Gateway resident memory with three idle Java backends (MB)\n\n");
      out.append("| JVM flags | JAVA_OPTS | idle RSS | threads | RSS after calls | HWM | calls |\n"
          + "|---|---|---|---|---|---|---|\n");
      for (JsonNode row : result.path("memory")) {
        out.append(String.format(Locale.ROOT, "| %s | `%s` | %s | %s | %s | %s | %s |%n",
            row.path("label").asString(), row.path("javaOpts").asString(),
            num(row, "idleRssMb"), num(row, "idleThreads"), num(row, "afterCallsRssMb"),
            num(row, "afterCallsHwmMb"), num(row, "calls")));
      }
      out.append("\nTarget: RSS with three idle backends ≤ 128 MB.\n");
    }
    return out.toString();
  }

  private static String num(JsonNode node, String field) {
    JsonNode value = node.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return "";
    }
    return value.isIntegralNumber() ? Long.toString(value.asLong())
        : String.format(Locale.ROOT, "%.1f", value.asDouble());
  }
}
