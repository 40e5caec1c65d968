package dev.sentinel.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.benchmarks.Check.Bound;
import dev.sentinel.benchmarks.Check.Status;
import dev.sentinel.benchmarks.Check.Target;
import dev.sentinel.benchmarks.Check.Verdict;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** {@link Check}: reading the targets, deciding from given numbers, reading the harnesses' results. */
class CheckTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static String table(String... rows) {
    return "# Benchmarks\n\nprose | with a pipe\n\n" + Check.BEGIN + "\n"
        + "| Measured | Baseline (same run) | Ratio | Why |\n|---|---|---|---|\n"
        + String.join("\n", rows) + "\n" + Check.END + "\n\n| `not` | `a target` | ≤ 1 |\n";
  }

  @Test
  void targets_areTheRowsBetweenTheMarkers() {
    List<Target> targets = Check.targets(table(
        "| `jmh PipelineBenchmark.allow p50` | `jmh PipelineBenchmark.direct p50` | ≤ 150 | the pipeline |",
        "| `http sentinel http calls/s` | `http direct calls/s` | >= 0.05 | |",
        "| `stdio perl gateway C2 p50` | `stdio perl direct p50` | <= 40.5 | |"));

    assertThat(targets).containsExactly(
        new Target("jmh PipelineBenchmark.allow p50", "jmh PipelineBenchmark.direct p50", Bound.AT_MOST, 150),
        new Target("http sentinel http calls/s", "http direct calls/s", Bound.AT_LEAST, 0.05),
        new Target("stdio perl gateway C2 p50", "stdio perl direct p50", Bound.AT_MOST, 40.5));
  }

  @Test
  void targets_ofTheRepositorysBenchmarksFile_parse() throws Exception {
    // The committed table is what the scheduled job reads: it must stay readable.
    List<Target> targets = Check.targets(Files.readString(Path.of("..", "BENCHMARKS.md")));

    assertThat(targets).isNotEmpty();
    assertThat(targets).extracting(Target::measured)
        .anySatisfy(name -> assertThat(name).startsWith("jmh "))
        .anySatisfy(name -> assertThat(name).startsWith("stdio "))
        .anySatisfy(name -> assertThat(name).startsWith("http "));
  }

  @Test
  void targets_withoutTheMarkers_orWithABadRow_areRefusedNamingTheRow() {
    assertThatThrownBy(() -> Check.targets("# Benchmarks\n| `a` | `b` | ≤ 2 |\n"))
        .hasMessageContaining("no targets' table");
    assertThatThrownBy(() -> Check.targets(table()))
        .hasMessageContaining("has no target");
    assertThatThrownBy(() -> Check.targets(table("| `a` | `b` | about 2 | |")))
        .hasMessageContaining("a bound such as ≤ 150").hasMessageContaining("about 2");
    assertThatThrownBy(() -> Check.targets(table("| `a` | `b` | ≤ 2 |", "| a | `b` | ≤ 2 |")))
        .hasMessageContaining("in backticks: | a | `b` | ≤ 2 |");
    assertThatThrownBy(() -> Check.targets(table("| `a` | `b` | ≤ 0 |")))
        .hasMessageContaining("positive");
  }

  @Test
  void evaluate_decidesEachTargetFromItsRatio() {
    List<Target> targets = List.of(
        new Target("slow", "base", Bound.AT_MOST, 10),
        new Target("fast", "base", Bound.AT_MOST, 10),
        new Target("throughput", "direct", Bound.AT_LEAST, 0.5),
        new Target("throughput low", "direct", Bound.AT_LEAST, 0.5),
        new Target("exactly", "base", Bound.AT_MOST, 10));
    Map<String, Double> measured = Map.of("base", 2.0, "slow", 30.0, "fast", 4.0,
        "direct", 1000.0, "throughput", 600.0, "throughput low", 400.0, "exactly", 20.0);

    List<Verdict> verdicts = Check.evaluate(targets, measured);

    assertThat(verdicts).extracting(Verdict::status).containsExactly(
        Status.MISSED, Status.MET, Status.MET, Status.MISSED, Status.MET);
    assertThat(verdicts.get(0).ratio()).isEqualTo(15.0);
    assertThat(Check.passed(verdicts)).isFalse();
    assertThat(Check.passed(verdicts.subList(1, 3))).isTrue();
  }

  @Test
  void evaluate_whatWasNotMeasured_failsTheCheck() {
    List<Verdict> verdicts = Check.evaluate(List.of(
        new Target("missing", "base", Bound.AT_MOST, 10),
        new Target("value", "zero", Bound.AT_MOST, 10)), Map.of("base", 1.0, "value", 1.0, "zero", 0.0));

    assertThat(verdicts).extracting(Verdict::status)
        .containsExactly(Status.NOT_MEASURED, Status.NOT_MEASURED);
    assertThat(Check.passed(verdicts)).isFalse();
  }

  @Test
  void summary_saysFailedAndMarksTheMissedRows() {
    List<Verdict> verdicts = Check.evaluate(List.of(
        new Target("jmh P.allow p50", "jmh P.direct p50", Bound.AT_MOST, 150),
        new Target("jmh L.acquire1 mean", "jmh L.baseline1 mean", Bound.AT_MOST, 40)),
        Map.of("jmh P.allow p50", 2_000_000.0, "jmh P.direct p50", 30.0,
            "jmh L.acquire1 mean", 45.0, "jmh L.baseline1 mean", 5.0));

    String summary = Check.summary(verdicts, "Benchmark check", List.of("load 1.0"));

    assertThat(summary).startsWith("## Benchmark check\n\n**Failed**: 1 of 2 ratio targets")
        .contains("| `jmh P.allow p50` | `jmh P.direct p50` | 2,000,000 | 30.0 | 66,667 | ≤ 150 | **missed** |")
        .contains("| `jmh L.acquire1 mean` | `jmh L.baseline1 mean` | 45.0 | 5.00 | 9.00 | ≤ 40 | met |")
        .endsWith("load 1.0\n");
  }

  @Test
  void jmh_namesEachResultByClassMethodParamsAndStatistic_inNanoseconds() {
    Map<String, Double> measured = Check.jmh(JSON.readTree("""
        [ { "benchmark": "dev.sentinel.benchmarks.PipelineBenchmark.allow", "mode": "sample",
            "threads": 1, "params": {},
            "primaryMetric": { "score": 1.5, "scoreUnit": "us/op",
              "scorePercentiles": { "50.0": 1.4, "99.0": 9.9 } } },
          { "benchmark": "dev.sentinel.benchmarks.PolicyBenchmark.decideAllow", "mode": "avgt",
            "threads": 1, "params": { "rules": "1000" },
            "primaryMetric": { "score": 184.0, "scoreUnit": "ns/op" } } ]"""));

    assertThat(measured).containsEntry("jmh PipelineBenchmark.allow p50", 1400.0)
        .containsEntry("jmh PipelineBenchmark.allow p99", 9900.0)
        .containsEntry("jmh PipelineBenchmark.allow mean", 1500.0)
        .containsEntry("jmh PolicyBenchmark.decideAllow[rules=1000] mean", 184.0)
        .doesNotContainKey("jmh PolicyBenchmark.decideAllow[rules=1000] p50");
  }

  @Test
  void stdioAndHttp_nameTheArmsByTheirLabelsBeforeAnyParenthesis() {
    Map<String, Double> stdio = Check.stdio(JSON.readTree("""
        { "latency": [ { "backend": "perl", "arms": [
            { "label": "direct", "cpuUsPerCall": 10.0, "us": { "p50": 10.3, "p99": 75.0 } },
            { "label": "gateway C2 (JAVA_OPTS=-XX:TieredStopAtLevel=4)", "us": { "p50": 123.6 } } ] } ] }"""));
    Map<String, Double> http = Check.http(JSON.readTree("""
        { "httpBackend": { "arms": [
            { "label": "direct", "callsPerSecond": 9354.15, "us": { "p50": 1379.6 } },
            { "label": "sentinel http", "callsPerSecond": 1222.45, "cpuUsPerCall": 300.0,
              "us": { "p50": 10073.5, "p99": 63936.1 } } ] } }"""));

    assertThat(stdio).containsEntry("stdio perl direct p50", 10.3)
        .containsEntry("stdio perl direct cpu", 10.0)
        .containsEntry("stdio perl gateway C2 p50", 123.6);
    assertThat(http).containsEntry("http direct calls/s", 9354.15)
        .containsEntry("http sentinel http p99", 63936.1)
        .containsEntry("http sentinel http cpu", 300.0);
  }
}
