package dev.sentinel.core.operator;

import dev.sentinel.api.SentinelException;
import java.util.Objects;

/**
 * An operation refused, with a message for the operator that names the thing and the rule, and
 * a {@link Kind} that each adapter maps to its own answer (the admin API to an HTTP status, the CLI
 * to exit code 1). Never carries a secret.
 */
public final class OperatorException extends SentinelException {
  private static final long serialVersionUID = 1L;

  /** What went wrong, as adapters distinguish it. */
  public enum Kind {
    /** The input is malformed or out of range (HTTP 400). */
    INVALID,
    /** The thing named does not exist (HTTP 404). */
    NOT_FOUND,
    /** The thing exists but is in a state that forbids the operation (HTTP 409). */
    CONFLICT,
    /** This gateway or store cannot do it, such as keys without a database (HTTP 404). */
    UNSUPPORTED,
    /** A store could not be written; the change may hold on this gateway only (HTTP 503). */
    UNAVAILABLE
  }

  private final Kind kind;

  /** An operation refused for {@code kind}, with a message for the operator. */
  public OperatorException(Kind kind, String message) {
    super(message);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** An operation that failed because of {@code cause}, whose text stays out of the message. */
  public OperatorException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** What went wrong. */
  public Kind kind() {
    return kind;
  }

  /** A refusal of bad input ({@link Kind#INVALID}). */
  public static OperatorException invalid(String message) {
    return new OperatorException(Kind.INVALID, message);
  }

  /** A refusal naming something that does not exist ({@link Kind#NOT_FOUND}). */
  public static OperatorException notFound(String message) {
    return new OperatorException(Kind.NOT_FOUND, message);
  }

  /** A refusal of a change the current state does not allow ({@link Kind#CONFLICT}). */
  public static OperatorException conflict(String message) {
    return new OperatorException(Kind.CONFLICT, message);
  }
}
