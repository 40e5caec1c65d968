package dev.sentinel.policy.tools;

import dev.sentinel.api.Decision;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.ConfigReader;
import dev.sentinel.core.config.YamlDocument;
import dev.sentinel.core.policy.Explanation;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.RuleTrace;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;

/**
 * Runs policy test cases written beside a policy, like {@code opa test}. The test file:
 *
 * <pre>
 * tests:
 *   - name: devs cannot drop tables
 *     principal: { id: bob, roles: [developer], attributes: { team: [payments] } }  # or: bob
 *     request:
 *       backend: db
 *       tool: db__query             # or prompt:, resource:, or method: with name:
 *       arguments: { sql: "DROP TABLE users" }
 *     time: 2025-01-06T10:00:00Z    # optional; default 2025-01-06T12:00:00Z (a Monday, noon UTC)
 *     expect: deny                  # allow, deny or confirm
 *     rules: [no-destructive-sql]   # optional: each must be among the deciding rules
 *     visible: true                 # optional: expected PolicyEngine.visible
 * </pre>
 *
 * <p>The request's method defaults from its target: {@code tools/call} for {@code tool},
 * {@code prompts/get} for {@code prompt}, {@code resources/read} for {@code resource}; its
 * backend from the target's {@code <backend>__} prefix, as the gateway routes it. The
 * default time is fixed so that results do not depend on when the tests run.
 */
public final class PolicyTests {
  /** The time of test cases that give none: Monday 6 January 2025, noon UTC. */
  public static final Instant DEFAULT_TIME = Instant.parse("2025-01-06T12:00:00Z");

  private static final List<String> TOP_KEYS = List.of("tests");
  private static final List<String> CASE_KEYS =
      List.of("name", "principal", "request", "time", "expect", "rules", "visible");
  private static final List<String> PRINCIPAL_KEYS = List.of("id", "roles", "attributes");
  private static final List<String> REQUEST_KEYS =
      List.of("method", "backend", "name", "tool", "prompt", "resource", "arguments");
  private static final List<String> CONTEXT_KEYS = List.of("principal", "time", "method",
      "backend", "name", "tool", "prompt", "resource", "arguments");
  private static final List<String> EFFECTS = List.of("allow", "deny", "confirm");
  /** The gateway's default separator of a backend's name and its tools' names. */
  private static final String NAMESPACE_SEPARATOR = "__";

  private PolicyTests() {}

  /**
   * Runs every case of a test file against a policy.
   *
   * @throws ConfigException if the test file cannot be read or is malformed (every problem is
   *     reported, located)
   */
  public static PolicyTestReport run(PolicyEngine policy, Path testFile) {
    return run(policy, testFile, false);
  }

  /**
   * Runs every case of a test file against a policy; with {@code explain}, every case (not only
   * a failure) carries the explanation of its decision, rule by rule.
   *
   * @throws ConfigException if the test file cannot be read or is malformed
   */
  public static PolicyTestReport run(PolicyEngine policy, Path testFile, boolean explain) {
    Objects.requireNonNull(policy, "policy");
    Path name = testFile.getFileName();
    String source = name == null ? testFile.toString() : name.toString();
    String text;
    try {
      text = Files.readString(testFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(List.of(new ConfigException.Problem(source, 0, 0, "", null,
          "cannot read the test file " + testFile + ": " + e)), e);
    }
    return run(policy, text, source, explain);
  }

  /**
   * Runs every case of a test file given as text.
   *
   * @throws ConfigException if the text is not a valid test file
   */
  public static PolicyTestReport run(PolicyEngine policy, String yaml, String source) {
    return run(policy, yaml, source, false);
  }

  private static PolicyTestReport run(
      PolicyEngine policy, String yaml, String source, boolean explain) {
    ConfigReader in = new ConfigReader(YamlDocument.parse(yaml, source));
    List<Case> cases = read(in);
    in.throwIfErrors();
    List<PolicyTestReport.CaseResult> results = new ArrayList<>();
    for (Case c : cases) {
      results.add(c.run(policy, explain));
    }
    return new PolicyTestReport(results);
  }

  /**
   * Reads one request as a test case writes it, with its principal (and optionally its time)
   * beside the request's keys, for {@code sentinel policy explain}. JSON or YAML:
   *
   * <pre>
   * {"principal": {"id": "bob", "roles": ["developer"]}, "backend": "db",
   *  "tool": "db__query", "arguments": {"sql": ["DROP TABLE users"]}}
   * </pre>
   *
   * <p>Without {@code time} the request is at {@link #DEFAULT_TIME}.
   *
   * @param text the request
   * @param source a label for messages, such as {@code --request}
   * @throws ConfigException naming every problem, located
   */
  public static RequestContext request(String text, String source) {
    Objects.requireNonNull(text, "text");
    ConfigReader in = new ConfigReader(YamlDocument.parse(text, source));
    String subject = "request";
    RequestContext context = null;
    if (!in.node("").isObject()) {
      in.error("", subject, "expected a mapping such as {\"principal\": {\"id\": \"bob\"}, "
          + "\"tool\": \"db__query\", \"arguments\": {...}}, got "
          + ConfigReader.describe(in.node("")));
    } else if (in.checkKeys("", subject, CONTEXT_KEYS)) {
      Principal principal = in.present("/principal", subject, true)
          ? principal(in, "/principal", subject) : null;
      Instant time = time(in, "", subject);
      Request request = request(in, "", subject, null);
      if (principal != null && request != null && time != null) {
        context = RequestContext.of(principal, request, time);
      }
    }
    if (context == null && in.problems().isEmpty()) {
      in.error("", subject, "the request needs a principal with an id, and a tool, prompt, "
          + "resource or method that is not blank");
    }
    in.throwIfErrors();
    // a request read as null recorded a problem, and throwIfErrors threw for it
    return Objects.requireNonNull(context, "a request without problems");
  }

  private static @Nullable Instant time(ConfigReader in, String pointer, String subject) {
    if (!in.present(pointer + "/time", subject, false)) {
      return DEFAULT_TIME;
    }
    String t = in.string(pointer + "/time", subject, "an ISO-8601 time");
    if (t == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeParseException e) {
      in.error(pointer + "/time", subject, "invalid time '" + t + "'; write it like "
          + "2025-01-06T10:00:00Z or 2025-01-06T10:00:00+01:00");
      return null;
    }
  }

  private static List<Case> read(ConfigReader in) {
    List<Case> out = new ArrayList<>();
    if (!in.checkKeys("", null, TOP_KEYS) || !in.present("/tests", null, true)) {
      return out;
    }
    JsonNode tests = in.node("/tests");
    if (!tests.isArray()) {
      in.error("/tests", null, "expected a list of test cases (each '- name: ...'), got "
          + ConfigReader.describe(tests));
      return out;
    }
    Map<String, String> names = new HashMap<>();
    for (int i = 0; i < tests.size(); i++) {
      Case c = readCase(in, YamlDocument.child("/tests", i), names);
      if (c != null) {
        out.add(c);
      }
    }
    return out;
  }

  private static @Nullable Case readCase(
      ConfigReader in, String pointer, Map<String, String> names) {
    int before = in.problems().size();
    String fallback = "test at " + pointer;
    if (!in.node(pointer).isObject()) {
      in.error(pointer, fallback, "expected a test case (a mapping with name, principal, "
          + "request and expect), got " + ConfigReader.describe(in.node(pointer)));
      return null;
    }
    String name = in.present(pointer + "/name", fallback, true)
        ? in.string(pointer + "/name", fallback, "a test name") : null;
    String subject = name == null ? fallback : "test '" + name + "'";
    in.checkKeys(pointer, subject, CASE_KEYS);
    if (name != null && names.putIfAbsent(name, pointer) != null) {
      in.error(pointer + "/name", subject, "duplicate test name '" + name + "'; give each test "
          + "a unique name");
    }
    Principal principal = in.present(pointer + "/principal", subject, true)
        ? principal(in, pointer + "/principal", subject) : null;
    Request request = in.present(pointer + "/request", subject, true)
        ? request(in, pointer + "/request", subject, REQUEST_KEYS) : null;
    Instant time = time(in, pointer, subject);
    String expect = null;
    if (in.present(pointer + "/expect", subject, true)) {
      expect = in.string(pointer + "/expect", subject, "allow, deny or confirm");
      if (expect != null && !EFFECTS.contains(expect.toLowerCase(Locale.ROOT))) {
        in.error(pointer + "/expect", subject, ConfigReader.unknown("effect", expect, EFFECTS));
      }
    }
    List<String> rules = in.present(pointer + "/rules", subject, false)
        ? in.names(pointer + "/rules", subject, "rule ids") : List.of();
    Boolean visible = null;
    if (in.present(pointer + "/visible", subject, false)) {
      JsonNode v = in.node(pointer + "/visible");
      if (v.isBoolean()) {
        visible = v.booleanValue();
      } else {
        in.error(pointer + "/visible", subject, "expected true or false, got "
            + ConfigReader.describe(v));
      }
    }
    if (in.problems().size() > before) {
      return null;
    }
    // each part read as null recorded a problem above
    return new Case(Objects.requireNonNull(name, "name"),
        RequestContext.of(Objects.requireNonNull(principal, "principal"),
            Objects.requireNonNull(request, "request"), Objects.requireNonNull(time, "time")),
        Objects.requireNonNull(expect, "expect").toLowerCase(Locale.ROOT), rules, visible);
  }

  private static @Nullable Principal principal(
      ConfigReader in, String pointer, String subject) {
    JsonNode node = in.node(pointer);
    if (node.isString()) {
      if (node.stringValue().isBlank()) {
        in.error(pointer, subject, "the principal's id must not be blank");
        return null;
      }
      return Principal.of(node.stringValue());
    }
    if (!in.checkKeys(pointer, subject, PRINCIPAL_KEYS)) {
      return null;
    }
    String id = in.present(pointer + "/id", subject, true)
        ? in.string(pointer + "/id", subject, "a principal id") : null;
    Set<String> roles = in.present(pointer + "/roles", subject, false)
        ? new HashSet<>(in.names(pointer + "/roles", subject, "role names")) : Set.of();
    Map<String, List<String>> attributes = new LinkedHashMap<>();
    JsonNode attrs = in.node(pointer + "/attributes");
    if (attrs.isObject()) {
      for (String key : attrs.propertyNames()) {
        attributes.put(key, in.names(YamlDocument.child(pointer + "/attributes", key), subject,
            "attribute values"));
      }
    } else if (!attrs.isMissingNode()) {
      in.error(pointer + "/attributes", subject, "expected a mapping of attribute names to "
          + "values, got " + ConfigReader.describe(attrs));
    }
    if (id != null && id.isBlank()) {
      in.error(pointer + "/id", subject, "the principal's id must not be blank");
    }
    if (id == null || id.isBlank()) {
      return null;
    }
    return new Principal(id, roles, attributes);
  }

  /**
   * Reads a request's keys at {@code pointer}; checks them against {@code keys} unless null.
   * Null after recording a problem.
   */
  private static @Nullable Request request(
      ConfigReader in, String pointer, String subject, @Nullable List<String> keys) {
    if (keys != null && !in.checkKeys(pointer, subject, keys)) {
      return null;
    }
    JsonNode node = in.node(pointer);
    String method = null;
    String name = null;
    int targets = 0;
    for (String[] pair : new String[][] {
        {"tool", Request.TOOLS_CALL}, {"prompt", Request.PROMPTS_GET},
        {"resource", Request.RESOURCES_READ}, {"name", null}}) {
      if (node.has(pair[0])) {
        targets++;
        name = in.string(pointer + "/" + pair[0], subject, "a " + pair[0] + " name");
        method = pair[1];
      }
    }
    if (targets > 1) {
      in.error(pointer, subject, "give only one of tool, prompt, resource or name");
    }
    if (node.has("method")) {
      method = in.string(pointer + "/method", subject, "an MCP method such as tools/call");
      if (method != null && method.isBlank()) {
        in.error(pointer + "/method", subject, "the method must not be blank");
      }
    } else if (method == null) {
      in.error(pointer, subject, "missing the target: give tool, prompt or resource (or method)");
    }
    String backend = node.has("backend")
        ? in.string(pointer + "/backend", subject, "a backend name") : prefix(name);
    JsonNode arguments = node.path("arguments");
    if (!arguments.isMissingNode() && !arguments.isObject() && !arguments.isNull()) {
      in.error(pointer + "/arguments", subject, "expected a mapping of arguments, got "
          + ConfigReader.describe(arguments));
    }
    if (method == null || method.isBlank()) {
      return null;
    }
    // the missing node is no arguments, as null is
    return new Request(method, backend, name,
        arguments.isObject() ? arguments : MissingNode.getInstance());
  }

  /**
   * The backend a gateway would route a name to by its prefix: {@code db} for {@code db__query}
   * (the default separator {@code __}), so that rules naming backends decide test cases as they
   * decide the gateway's requests; null for a name without one.
   */
  private static @Nullable String prefix(@Nullable String name) {
    if (name == null) {
      return null;
    }
    int at = name.indexOf(NAMESPACE_SEPARATOR);
    return at > 0 ? name.substring(0, at) : null;
  }

  /** One parsed test case. */
  private record Case(
      String name, RequestContext context, String expect, List<String> rules,
      @Nullable Boolean visible) {

    PolicyTestReport.CaseResult run(PolicyEngine policy, boolean explainAll) {
      Decision decision = policy.decide(context);
      boolean passed = decision.effect().name().toLowerCase(Locale.ROOT).equals(expect)
          && decision.rules().containsAll(rules);
      String expected = expect + (rules.isEmpty() ? "" : " by " + String.join(", ", rules));
      String actual = Explanation.brief(decision);
      if (visible != null) {
        boolean seen = policy.visible(context);
        passed &= seen == visible;
        expected += visible ? ", visible" : ", hidden";
        actual += seen ? ", visible" : ", hidden";
      }
      String explanation = explainAll ? policy.explain(context).render()
          : passed ? "" : explain(policy.explain(context), rules);
      return new PolicyTestReport.CaseResult(name, passed, expected, actual, explanation);
    }

    /** The decision, the rules that matched, and the expected rules that did not. */
    private static String explain(Explanation explanation, List<String> expectedRules) {
      StringBuilder out = new StringBuilder(Explanation.summary(explanation.decision()));
      int others = 0;
      for (RuleTrace trace : explanation.rules()) {
        if (trace.matched() || expectedRules.contains(trace.ruleId())) {
          out.append("\n  ").append(trace.render());
        } else {
          others++;
        }
      }
      if (others > 0) {
        out.append("\n  (").append(others).append(others == 1 ? " other rule" : " other rules")
            .append(" did not match)");
      }
      return out.toString();
    }
  }
}
