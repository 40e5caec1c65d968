package dev.sentinel.core.policy;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A language for rule conditions written as expressions, such as CEL under the key
 * {@code when_cel} (the module {@code sentinel-policy-cel}). A language is registered
 * explicitly, per load, with {@link PolicyOptions}; nothing is discovered from the class path.
 *
 * <pre>{@code
 * PolicyOptions options = PolicyOptions.builder().language(CelConditionLanguage.create()).build();
 * PolicyEngine policy = PolicyEngine.load(Path.of("policy.yaml"), options);
 * }</pre>
 *
 * <p>An expression is compiled (and, if the language has types, type-checked) once, when the
 * policy is loaded: a bad expression is a located load error, and nothing starts. At decision
 * time the compiled {@link Expression} answers {@link Result#TRUE}, {@link Result#FALSE} or
 * {@link Result#undecided undecided}; undecided fails closed as a type mismatch of a {@code when}
 * condition does (a match for a {@code deny} or {@code confirm} rule, no match for an
 * {@code allow} rule). An expression that throws is undecided too.
 *
 * <p>Implementations must be immutable and thread-safe, and so must the expressions they
 * compile. Evaluation should bound its own cost: the arguments come from the caller.
 */
public interface ConditionLanguage {

  /**
   * The key that holds this language's expression in a rule's {@code allow}, {@code deny} or
   * {@code confirm}, such as {@code when_cel}: {@code when_} followed by lower-case letters,
   * digits or {@code _}.
   */
  String key();

  /**
   * A language under {@code key} that {@code factory} makes when the first expression is compiled,
   * once: registering it costs a process nothing until a policy uses the key (CEL's classes, for
   * one, take a start-up's worth of milliseconds to load). The language made must have the same
   * key; a factory that fails fails that compile, and the next compile tries again.
   *
   * @param key the language's key, as {@link #key()} of what the factory makes
   * @param factory makes the language; called at most once successfully, from any thread
   */
  static ConditionLanguage deferred(String key, Supplier<? extends ConditionLanguage> factory) {
    return new DeferredLanguage(key, factory);
  }

  /**
   * Compiles one expression, as written in the policy.
   *
   * @param expression the expression's text (YAML escapes already resolved)
   * @return the compiled expression, never {@code null}
   * @throws InvalidExpressionException if the expression does not compile or type-check, with
   *     each problem located in the expression's text
   */
  Expression compile(String expression);

  /** A compiled expression: immutable and thread-safe. */
  @FunctionalInterface
  interface Expression {
    /**
     * Evaluates the expression for one request. Should not throw: an error is
     * {@link Result#undecided}. (If it throws anyway, the policy counts it as undecided.)
     */
    Result evaluate(ConditionInput input);
  }

  /**
   * What an expression said about one request: true, false, or undecided with the reason (an
   * error while evaluating, a budget exhausted), for {@code sentinel policy explain}. Immutable.
   */
  final class Result {
    /** The expression holds. */
    public static final Result TRUE = new Result(true, true, null);
    /** The expression does not hold. */
    public static final Result FALSE = new Result(true, false, null);

    private final boolean decided;
    private final boolean value;
    private final @Nullable String reason;

    private Result(boolean decided, boolean value, @Nullable String reason) {
      this.decided = decided;
      this.value = value;
      this.reason = reason;
    }

    /** {@link #TRUE} or {@link #FALSE}. */
    public static Result of(boolean value) {
      return value ? TRUE : FALSE;
    }

    /**
     * Undecided: the expression could not be evaluated for this request.
     *
     * @param reason why, for operators (such as {@code no such key: 'amount'}); must not contain
     *     secrets
     */
    public static Result undecided(String reason) {
      return new Result(false, false, Objects.requireNonNull(reason, "reason"));
    }

    /** Whether the expression came out true or false. */
    public boolean decided() {
      return decided;
    }

    /** The value when {@link #decided()}; {@code false} otherwise. */
    public boolean value() {
      return value;
    }

    /** Why it is undecided, or {@code null} when decided. */
    public @Nullable String reason() {
      return reason;
    }

    @Override
    public String toString() {
      return decided ? Boolean.toString(value) : "undecided (" + reason + ")";
    }
  }

  /**
   * One problem in an expression, located in its text.
   *
   * @param line the 1-based line in the expression, or 0 if unknown
   * @param column the 1-based column (in code points) in that line, or 0 if unknown
   * @param message what is wrong, in the language's own words
   */
  record Issue(int line, int column, String message) {
    /** Validates. */
    public Issue {
      Objects.requireNonNull(message, "message");
      if (line < 0 || column < 0) {
        throw new IllegalArgumentException("line and column must not be negative");
      }
    }
  }

  /** An expression does not compile or type-check; the policy reports each issue, located. */
  final class InvalidExpressionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The issues; never empty. */
    private final transient List<Issue> issues;

    /**
     * An exception for some issues (at least one).
     *
     * @throws IllegalArgumentException if {@code issues} is empty
     */
    public InvalidExpressionException(List<Issue> issues) {
      super(issues.isEmpty() ? "" : issues.get(0).message(), null, false, false);
      if (issues.isEmpty()) {
        throw new IllegalArgumentException("an invalid expression needs at least one issue");
      }
      this.issues = List.copyOf(issues);
    }

    /** The issues, in the order found. */
    public List<Issue> issues() {
      return issues;
    }
  }
}
