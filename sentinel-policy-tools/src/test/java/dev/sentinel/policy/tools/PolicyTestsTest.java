package dev.sentinel.policy.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.RequestContext;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.policy.Explanation;
import dev.sentinel.core.policy.PolicyEngine;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PolicyTestsTest {

  private static Path resource(String name) throws URISyntaxException {
    return Path.of(PolicyTestsTest.class.getResource("/policy/" + name).toURI());
  }

  private static PolicyEngine sample() throws URISyntaxException {
    return PolicyEngine.load(resource("sample-policy.yaml"));
  }

  @Test
  void run_samplePolicyPassesItsTests() throws Exception {
    PolicyTestReport report = PolicyTests.run(sample(), resource("sample-policy-tests.yaml"));
    assertThat(report.render()).endsWith("7 passed, 0 failed");
    assertThat(report.passed()).isTrue();
    assertThat(report.failures()).isZero();
    assertThat(report.cases()).hasSize(7);
    assertThat(report.render()).startsWith("PASS readonly can read\nPASS devs cannot drop tables\n");
    assertThat(report.cases().get(0).expected()).isEqualTo("allow by readonly-tools, visible");
  }

  @Test
  void run_failingCasesReportExpectedActualAndExplanation() throws Exception {
    PolicyTestReport report = PolicyTests.run(sample(), resource("failing-tests.yaml"));
    assertThat(report.passed()).isFalse();
    assertThat(report.failures()).isEqualTo(2);
    PolicyTestReport.CaseResult sql = report.cases().get(1);
    assertThat(sql.passed()).isFalse();
    assertThat(sql.expected()).isEqualTo("deny by no-destructive-sql");
    assertThat(sql.actual()).isEqualTo("allow by devs-sql");
    String text = report.render();
    assertThat(text).contains("PASS readonly can read\n");
    assertThat(text).contains("FAIL devs cannot run any SQL: expected deny by "
        + "no-destructive-sql, got allow by devs-sql\n"
        + "    decision: ALLOW by devs-sql (allowed by rule devs-sql)\n"
        + "      [match] allow devs-sql: tool 'db__query' matches 'db__query'; role developer "
        + "held\n"
        + "      [ -   ] deny no-destructive-sql: /sql \"select 1\" does not satisfy regex ");
    assertThat(text).contains("      (3 other rules did not match)\n");
    assertThat(text).contains("FAIL readonly may not see sql: expected deny, visible, got deny "
        + "(no rule allows this request), hidden\n");
    assertThat(text).endsWith("1 passed, 2 failed");
  }

  @Test
  void run_malformedTestFileIsLocated() throws Exception {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> PolicyTests.run(sample(), "tests:\n  - name: x\n    principal: alice\n"
            + "    reqest: { tool: t }\n    expect: alow\n  - name: y\n"
            + "    principal: { id: b, role: [r] }\n    request: { tool: t }\n"
            + "    expect: deny\n    time: yesterday\n", "t.yaml"));
    assertThat(e.getMessage())
        .contains("t.yaml:2:5: test 'x': missing required key 'request'")
        .contains("t.yaml:4:5: test 'x': unknown key 'reqest'")
        .contains("did you mean 'request'?")
        .contains("t.yaml:5:5: test 'x': unknown effect 'alow'")
        .contains("t.yaml:7:25: test 'y': unknown key 'role'")
        .contains("t.yaml:10:5: test 'y': invalid time 'yesterday'");
  }

  @Test
  void run_missingTestsKey() throws Exception {
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> PolicyTests.run(sample(), "cases: []\n", "t.yaml"));
    assertThat(e.getMessage()).contains("unknown key 'cases'")
        .contains("missing required key 'tests'");
  }

  @Test
  void run_emptyTestsPass() throws Exception {
    PolicyTestReport report = PolicyTests.run(sample(), "tests: []\n", "t.yaml");
    assertThat(report.passed()).isTrue();
    assertThat(report.render()).isEqualTo("0 passed, 0 failed");
  }

  @Test
  void run_requestWithMethodAndName() throws Exception {
    PolicyTestReport report = PolicyTests.run(sample(), "tests:\n  - name: list\n"
        + "    principal: { id: a, roles: [admin] }\n"
        + "    request: { method: prompts/get, name: greet }\n    expect: deny\n", "t.yaml");
    assertThat(report.passed()).isTrue();
  }

  @Test
  void request_readsPrincipalTargetArgumentsAndTime() throws Exception {
    RequestContext context = PolicyTests.request("{\"principal\": {\"id\": \"bob\", "
        + "\"roles\": [\"developer\"]}, \"backend\": \"db\", \"tool\": \"db__query\", "
        + "\"arguments\": {\"sql\": [\"DROP TABLE users\"], \"n\": 1e999999}, "
        + "\"time\": \"2025-01-07T08:00:00Z\"}", "--request");
    assertThat(context.principal().id()).isEqualTo("bob");
    assertThat(context.principal().roles()).containsExactly("developer");
    assertThat(context.request().method()).isEqualTo("tools/call");
    assertThat(context.request().name()).isEqualTo("db__query");
    assertThat(context.request().arguments().get("sql").isArray()).isTrue();
    assertThat(context.time()).isEqualTo(Instant.parse("2025-01-07T08:00:00Z"));
    Explanation explanation = sample().explain(context);
    assertThat(explanation.decision().rules()).containsExactly("no-destructive-sql");
    assertThat(explanation.render()).contains("[match] deny no-destructive-sql: tool "
        + "'db__query' matches 'db__query'; /sql [\"DROP TABLE users\"] is an array, regex "
        + "'(?i)\\b(drop|truncate|delete)\\b' needs a string: type mismatch, counts as a match "
        + "for this deny rule");
  }

  @Test
  void request_defaultsTimeAndReportsEveryProblem() {
    assertThat(PolicyTests.request("principal: alice\nmethod: ping\n", "r").time())
        .isEqualTo(PolicyTests.DEFAULT_TIME);
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> PolicyTests.request("{\"principal\": {\"id\": \"\"}, \"tool\": \"t\", "
            + "\"argumnets\": {}}", "--request"));
    assertThat(e.getMessage()).contains("--request:1:40: request: unknown key 'argumnets'")
        .contains("did you mean 'arguments'?");
    e = catchThrowableOfType(ConfigException.class,
        () -> PolicyTests.request("{\"principal\": {\"id\": \" \"}, \"tool\": \"t\"}", "r"));
    assertThat(e.getMessage()).contains("the principal's id must not be blank");
    e = catchThrowableOfType(ConfigException.class,
        () -> PolicyTests.request("{\"tool\": \"t\"}", "r"));
    assertThat(e.getMessage()).contains("missing required key 'principal'");
    e = catchThrowableOfType(ConfigException.class, () -> PolicyTests.request("[1]", "r"));
    assertThat(e.getMessage()).contains("expected a mapping such as");
  }

  @Test
  void run_blankMethodIsALocatedProblem() throws Exception {
    // A blank method made no request and recorded no problem: the case then failed with a
    // NullPointerException from RequestContext instead of a located error.
    ConfigException e = catchThrowableOfType(ConfigException.class,
        () -> PolicyTests.run(sample(), "tests:\n  - name: blank\n    principal: alice\n"
            + "    request: { method: ' ' }\n    expect: deny\n", "t.yaml"));
    assertThat(e).isNotNull();
    assertThat(e.getMessage()).contains("t.yaml:4:16: test 'blank': the method must not be blank");
  }
}
