package dev.sentinel.cli;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A failure the person running the command can act on: what went wrong and what to do about it,
 * printed as one line on stderr with exit code 1 (the stack trace only with {@code --debug}).
 * Immutable.
 */
final class UserError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String hint;

  /**
   * @param cause what went wrong, naming the thing (a file, an address)
   * @param hint what to do about it
   * @param error the underlying exception, for {@code --debug}; may be null
   */
  UserError(String cause, String hint, @Nullable Throwable error) {
    super(Objects.requireNonNull(cause, "cause"), error);
    this.hint = Objects.requireNonNull(hint, "hint");
  }

  /** The one line printed: {@code sentinel: CAUSE. Hint: HINT}. */
  String line() {
    return "sentinel: " + getMessage() + ". Hint: " + hint;
  }
}
