package dev.sentinel.core.config;

import java.util.regex.Pattern;

/**
 * One MCP server the gateway fronts: a child process spoken to over stdio
 * ({@link StdioBackend}) or a Streamable HTTP endpoint ({@link HttpBackend}).
 *
 * <p>Implementations are immutable records whose {@code toString()} never shows secret values.
 */
public sealed interface Backend permits StdioBackend, HttpBackend {

  /** What a backend name looks like: lowercase letters, digits, {@code _} and {@code -}. */
  Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

  /** The backend's name: unique in a config, the prefix of its tools' names. */
  String name();

  /** {@code stdio} or {@code http}. */
  String kind();

  /** How the gateway connects to it: isolation, connection bounds, resource prefixes. */
  Connections connections();

  /** Checks a backend name against {@link #NAME}. */
  static String checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("backend name must match " + NAME.pattern()
          + ", got '" + name + "'");
    }
    return name;
  }
}
