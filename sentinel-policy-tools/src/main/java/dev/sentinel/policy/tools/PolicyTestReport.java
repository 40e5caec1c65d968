package dev.sentinel.policy.tools;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of {@link PolicyTests#run}: one result per test case, in file order.
 *
 * @param cases the results
 */
public record PolicyTestReport(List<CaseResult> cases) {

  /**
   * One test case's result.
   *
   * @param name the case's name
   * @param passed whether the policy decided as expected
   * @param expected what was expected, such as {@code deny by no-destructive-sql}
   * @param actual what the policy decided, such as {@code allow by devs-sql}
   * @param explanation for a failure, the explanation of the decision; empty for a pass unless
   *     every case was asked to explain itself
   */
  public record CaseResult(
      String name, boolean passed, String expected, String actual, String explanation) {

    /** Validates. */
    public CaseResult {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(expected, "expected");
      Objects.requireNonNull(actual, "actual");
      explanation = explanation == null ? "" : explanation;
    }
  }

  /** Validates and copies. */
  public PolicyTestReport {
    cases = List.copyOf(cases);
  }

  /** Whether every case passed (true for no cases). */
  public boolean passed() {
    return failures() == 0;
  }

  /** The number of failed cases. */
  public int failures() {
    return (int) cases.stream().filter(c -> !c.passed()).count();
  }

  /**
   * Text in the manner of {@code opa test}: one {@code PASS name} or {@code FAIL name: expected
   * ..., got ...} line per case, each followed by its explanation (indented) if it has one, then a
   * summary such as {@code 3 passed, 1 failed}.
   */
  public String render() {
    StringBuilder out = new StringBuilder();
    for (CaseResult c : cases) {
      if (c.passed()) {
        out.append("PASS ").append(c.name()).append('\n');
      } else {
        out.append("FAIL ").append(c.name()).append(": expected ").append(c.expected())
            .append(", got ").append(c.actual()).append('\n');
      }
      // A failure's explanation, or every case's when they were asked to explain themselves.
      for (String line : c.explanation().split("\n")) {
        if (!line.isBlank()) {
          out.append("    ").append(line).append('\n');
        }
      }
    }
    int failed = failures();
    out.append(cases.size() - failed).append(" passed, ").append(failed).append(" failed");
    return out.toString();
  }
}
