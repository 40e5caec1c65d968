package dev.sentinel.policy.cel;

import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.policy.ConditionInput;
import dev.sentinel.core.policy.ConditionLanguage;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One compiled {@code when_cel} expression. Each evaluation resolves the variables it reads,
 * lazily, and gets its own {@link JsonValues.Budget}. Immutable and thread-safe.
 */
final class CelExpression implements ConditionLanguage.Expression {
  /** cel-java's prefix on evaluation errors: {@code evaluation error at <input>:12: }. */
  private static final Pattern ERROR_PREFIX =
      Pattern.compile("^evaluation error(?: at [^:]*:\\d+)?: ");

  private final CelRuntime.Program program;

  CelExpression(CelRuntime.Program program) {
    this.program = program;
  }

  @Override
  public ConditionLanguage.Result evaluate(ConditionInput input) {
    JsonValues.Budget budget = new JsonValues.Budget(CelConditionLanguage.READ_BUDGET);
    Object result;
    try {
      result = program.eval(name -> Optional.ofNullable(variable(name, input, budget)));
    } catch (CelEvaluationException e) {
      return ConditionLanguage.Result.undecided(reason(e));
    } catch (RuntimeException | StackOverflowError e) {
      // A fault inside CEL: undecided, and its text (which may quote arguments) stays out.
      return ConditionLanguage.Result.undecided("CEL failed (" + e.getClass().getSimpleName()
          + ")");
    }
    if (result instanceof Boolean) {
      return ConditionLanguage.Result.of((Boolean) result);
    }
    return ConditionLanguage.Result.undecided("the expression gave "
        + (result == null ? "no value" : "a " + result.getClass().getSimpleName())
        + ", not a bool");
  }

  /** The value of a variable, or null for a name that is none of them. */
  private static @Nullable Object variable(String name, ConditionInput input,
      JsonValues.Budget budget) {
    switch (name) {
      case "args":
        return JsonValues.root(input.arguments(), budget);
      case "request": {
        Request request = input.request();
        return Map.of("method", request.method(),
            "backend", request.backend() == null ? "" : request.backend(),
            "name", request.name() == null ? "" : request.name());
      }
      case "principal": {
        Principal principal = input.principal();
        return Map.of("id", principal.id(), "roles", List.copyOf(input.roles()),
            "attributes", principal.attributes());
      }
      case "time":
        return input.time();
      default:
        return null;
    }
  }

  /** The evaluation error in a few words: CEL's message without its prefix and overload list. */
  private static String reason(CelEvaluationException e) {
    String message = e.getMessage() == null ? "evaluation error" : e.getMessage();
    message = ERROR_PREFIX.matcher(message).replaceFirst("");
    int candidates = message.indexOf(". Overload candidates");
    if (candidates >= 0) {
      message = message.substring(0, candidates);
    }
    if (message.endsWith(".")) {
      message = message.substring(0, message.length() - 1);
    }
    return message.length() <= 200 ? message : message.substring(0, 197) + "...";
  }
}
