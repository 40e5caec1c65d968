package dev.sentinel.mcp.gateway;

import dev.sentinel.mcp.engine.ToolSchema;
import dev.sentinel.core.config.Validation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.MissingNode;

/**
 * What starting a config's backends and listing their tools found
 * ({@link GatewayRuntime#checkTools}): each tool's input schema, whether the gateway can use it,
 * and the policy's conditions that cannot apply to it. Immutable.
 *
 * @param tools every listed tool, backends in configuration order
 * @param problems by backend name, why its tools could not be listed
 */
public record ToolReport(List<Tool> tools, Map<String, String> problems) {

  /** Copies. */
  public ToolReport {
    tools = List.copyOf(tools);
    problems = Map.copyOf(problems);
  }

  /**
   * One listed tool.
   *
   * @param backend its backend's name
   * @param name its name as clients see it
   * @param validation what the backend's {@code validate} does with invalid arguments
   * @param schema its input schema, compiled (see {@link ToolSchema#problem()})
   * @param conflicts the policy's conditions that cannot apply to its schema, one line each
   * @param annotations its annotations as the backend listed them (a missing node if none): the
   *     server's own claims ({@code readOnlyHint}, {@code destructiveHint}), not a guarantee
   */
  public record Tool(String backend, String name, Validation validation, ToolSchema schema,
      List<String> conflicts, JsonNode annotations) {
    /** Validates and copies. */
    public Tool {
      Objects.requireNonNull(backend, "backend");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(validation, "validation");
      Objects.requireNonNull(schema, "schema");
      conflicts = List.copyOf(conflicts);
      Objects.requireNonNull(annotations, "annotations");
    }

    /** A tool listed without annotations. */
    public Tool(String backend, String name, Validation validation, ToolSchema schema,
        List<String> conflicts) {
      this(backend, name, validation, schema, conflicts,
          MissingNode.getInstance());
    }

    /**
     * Whether its annotations say it only reads ({@code readOnlyHint: true}; MCP's default is
     * false). The server's claim: a policy built on it is a starting point to review.
     */
    public boolean readOnly() {
      return annotations.path("readOnlyHint").asBoolean(false)
          && annotations.path("readOnlyHint").isBoolean();
    }

    /**
     * What the gateway does with a call of this tool with these arguments, before the policy
     * decides, in one line: {@code schema: valid}, or the finding and what {@code validate} makes
     * of it.
     */
    public String check(JsonNode arguments) {
      if (validation == Validation.OFF) {
        return "schema: not checked (validate: off)";
      }
      ToolSchema.Verdict verdict = schema.validate(arguments);
      if (verdict.valid()) {
        return "schema: the arguments match the input schema of '" + name + "'";
      }
      String finding = verdict.kind() == ToolSchema.Verdict.Kind.INVALID
          ? "the arguments do not match the input schema of '" + name + "': "
          : "the arguments of '" + name + "' cannot be checked: ";
      return "schema: " + finding + verdict.reason() + (validation == Validation.ENFORCE
          ? "; refused before the policy decides (rule schema, validate: enforce)"
          : "; forwarded and recorded (validate: warn)");
    }
  }

  /** The tool clients see under this name, if a backend listed it. */
  public Optional<Tool> tool(String name) {
    for (Tool tool : tools) {
      if (tool.name().equals(name)) {
        return Optional.of(tool);
      }
    }
    return Optional.empty();
  }

  /** Whether every backend's tools were listed. */
  public boolean listed() {
    return problems.isEmpty();
  }

  /**
   * Human-readable lines: per backend, its tool count or its problem; then each unusable schema
   * and each conflict as a warning.
   */
  public List<String> render(List<String> backendNames) {
    List<String> out = new ArrayList<>();
    for (String backend : backendNames) {
      String problem = problems.get(backend);
      if (problem != null) {
        out.add("backend " + backend + ": " + problem);
        continue;
      }
      long count = tools.stream().filter(t -> t.backend().equals(backend)).count();
      out.add("backend " + backend + ": " + count + (count == 1 ? " tool" : " tools") + " listed");
    }
    for (Tool tool : tools) {
      if (tool.schema().problem() != null) {
        out.add("warning: tool '" + tool.name() + "': " + tool.schema().problem()
            + (tool.validation() == Validation.ENFORCE ? "; its calls are refused (validate: enforce)" : ""));
      }
      for (String conflict : tool.conflicts()) {
        out.add("warning: " + conflict);
      }
    }
    return out;
  }
}
