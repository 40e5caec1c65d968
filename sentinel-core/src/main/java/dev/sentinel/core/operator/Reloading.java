package dev.sentinel.core.operator;

import dev.sentinel.core.config.ConfigException;
import java.util.List;
import java.util.Objects;

/**
 * Reloads a running gateway's config from its file: sentinel-mcp's {@code ConfigReloader}.
 * Implementations are thread-safe and never throw for a bad config: they refuse it.
 */
@FunctionalInterface
public interface Reloading {

  /** Loads the file and swaps it in, or refuses it with the reasons. */
  Result reload();

  /**
   * As {@link #reload()}, accepting a signed bundle that is not newer than the running one (an
   * operator forcing a rollback; the gateway records it in the audit trail under {@code actor}).
   * Signatures and the signer threshold are checked as always.
   *
   * @throws OperatorException UNSUPPORTED when this gateway cannot reload that way
   */
  default Result reloadAllowingRollback(String actor) {
    throw new OperatorException(OperatorException.Kind.UNSUPPORTED,
        "this gateway cannot force a bundle rollback");
  }

  /**
   * What came of a reload.
   *
   * @param applied whether the new config was swapped in
   * @param revision the revision serving now (the new one when applied, else the old one)
   * @param previous the revision that served before
   * @param problems why the config was refused, each located; empty when applied
   */
  record Result(boolean applied, String revision, String previous,
      List<ConfigException.Problem> problems) {

    /** Validates and copies. */
    public Result {
      Objects.requireNonNull(revision, "revision");
      Objects.requireNonNull(previous, "previous");
      problems = List.copyOf(problems);
      if (applied != problems.isEmpty()) {
        throw new IllegalArgumentException("a reload is refused exactly when it has problems");
      }
    }
  }
}
