package dev.sentinel.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The GitHub Actions workflows for forks ({@code .github/workflows}), checked as far as a machine
 * without GitHub allows: they parse, every job has a runner and steps, every action is pinned to
 * a version, every script a step runs exists and is executable, and they run what they promise
 * (verify on JDK 17 and 21, the interop suite, the nightly benchmark check and its self-test).
 */
class WorkflowsTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path WORKFLOWS = ROOT.resolve(".github/workflows");
  static final YAMLMapper YAML = YAMLMapper.builder().build();
  /** A repository script at the start of a command: interop/run, ./mvnw, deploy/check. */
  private static final Pattern SCRIPT = Pattern.compile("(?m)^\\s*(?:[A-Z_]+=\\S+\\s+)*(\\./mvnw|[a-z.]+/[a-z-]+)\\b");

  private static JsonNode workflow(String name) throws Exception {
    return YAML.readTree(WORKFLOWS.resolve(name).toFile());
  }

  private static List<String> runs(JsonNode workflow) {
    List<String> out = new ArrayList<>();
    for (JsonNode job : workflow.path("jobs")) {
      for (JsonNode step : job.path("steps")) {
        if (step.has("run")) {
          out.add(step.get("run").asString());
        }
      }
    }
    return out;
  }

  @Test
  void everyWorkflow_parses_hasRunnersAndSteps_andPinsItsActions() throws Exception {
    List<Path> files;
    try (Stream<Path> listed = Files.list(WORKFLOWS)) {
      files = listed.filter(f -> f.toString().endsWith(".yml")).sorted().toList();
    }
    assertThat(files).extracting(f -> f.getFileName().toString())
        .contains("ci.yml", "benchmarks.yml");
    for (Path file : files) {
      JsonNode workflow = YAML.readTree(file.toFile());
      assertThat(workflow.path("name").asString()).as(file + " name").isNotBlank();
      assertThat(workflow.has("on")).as(file + " on").isTrue();
      assertThat(workflow.path("jobs").size()).as(file + " jobs").isPositive();
      for (var job : workflow.path("jobs").properties()) {
        String where = file.getFileName() + " job " + job.getKey();
        assertThat(job.getValue().path("runs-on").asString()).as(where).startsWith("ubuntu-");
        assertThat(job.getValue().path("timeout-minutes").asInt()).as(where).isPositive();
        assertThat(job.getValue().path("steps").size()).as(where).isPositive();
        for (JsonNode step : job.getValue().path("steps")) {
          assertThat(step.has("uses") ^ step.has("run")).as(where + " step " + step).isTrue();
          if (step.has("uses")) {
            assertThat(step.get("uses").asString()).as(where).matches("[\\w.-]+/[\\w.-]+@v\\d+");
          }
        }
      }
    }
  }

  @Test
  void everyScriptAStepRuns_existsAndIsExecutable() throws Exception {
    for (String name : List.of("ci.yml", "benchmarks.yml")) {
      for (String run : runs(workflow(name))) {
        Matcher script = SCRIPT.matcher(run);
        while (script.find()) {
          String path = script.group(1);
          if (path.startsWith("./") || Files.exists(ROOT.resolve(path.split("/")[0]))) {
            assertThat(ROOT.resolve(path)).as(name + ": " + run).isExecutable();
          }
        }
      }
    }
  }

  @Test
  void ci_verifiesOnJdk17And21_andRunsTheInteropSuite() throws Exception {
    JsonNode ci = workflow("ci.yml");
    JsonNode verify = ci.path("jobs").path("verify");
    assertThat(verify.path("strategy").path("matrix").path("java"))
        .extracting(JsonNode::asString).containsExactly("17", "21");
    assertThat(runs(ci)).anySatisfy(run -> assertThat(run).contains("./mvnw -B").contains("verify"))
        .anySatisfy(run -> assertThat(run).isEqualTo("interop/run"))
        .anySatisfy(run -> assertThat(run).isEqualTo("deploy/check"));
  }

  @Test
  void benchmarks_runNightly_theCheckAndItsSelfTest() throws Exception {
    JsonNode benchmarks = workflow("benchmarks.yml");
    assertThat(benchmarks.path("on").path("schedule").get(0).path("cron").asString())
        .matches("[0-9]+ [0-9]+ \\* \\* \\*");
    assertThat(runs(benchmarks)).contains("benchmarks/run --check",
        "benchmarks/run --check --self-test");
  }
}
