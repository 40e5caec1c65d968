package dev.sentinel.cli;

import dev.sentinel.core.operator.OperatorException;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * How the CLI adapts sentinel-core's operator service: an {@link OperatorException} about what
 * was typed ({@code INVALID}) is a usage error (exit 2, with the option named); any other is the
 * one-line failure {@link Main} prints (exit 1). Stateless.
 */
final class Operator {
  private Operator() {}

  /** Runs an operation for the subcommand {@code line}. */
  static <T> T call(CommandLine line, Supplier<T> operation) {
    try {
      return operation.get();
    } catch (OperatorException e) {
      if (e.kind() == OperatorException.Kind.INVALID) {
        throw new CommandLine.ParameterException(line, e.getMessage());
      }
      throw e;
    }
  }
}
