package dev.sentinel.mcp.transport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * How to start a backend MCP server as a child process.
 *
 * @param name the backend's name, used in logs (logger {@code dev.sentinel.backend.<name>}) and
 *     errors; not blank
 * @param command the exact argument vector, program first; run without a shell, so spaces,
 *     quotes and {@code $VARIABLES} reach the program literally
 * @param environment the child's whole environment: nothing is inherited from the gateway
 * @param workingDirectory the child's working directory, or null for the gateway's own
 * @param limits bounds on each message the child writes
 * @param stderrTailBytes how many of the last bytes of the child's stderr to keep for error
 *     messages; positive
 * @param stopGrace how long {@link ProcessTransport#close()} waits after closing the child's stdin,
 *     and again after asking it to terminate, before killing it; not negative
 */
public record ProcessSpec(
    String name,
    List<String> command,
    Map<String, String> environment,
    @Nullable Path workingDirectory,
    FrameLimits limits,
    int stderrTailBytes,
    Duration stopGrace) {

  /** The default stderr tail: 16 KiB. */
  public static final int DEFAULT_STDERR_TAIL_BYTES = 16 * 1024;
  /** The default stop grace: 2 seconds. */
  public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(2);

  /** Validates and copies. */
  public ProcessSpec {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("backend name must not be blank");
    }
    Objects.requireNonNull(command, "command of backend '" + name + "'");
    if (command.isEmpty()) {
      throw new IllegalArgumentException("command of backend '" + name + "' must not be empty");
    }
    for (String arg : command) {
      if (arg == null) {
        throw new IllegalArgumentException(
            "command of backend '" + name + "' must not contain null arguments");
      }
    }
    if (command.get(0).isBlank()) {
      throw new IllegalArgumentException(
          "command of backend '" + name + "' must name a program first");
    }
    command = List.copyOf(command);
    Objects.requireNonNull(environment, "environment of backend '" + name + "'");
    environment = Map.copyOf(environment);
    Objects.requireNonNull(limits, "limits of backend '" + name + "'");
    if (stderrTailBytes <= 0) {
      throw new IllegalArgumentException(
          "stderrTailBytes of backend '" + name + "' must be positive, was " + stderrTailBytes);
    }
    Objects.requireNonNull(stopGrace, "stopGrace of backend '" + name + "'");
    if (stopGrace.isNegative()) {
      throw new IllegalArgumentException(
          "stopGrace of backend '" + name + "' must not be negative, was " + stopGrace);
    }
  }

  /** A spec with the default limits, stderr tail and stop grace, in the gateway's directory. */
  public static ProcessSpec of(String name, List<String> command, Map<String, String> environment) {
    return new ProcessSpec(
        name,
        command,
        environment,
        null,
        FrameLimits.defaults(),
        DEFAULT_STDERR_TAIL_BYTES,
        DEFAULT_STOP_GRACE);
  }

  /** A copy with another working directory (null for the gateway's own). */
  public ProcessSpec withWorkingDirectory(@Nullable Path directory) {
    return new ProcessSpec(name, command, environment, directory, limits, stderrTailBytes, stopGrace);
  }

  /** A copy with other message limits. */
  public ProcessSpec withLimits(FrameLimits newLimits) {
    return new ProcessSpec(name, command, environment, workingDirectory, newLimits, stderrTailBytes, stopGrace);
  }

  /** A copy with another stderr tail size. */
  public ProcessSpec withStderrTailBytes(int bytes) {
    return new ProcessSpec(name, command, environment, workingDirectory, limits, bytes, stopGrace);
  }

  /** A copy with another stop grace. */
  public ProcessSpec withStopGrace(Duration grace) {
    return new ProcessSpec(name, command, environment, workingDirectory, limits, stderrTailBytes, grace);
  }
}
