package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.breakglass.BreakGlassWindow;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.NotifySettings;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.operator.BreakGlassOperations;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.operator.Times;
import dev.sentinel.core.policy.BreakGlassSettings;
import dev.sentinel.jdbc.JdbcStores;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel breakglass open|close|list|enroll}: emergency windows in a gateway's database,
 * in which a principal's calls are decided first by the policy's {@code break_glass:} rules and
 * tagged {@code break_glass}. The same operations as the admin API's {@code
 * /admin/api/breakglass}, from sentinel-core's operator service. Gateways on the database follow
 * within their {@code database.sync_interval}. Not thread-safe.
 */
@Command(
    name = "breakglass",
    mixinStandardHelpOptions = true,
    description = {"Open, close or list break-glass windows, and enrol a principal's TOTP secret.",
        "Works on a gateway's database: --config FILE (open needs it: its policy's break_glass:"
        + " section bounds the window) or --db URL."})
public final class BreakGlassCommand implements Runnable {
  private final Map<String, String> environment;
  private final Clock clock;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  /**
   * A breakglass command.
   *
   * @param environment the variables that {@code ${env:...}} in config files and
   *     {@value DatabaseOptions#PASSWORD_VARIABLE} read
   */
  public BreakGlassCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    this.clock = Clock.system();
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: open, close, list or enroll");
  }

  /** Opens a window for a principal. */
  @Command(name = "open", mixinStandardHelpOptions = true,
      description = {"Open a break-glass window for a principal (announced on notify:).",
          "Its calls are decided first by the policy's break_glass: rules, and tagged."})
  int open(
      @Option(names = "--principal", required = true, paramLabel = "ID",
          description = "whose calls the window covers") String principal,
      @Option(names = "--reason", required = true, paramLabel = "TEXT",
          description = "why: recorded and announced") String reason,
      @Option(names = "--ttl", paramLabel = "DURATION",
          description = "how long, such as 30m (default and most: the policy's max_ttl)")
          String ttl,
      @Option(names = "--as", paramLabel = "OPERATOR", defaultValue = "operator",
          description = "who opens it: recorded (default ${DEFAULT-VALUE})") String by,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "open");
    if (database.config == null) {
      throw new CommandLine.ParameterException(line, "opening a window needs the gateway's"
          + " config (--config FILE): its policy's break_glass: section says whether windows may"
          + " be opened and for how long");
    }
    return with(line, database, (ops, stores) -> {
      BreakGlassWindow w = Operator.call(line, () -> ops.open(principal, reason, ttl, by));
      line.getOut().println("Opened break-glass window " + w.id() + " for " + w.principal()
          + " until " + Times.format(w.expires()) + ". Close it early with 'sentinel breakglass"
          + " close " + w.id() + "'.");
      return 0;
    });
  }

  /** Closes a window early. */
  @Command(name = "close", mixinStandardHelpOptions = true,
      description = "Close a break-glass window before it expires (announced on notify:).")
  int close(
      @Parameters(paramLabel = "ID") String id,
      @Option(names = "--as", paramLabel = "OPERATOR", defaultValue = "operator",
          description = "who closes it: recorded (default ${DEFAULT-VALUE})") String by,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "close");
    return with(line, database, (ops, stores) -> {
      BreakGlassWindow w = Operator.call(line, () -> ops.close(id, by));
      line.getOut().println("Closed break-glass window " + w.id() + " for " + w.principal()
          + ".");
      return 0;
    });
  }

  /** Lists the open windows (or all), newest first. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List the open break-glass windows, newest first (--all: every window).")
  int list(
      @Option(names = "--all", description = "also closed and expired ones") boolean all,
      @Option(names = "--limit", paramLabel = "N", defaultValue = "50",
          description = "at most N (default ${DEFAULT-VALUE})") int limit,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "list");
    return with(line, database, (ops, stores) -> {
      List<BreakGlassWindow> found = Operator.call(line, () -> ops.list(all, limit));
      PrintWriter out = line.getOut();
      if (found.isEmpty()) {
        out.println("(no " + (all ? "" : "open ") + "break-glass windows in "
            + stores.description() + ")");
      } else {
        out.print(table(found, clock.instant()));
      }
      return 0;
    });
  }

  /** Creates a principal's TOTP secret and shows it once. */
  @Command(name = "enroll", mixinStandardHelpOptions = true,
      description = {"Create (or replace) a principal's TOTP secret and show it ONCE, as an"
          + " otpauth:// URI for an authenticator app.",
          "With it the principal opens its own window: POST /admin/api/breakglass/self with its"
          + " API key and a code."})
  int enroll(
      @Option(names = "--principal", required = true, paramLabel = "ID",
          description = "whose secret") String principal,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "enroll");
    return with(line, database, (ops, stores) -> {
      String uri = Operator.call(line, () -> ops.enroll(principal));
      PrintWriter out = line.getOut();
      out.println(uri);
      out.println("This is the only time the secret is shown: give it to " + principal.strip()
          + " for an authenticator app (scan it as a QR code or paste it), and keep no copy.");
      return 0;
    });
  }

  /** A step on the break-glass operations of the database. */
  @FunctionalInterface
  private interface Step {
    int run(BreakGlassOperations ops, JdbcStores stores);
  }

  private int with(CommandLine line, DatabaseOptions database, Step step) {
    GatewayConfig config = database.config == null ? null
        : GatewayConfig.load(database.config, environment, Main.POLICY_OPTIONS);
    NotifySettings notify = config == null ? NotifySettings.NONE : config.notifications();
    Optional<BreakGlassSettings> settings =
        config == null ? Optional.empty() : config.policy().breakGlass();
    try (JdbcStores stores = database.open(line, environment, clock, true);
        Notifier notifier = DatabaseOptions.notifier(notify)) {
      BreakGlassOperations ops = Operations.builder().stores(stores).notifier(notifier)
          .breakGlassSettings(() -> settings).clock(clock).build().breakGlass();
      try {
        return step.run(ops, stores);
      } catch (OperatorException e) {
        if (e.kind() == OperatorException.Kind.INVALID) {
          throw e;
        }
        line.getErr().println(e.getMessage());
        return Main.FAILED;
      } finally {
        line.getOut().flush();
        line.getErr().flush();
      }
    }
  }

  /** The windows as a table, one line each. */
  static String table(List<BreakGlassWindow> windows, Instant now) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "STATUS", "PRINCIPAL", "OPENED BY", "OPENED", "EXPIRES",
        "REASON"});
    for (BreakGlassWindow w : windows) {
      rows.add(new String[] {w.id(), w.status(now), w.principal(), w.openedBy(),
          Times.format(w.opened()), Times.format(w.expires()), w.reason()});
    }
    return Columns.render(rows);
  }
}
