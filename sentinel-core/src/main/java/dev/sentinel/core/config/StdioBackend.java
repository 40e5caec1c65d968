package dev.sentinel.core.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A backend started as a child process and spoken to over its stdin and stdout: the exact argv
 * (no shell), the complete environment the child gets (nothing else is inherited), and its
 * working directory. Immutable; {@link #toString()} shows environment names, never values.
 *
 * @param name the backend's name
 * @param command the argv: the program, then its arguments; not empty
 * @param env the child's whole environment: the config's explicit {@code env} over the
 *     {@code inherit_env} names found in the gateway's environment; in that order
 * @param cwd the child's working directory (absolute)
 * @param connections how the gateway connects to it
 */
public record StdioBackend(String name, List<String> command, Map<String, String> env, Path cwd,
    Connections connections) implements Backend {

  /** A backend with the default connection settings. */
  public StdioBackend(String name, List<String> command, Map<String, String> env, Path cwd) {
    this(name, command, env, cwd, Connections.DEFAULTS);
  }

  /** Validates and copies. */
  public StdioBackend {
    Backend.checkName(name);
    command = List.copyOf(command);
    if (command.isEmpty() || command.get(0).isBlank()) {
      throw new IllegalArgumentException("backend '" + name + "': command must not be empty");
    }
    Map<String, String> copy = new LinkedHashMap<>();
    env.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "env name"),
        Objects.requireNonNull(v, "env value of " + k)));
    env = Collections.unmodifiableMap(copy);
    Objects.requireNonNull(cwd, "cwd");
    if (!cwd.isAbsolute()) {
      throw new IllegalArgumentException("backend '" + name + "': cwd must be absolute");
    }
    Objects.requireNonNull(connections, "connections");
  }

  @Override
  public String kind() {
    return "stdio";
  }

  @Override
  public String toString() {
    return "StdioBackend[name=" + name + ", command=" + command + ", env=" + env.keySet()
        + ", cwd=" + cwd + ", connections=" + connections + "]";
  }
}
