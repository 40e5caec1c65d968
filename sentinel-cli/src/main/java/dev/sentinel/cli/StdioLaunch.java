package dev.sentinel.cli;

import dev.sentinel.core.policy.PolicyOptions;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * {@code sentinel stdio} started without picocli: the command line an MCP client runs at each
 * launch, where building picocli's model of every command (by reflection over some 180 classes
 * that the class-data-sharing archive cannot hold, picocli's being Java 5 class files) was most
 * of the time to the {@code initialize} answer (BENCHMARKS.md, "Start-up with the CDS archive").
 *
 * <p>It reads only the command lines it is sure of, the same way picocli would: the command word
 * {@code stdio}, {@code -c FILE}, {@code --config FILE} or {@code --config=FILE} once,
 * {@code --no-watch}, {@code --allow-rollback}, {@code --debug}, and {@code --log-level LEVEL}
 * (or {@code =LEVEL}) with a known level, before or after the command word, each at most once.
 * Any other command line (help, a version request, a missing or repeated option, an unknown word,
 * an {@code @file} argument) is left to picocli, which reports usage errors as for every
 * command. A failure while serving is reported as picocli's handler in {@link Main} reports it.
 * Stateless.
 */
final class StdioLaunch {
  private StdioLaunch() {}

  /** The options of one recognised command line. */
  record Parsed(Path config, boolean watch, boolean allowRollback, boolean debug,
      @Nullable String logLevel) {}

  /**
   * Runs {@code sentinel stdio} when {@code args} is a command line this class reads, answering
   * its exit code; else null, and nothing has happened.
   */
  static @Nullable Integer run(String[] args, Map<String, String> environment, PolicyOptions policyOptions) {
    Parsed parsed = parse(args);
    if (parsed == null) {
      return null;
    }
    String logLevel = parsed.logLevel();
    if (logLevel != null) {
      Start.applyLogLevel(logLevel);
    }
    StartWarmUp.start();
    PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, stderrCharset()), true);
    try {
      return new StdioCommand(environment, policyOptions, parsed.config(), parsed.watch(),
          parsed.allowRollback()).call(err);
    } catch (RuntimeException e) {
      return Start.reportFailure(e, err, parsed.debug());
    }
  }

  /** The options of a command line this class reads, or null for any other. */
  static @Nullable Parsed parse(String[] args) {
    boolean command = false;
    String config = null;
    boolean noWatch = false;
    boolean allowRollback = false;
    boolean debug = false;
    String logLevel = null;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.startsWith("@")) {
        return null; // picocli reads argument files
      }
      String value = null;
      String name = arg;
      int equals = arg.indexOf('=');
      if (arg.startsWith("--") && equals > 0) {
        name = arg.substring(0, equals);
        value = arg.substring(equals + 1);
      }
      switch (name) {
        case "stdio":
          if (command) {
            return null;
          }
          command = true;
          continue;
        case "-c":
        case "--config":
          if (config != null || !command) {
            return null;
          }
          if (value == null) {
            value = next(args, ++i);
          }
          if (value == null || value.startsWith("@")) {
            return null;
          }
          config = value;
          continue;
        case "--log-level":
          if (logLevel != null) {
            return null;
          }
          if (value == null) {
            value = next(args, ++i);
          }
          if (value == null || !Start.LEVELS.contains(value.toLowerCase(java.util.Locale.ROOT))) {
            return null;
          }
          logLevel = value;
          continue;
        default:
          break;
      }
      if (value != null) {
        return null; // --no-watch=true and the like: picocli's to judge
      }
      switch (arg) {
        case "--no-watch":
          if (noWatch || !command) {
            return null;
          }
          noWatch = true;
          break;
        case "--allow-rollback":
          if (allowRollback || !command) {
            return null;
          }
          allowRollback = true;
          break;
        case "--debug":
          if (debug) {
            return null;
          }
          debug = true;
          break;
        default:
          return null;
      }
    }
    if (!command || config == null) {
      return null;
    }
    Path path;
    try {
      path = Path.of(config);
    } catch (InvalidPathException e) {
      return null;
    }
    return new Parsed(path, !noWatch, allowRollback, debug, logLevel);
  }

  /** The value after an option: the next argument unless there is none or it is an option. */
  private static @Nullable String next(String[] args, int i) {
    return i < args.length && !args[i].startsWith("-") ? args[i] : null;
  }

  /** The charset picocli writes stderr in: the console's when stderr is one, else the default. */
  private static Charset stderrCharset() {
    String name = System.getProperty("sun.stderr.encoding");
    try {
      return name == null ? Charset.defaultCharset() : Charset.forName(name);
    } catch (RuntimeException e) {
      return Charset.defaultCharset();
    }
  }
}
