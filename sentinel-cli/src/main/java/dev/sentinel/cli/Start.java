package dev.sentinel.cli;

import dev.sentinel.core.policy.ConditionLanguage;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.policy.cel.CelConditionLanguage;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/**
 * The entry point {@code bin/sentinel} runs with the class-data-sharing archive: {@code sentinel
 * stdio} ({@link StdioLaunch}) without loading picocli, whose classes the archive cannot hold
 * (they are Java 5 class files) and which {@link Main} needs loaded before it runs (about 25 ms
 * of the start to the first {@code initialize} answer); every other command line goes to {@link
 * Main}. Also what both share without picocli: the policy options, the log levels, the one-line
 * failure report. Stateless.
 */
public final class Start {
  /**
   * How every command that loads a policy compiles it: with CEL conditions ({@code when_cel},
   * from sentinel-policy-cel), loaded when a policy first uses them, so that a start does not
   * wait for CEL's classes.
   */
  static final PolicyOptions POLICY_OPTIONS = PolicyOptions.builder()
      .language(ConditionLanguage.deferred(CelConditionLanguage.KEY, CelConditionLanguage::create))
      .build();

  /** The levels {@code --log-level} takes, as slf4j-simple names them. */
  static final List<String> LEVELS = List.of("error", "warn", "info", "debug", "trace", "off");
  /** Libraries whose INFO lines are noise to an operator: WARN and above unless asked. */
  private static final List<String> QUIET_LIBRARIES = List.of("org.eclipse.jetty", "com.zaxxer.hikari");

  private Start() {}

  /** Runs the command line and exits with its code, as {@link Main#main} does. */
  public static void main(String[] args) {
    Integer stdio = StdioLaunch.run(args, System.getenv(), POLICY_OPTIONS);
    if (stdio != null) {
      System.exit(stdio);
    }
    Main.main(args);
  }

  /**
   * Sets the log level {@code level}, one of {@link #LEVELS} in any case, as {@code --log-level}
   * says: Sentinel's loggers at {@code level}; Jetty's and HikariCP's stay at WARN for {@code
   * info} and follow any other level.
   */
  static void applyLogLevel(String level) {
    String wanted = level.toLowerCase(Locale.ROOT);
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", wanted);
    for (String library : QUIET_LIBRARIES) {
      System.setProperty("org.slf4j.simpleLogger.log." + library,
          wanted.equals("info") ? "warn" : wanted);
    }
  }

  /**
   * Reports what a command threw: one line a person can act on, and the stack trace with
   * {@code --debug} (for whoever debugs Sentinel itself); answers {@link Main#FAILED}.
   */
  static int reportFailure(Throwable e, PrintWriter err, boolean debug) {
    err.println(Failures.describe(e));
    if (debug) {
      e.printStackTrace(err);
    }
    err.flush();
    return Main.FAILED;
  }
}
