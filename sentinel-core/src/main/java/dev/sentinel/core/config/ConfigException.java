package dev.sentinel.core.config;

import dev.sentinel.api.SentinelException;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * A configuration file (or a policy) could not be loaded. Carries every problem found, each with
 * its own location, so that one run reports all mistakes rather than the first.
 *
 * <p>The accessors {@link #source()}, {@link #line()}, {@link #column()}, {@link #path()} and
 * {@link #subject()} describe the first problem; {@link #problems()} lists them all.
 */
public class ConfigException extends SentinelException {
  private static final long serialVersionUID = 1L;

  /** The problems, in the order found; never empty. */
  private final transient List<Problem> problems;

  /**
   * One mistake in a configuration file.
   *
   * @param source the file name or a label such as {@code <inline>}
   * @param line the 1-based line, or 0 if unknown
   * @param column the 1-based column, or 0 if unknown
   * @param path the JSON-Pointer-like key path, such as {@code /rules/3/allow/tools}; empty for
   *     the whole document
   * @param subject what the problem belongs to, such as {@code rule 'devs-write'}, or {@code null}
   * @param message what is wrong, what was expected and what to do
   */
  public record Problem(
      String source, int line, int column, String path, @Nullable String subject, String message) {

    /** Validates. */
    public Problem {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(message, "message");
      path = path == null ? "" : path;
      if (line < 0 || column < 0) {
        throw new IllegalArgumentException("line and column must not be negative");
      }
    }

    /** Renders as {@code source:line:column: subject: message}. */
    @Override
    public String toString() {
      StringBuilder out = new StringBuilder(source);
      if (line > 0) {
        out.append(':').append(line);
        if (column > 0) {
          out.append(':').append(column);
        }
      }
      out.append(": ");
      if (subject != null) {
        out.append(subject).append(": ");
      } else if (!path.isEmpty()) {
        out.append("at ").append(path).append(": ");
      }
      return out.append(message).toString();
    }
  }

  /** An exception for one problem. */
  public ConfigException(Problem problem) {
    this(List.of(problem), null);
  }

  /** An exception for several problems (at least one). */
  public ConfigException(List<Problem> problems) {
    this(problems, null);
  }

  /** An exception for several problems (at least one), caused by another exception. */
  public ConfigException(List<Problem> problems, @Nullable Throwable cause) {
    super(render(problems), cause);
    this.problems = List.copyOf(problems);
  }

  /** Every problem found, in the order found; never empty. */
  public List<Problem> problems() {
    return problems;
  }

  /** The file name or label of the first problem. */
  public String source() {
    return problems.get(0).source();
  }

  /** The 1-based line of the first problem, or 0 if unknown. */
  public int line() {
    return problems.get(0).line();
  }

  /** The 1-based column of the first problem, or 0 if unknown. */
  public int column() {
    return problems.get(0).column();
  }

  /** The key path of the first problem, such as {@code /rules/3/allow}. */
  public String path() {
    return problems.get(0).path();
  }

  /** What the first problem belongs to, such as {@code rule 'devs-write'}, or {@code null}. */
  public @Nullable String subject() {
    return problems.get(0).subject();
  }

  private static String render(List<Problem> problems) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one problem");
    }
    if (problems.size() == 1) {
      return problems.get(0).toString();
    }
    return problems.size()
        + " problems in "
        + problems.get(0).source()
        + ":\n"
        + problems.stream().map(p -> "  " + p).collect(Collectors.joining("\n"));
  }
}
