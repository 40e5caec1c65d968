package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyCommandTest {

  @Test
  void check_printsCounts() {
    String file = Cli.fixture("policy.yaml").toString();
    Run run = Cli.run("policy", "check", file);
    assertThat(run.exit()).isZero();
    assertThat(run.out()).matches("\\Q" + file + ": OK: 3 rules, 1 limit (revision sha256:\\E"
        + "[0-9a-f]{12}\\)\\R");
    assertThat(run.err()).isEmpty();
  }

  @Test
  void check_invalidPolicy_exitsOneWithLocation() {
    Run run = Cli.run("policy", "check", Cli.fixture("bad-policy.yaml").toString());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("bad-policy.yaml:3:14: rule 'a': unknown key 'tool'");
  }

  @Test
  void check_missingFile_exitsOne() {
    Run run = Cli.run("policy", "check", "no-such-policy.yaml");
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("cannot read the policy file no-such-policy.yaml");
  }

  @Test
  void test_passing_usesThePolicyBesideIt() {
    Run run = Cli.run("policy", "test", Cli.fixture("policy.test.yaml").toString());
    assertThat(run.err()).isEmpty();
    assertThat(run.exit()).isZero();
    assertThat(run.out()).isEqualTo("PASS developers read\n"
        + "PASS writes outside the workspace are refused\n2 passed, 0 failed\n");
  }

  @Test
  void test_backendRule_takesTheBackendFromTheToolsPrefix(@TempDir Path dir) throws Exception {
    Path tests = dir.resolve("policy.test.yaml");
    Files.copy(Cli.fixture("policy.yaml"), dir.resolve("policy.yaml"));
    Files.writeString(tests, String.join("\n",
        "tests:",
        "  - name: developers use the remote backend",
        "    principal: { id: ann, roles: [developer] }",
        "    request: { tool: remote__search }",
        "    expect: allow",
        "    rules: [remote-for-devs]",
        "  - name: its prefix is the backend, not another",
        "    principal: { id: ann, roles: [developer] }",
        "    request: { tool: remotely__search }",
        "    expect: deny",
        ""));
    Run run = Cli.run("policy", "test", tests.toString());

    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(run.out()).endsWith("2 passed, 0 failed\n");
  }

  @Test
  void test_explain_saysForEveryCaseWhyEachRuleMatchedOrNot() {
    Run run = Cli.run("policy", "test", Cli.fixture("policy.test.yaml").toString(), "--explain");

    assertThat(run.exit()).isZero();
    String first = run.out().substring(0, run.out().indexOf("PASS writes outside"));
    assertThat(first).startsWith("PASS developers read\n    ")
        .contains("readonly-tools", "devs-write-in-workspace", "remote-for-devs");
    assertThat(run.out()).endsWith("2 passed, 0 failed\n");
  }

  @Test
  void test_failing_exitsOneWithExplanation() {
    Run run = Cli.run("policy", "test", Cli.fixture("failing.test.yaml").toString(),
        "--policy", Cli.fixture("policy.yaml").toString());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).contains("PASS developers read")
        .contains("FAIL wrongly expects writes anywhere: expected allow, got deny")
        .endsWith("1 passed, 1 failed\n");
  }

  @Test
  void test_withoutDerivablePolicy_isAUsageError() {
    Run run = Cli.run("policy", "test", Cli.fixture("failing.test.yaml").toString()
        .replace("failing.test.yaml", "bad.yaml"));
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("name it <policy>.test.yaml or give --policy POLICY");
  }

  @Test
  void test_missingDefaultPolicy_exitsOne(@TempDir Path dir) throws Exception {
    Path tests = Files.writeString(dir.resolve("orphan.test.yaml"), "tests: []\n");
    Run run = Cli.run("policy", "test", tests.toString());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("cannot read the policy file " + dir.resolve("orphan.yaml"));
  }

  @Test
  void test_malformedTestFile_exitsOne(@TempDir Path dir) throws Exception {
    Path tests = Files.writeString(dir.resolve("p.test.yaml"), "test: []\n");
    Run run = Cli.run("policy", "test", tests.toString(), "--policy",
        Cli.fixture("policy.yaml").toString());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("p.test.yaml:1:1").contains("did you mean 'tests'?");
  }

  @Test
  void explain_showsEachRuleAndTheTypeMismatch() {
    Run run = Cli.run("policy", "explain", "--policy", Cli.fixture("payments.yaml").toString(),
        "--request", "{\"principal\": {\"id\": \"mallory\"}, \"tool\": \"billing__pay\", "
            + "\"arguments\": {\"amount\": \"0x1388\"}}");
    assertThat(run.err()).isEmpty();
    assertThat(run.exit()).isZero();
    assertThat(run.out()).isEqualTo(
        "decision: DENY by no-big-payments (payments over 1000 need the finance team)\n"
            + "  [match] allow pay: tool 'billing__pay' matches 'billing__pay'\n"
            + "  [match] deny no-big-payments: tool 'billing__pay' matches 'billing__pay'; "
            + "/amount \"0x1388\" is a string, gt 1000 needs a number: type mismatch, counts as "
            + "a match for this deny rule\n");
  }

  @Test
  void explain_readsTheRequestFromAFile(@TempDir Path dir) throws Exception {
    Path request = Files.writeString(dir.resolve("req.json"), "{\"principal\": {\"id\": \"dev\", "
        + "\"roles\": [\"developer\"]}, \"tool\": \"fs__write_file\", "
        + "\"arguments\": {\"path\": [\"/workspace/a\"]}}");
    Run run = Cli.run("policy", "explain", "--policy", Cli.fixture("policy.yaml").toString(),
        "--request-file", request.toString());
    assertThat(run.exit()).isZero();
    assertThat(run.out()).startsWith("decision: DENY (no rule allows this request)\n")
        .contains("[ -   ] allow devs-write-in-workspace: /path [\"/workspace/a\"] is an array, "
            + "glob '/workspace/**' (as a normalized path) needs a string: type mismatch, counts "
            + "as no match for this allow rule\n");
  }

  @Test
  void explain_badRequest_exitsOneWithLocation() {
    Run run = Cli.run("policy", "explain", "--policy", Cli.fixture("policy.yaml").toString(),
        "--request", "{\"principal\": \"ann\", \"tol\": \"x\"}");
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("--request:1:22: request: unknown key 'tol'")
        .contains("did you mean 'tool'?");
  }

  @Test
  void explain_withoutRequest_isAUsageError() {
    Run run = Cli.run("policy", "explain", "--policy", Cli.fixture("policy.yaml").toString());
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("give the request with exactly one of --request JSON or "
        + "--request-file FILE");
  }

  @Test
  void check_celPolicy_compilesItsConditions() {
    String file = Cli.fixture("cel-payments.yaml").toString();
    Run run = Cli.run("policy", "check", file);
    assertThat(run.err()).isEmpty();
    assertThat(run.exit()).isZero();
    assertThat(run.out()).startsWith(file + ": OK: 2 rules, 0 limits");
  }

  @Test
  void check_celTypeError_exitsOneWithTheCharacterLocated() {
    Run run = Cli.run("policy", "check", Cli.fixture("bad-cel.yaml").toString());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    // The value's quote is at column 36; the '.' of '.rolez' is 29 characters into the
    // expression, where CEL reports an undefined field.
    assertThat(run.err()).contains("bad-cel.yaml:3:65: rule 'typo': 'when_cel': undefined field "
        + "'rolez'; request has method, backend and name; principal has id, roles and "
        + "attributes");
  }

  @Test
  void test_celPolicy_runsItsCases() {
    Run run = Cli.run("policy", "test", Cli.fixture("cel-payments.test.yaml").toString());
    assertThat(run.err()).isEmpty();
    assertThat(run.exit()).isZero();
    assertThat(run.out()).isEqualTo("PASS small payments pass\nPASS admins pay big through "
        + "finance\nPASS others do not\n3 passed, 0 failed\n");
  }

  @Test
  void explain_showsTheCelConditionsResult() {
    String policy = Cli.fixture("cel-payments.yaml").toString();
    Run denied = Cli.run("policy", "explain", "--policy", policy, "--request",
        "{\"principal\": {\"id\": \"bob\"}, \"tool\": \"billing__pay\", "
            + "\"arguments\": {\"amount\": 5000}}");
    assertThat(denied.exit()).isZero();
    assertThat(denied.out()).isEqualTo(
        "decision: DENY by big-payments-need-finance (payments over 1000 need the finance team)\n"
            + "  [match] allow pay: tool 'billing__pay' matches 'billing__pay'\n"
            + "  [match] deny big-payments-need-finance: tool 'billing__pay' matches "
            + "'billing__pay'; when_cel args.amount > 1000 && !principal.roles.exists(r, r == "
            + "\"finance\") is true\n");
    Run undecided = Cli.run("policy", "explain", "--policy", policy, "--request",
        "{\"principal\": {\"id\": \"bob\"}, \"tool\": \"billing__pay\", "
            + "\"arguments\": {\"amount\": \"5000\"}}");
    assertThat(undecided.out()).startsWith("decision: DENY by big-payments-need-finance")
        .contains("is undecided (No matching overload for function '_>_'), counts as a match "
            + "for this deny rule");
  }
}
