package dev.sentinel.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** Finds a command's own subcommands by name. Stateless. */
final class Subcommands {
  private Subcommands() {}

  /**
   * The subcommand {@code name} of {@code spec}'s command: one of its own methods, so always
   * there.
   *
   * @throws IllegalStateException if the command has no such subcommand
   */
  static CommandLine of(CommandSpec spec, String name) {
    CommandLine line = spec.commandLine().getSubcommands().get(name);
    if (line == null) {
      throw new IllegalStateException("no subcommand '" + name + "' in "
          + spec.qualifiedName());
    }
    return line;
  }
}
