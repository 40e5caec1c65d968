package dev.sentinel.policy.cel;

import com.google.common.collect.ImmutableCollection;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelSourceLocation;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.sentinel.core.policy.ConditionLanguage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * CEL (Common Expression Language) conditions for Sentinel policies, under the key
 * {@code when_cel}. Register it explicitly when loading a policy:
 *
 * <pre>{@code
 * PolicyOptions options = PolicyOptions.builder().language(CelConditionLanguage.create()).build();
 * PolicyEngine policy = PolicyEngine.load(Path.of("policy.yaml"), options);
 * }</pre>
 *
 * <pre>
 * rules:
 *   - id: big-payments-need-finance
 *     deny:
 *       tools: [billing__pay]
 *       when_cel: 'args.amount &gt; 1000 &amp;&amp; !principal.roles.exists(r, r == "finance")'
 * </pre>
 *
 * <p>An expression sees four variables, declared with their types so that it is type-checked
 * when the policy loads (a misspelt field or a non-{@code bool} result is a located load error):
 *
 * <ul>
 *   <li>{@code request}: {@code method}, {@code backend} and {@code name} (strings; {@code ""}
 *       when the request has none);
 *   <li>{@code principal}: {@code id} (string), {@code roles} (list of strings: the roles held
 *       and every role they inherit in the policy, as a rule's {@code roles:} sees them) and
 *       {@code attributes} (map of string to list of strings);
 *   <li>{@code args}: the arguments, a map of string to {@code dyn} read from the JSON;
 *   <li>{@code time}: when the request arrived (a {@code timestamp}).
 * </ul>
 *
 * <p>JSON numbers become CEL numbers by value, exactly: a whole number becomes an {@code int}
 * (or a {@code uint} from 2^63 to 2^64), any other number the {@code double} whose shortest
 * decimal form equals it; comparisons work across the three ({@code args.amount > 1000} holds
 * for {@code 1000.5}).
 * A number CEL cannot hold exactly (such as {@code 1000.0000000000000001}, or a whole number
 * beyond 64 bits that no double equals) is an error when the expression reads it.
 *
 * <p>An error while evaluating (a missing key, a type error, an overflow, a number CEL cannot
 * hold) leaves the condition undecided, which fails closed: a match for {@code deny} and
 * {@code confirm}, no match for {@code allow}. Evaluation is bounded: at most
 * {@value #MAX_ITERATIONS} comprehension iterations ({@code exists}, {@code all}, {@code map},
 * ...) in all, and at most {@value #READ_BUDGET} units of reading the arguments (one per value
 * read, plus one per 16 characters of a string read), whatever the arguments; past either the
 * condition is undecided. Expressions are at most {@value #MAX_LENGTH} characters and
 * {@value #MAX_NESTING} levels deep.
 *
 * <p>Built on Google's cel-java ({@code dev.cel:cel}) with its standard functions and macros and
 * its "current" options. Immutable and thread-safe.
 */
public final class CelConditionLanguage implements ConditionLanguage {
  /** The rule key of CEL conditions. */
  public static final String KEY = "when_cel";
  /** The most comprehension iterations one evaluation may run, in all. */
  public static final int MAX_ITERATIONS = 10_000;
  /** The most units of argument reading one evaluation may spend. */
  public static final long READ_BUDGET = 1_000_000;
  /** The longest expression, in code points. */
  public static final int MAX_LENGTH = 10_000;
  /** The deepest nesting of an expression (parentheses, calls, operator chains). */
  public static final int MAX_NESTING = 100;

  static final StructType REQUEST = StructType.create("sentinel.Request",
      ImmutableSet.of("method", "backend", "name"),
      field -> Optional.of(SimpleType.STRING));
  static final StructType PRINCIPAL = StructType.create("sentinel.Principal",
      ImmutableSet.of("id", "roles", "attributes"),
      CelConditionLanguage::principalField);
  private static final String VARIABLES = "the variables are request, principal, args and time";
  private static final String FIELDS = "request has method, backend and name; principal has "
      + "id, roles and attributes";

  private static final CelConditionLanguage INSTANCE = new CelConditionLanguage();

  private CelConditionLanguage() {}

  /**
   * The CEL environment, built on first use: building it loads much of cel-java (about a second
   * on a loaded machine), which a command that loads no policy with {@code when_cel} should not
   * pay.
   */
  private static final class Environment {
    static final Cel CEL = build();
  }

  private static Cel build() {
    CelOptions options = CelOptions.current()
        // args.amount > 1000 must hold whether the JSON number became an int or a double.
        .enableHeterogeneousNumericComparisons(true)
        .comprehensionMaxIterations(MAX_ITERATIONS)
        .maxExpressionCodePointSize(MAX_LENGTH)
        .maxParseRecursionDepth(MAX_NESTING)
        .build();
    // The legacy (tree-walking) runtime, not the planner: in cel-java 0.14 the planner converts
    // a variable's whole value on every access, so each read of args would cost the size of the
    // arguments; this runtime reads only what the expression reads.
    return CelFactory.legacyCelBuilder()
        .setOptions(options)
        .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
        .setTypeProvider(new Types())
        .addVar("request", REQUEST)
        .addVar("principal", PRINCIPAL)
        .addVar("args", MapType.create(SimpleType.STRING, SimpleType.DYN))
        .addVar("time", SimpleType.TIMESTAMP)
        .setResultType(SimpleType.BOOL)
        .build();
  }

  /**
   * The CEL language with its standard functions and macros. Cheap: the CEL environment is
   * built when the first expression is compiled.
   */
  public static CelConditionLanguage create() {
    return INSTANCE;
  }

  /** {@value #KEY}. */
  @Override
  public String key() {
    return KEY;
  }

  /**
   * Parses and type-checks an expression (whose result must be a {@code bool}) and plans its
   * evaluation.
   *
   * @throws InvalidExpressionException with CEL's messages, located in the expression
   */
  @Override
  public Expression compile(String expression) {
    CelAbstractSyntaxTree ast;
    try {
      CelValidationResult result = Environment.CEL.compile(expression);
      if (result.hasError()) {
        throw new InvalidExpressionException(issues(result.getErrors(), null));
      }
      ast = result.getAst();
    } catch (CelValidationException e) {
      throw new InvalidExpressionException(issues(e.getErrors(), e.getMessage()));
    } catch (StackOverflowError e) {
      throw new InvalidExpressionException(List.of(new Issue(0, 0,
          "the expression is nested too deeply; split it")));
    }
    try {
      CelRuntime.Program program = Environment.CEL.createProgram(ast);
      return new CelExpression(program);
    } catch (CelEvaluationException e) {
      throw new InvalidExpressionException(List.of(new Issue(0, 0,
          "the expression cannot be planned: " + e.getMessage())));
    }
  }

  @Override
  public String toString() {
    return "CEL (" + KEY + ")";
  }

  private static List<Issue> issues(List<CelIssue> errors, @Nullable String fallback) {
    List<Issue> out = new ArrayList<>();
    for (CelIssue error : errors) {
      CelSourceLocation at = error.getSourceLocation();
      boolean located = at.getLine() > 0 && at.getColumn() >= 0;
      out.add(new Issue(located ? at.getLine() : 0, located ? at.getColumn() + 1 : 0,
          explain(error.getMessage())));
    }
    if (out.isEmpty()) {
      out.add(new Issue(0, 0, explain(fallback == null ? "invalid expression" : fallback)));
    }
    return out;
  }

  /** CEL's message, with a hint where it names something the expression cannot see. */
  private static String explain(String message) {
    String text = message.replace(" (in container '')", "");
    if (text.startsWith("undeclared reference")) {
      return text + "; " + VARIABLES;
    }
    if (text.startsWith("undefined field")) {
      return text + "; " + FIELDS;
    }
    if (text.startsWith("Expression recursion limit exceeded")) {
      return "the expression is nested more than " + MAX_NESTING + " levels deep; split it";
    }
    if (text.contains("expression code point size exceeds limit")) {
      return "the expression is longer than " + MAX_LENGTH + " characters";
    }
    return text;
  }

  private static Optional<CelType> principalField(String field) {
    switch (field) {
      case "id":
        return Optional.of(SimpleType.STRING);
      case "roles":
        return Optional.of(ListType.create(SimpleType.STRING));
      case "attributes":
        return Optional.of(MapType.create(SimpleType.STRING, ListType.create(SimpleType.STRING)));
      default:
        return Optional.empty();
    }
  }

  /** Declares the two struct types; their values at run time are maps with those keys. */
  private static final class Types implements CelTypeProvider {
    private static final ImmutableList<CelType> TYPES = ImmutableList.of(REQUEST, PRINCIPAL);

    @Override
    public ImmutableCollection<CelType> types() {
      return TYPES;
    }

    @Override
    public Optional<CelType> findType(String typeName) {
      for (CelType type : TYPES) {
        if (type.name().equals(typeName)) {
          return Optional.of(type);
        }
      }
      return Optional.empty();
    }
  }
}
