package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.Backend;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.operator.KillSwitchControl;
import dev.sentinel.operator.KillSwitchOperations;
import dev.sentinel.operator.KillSwitchOperations.Scope;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.jdbc.JdbcStores;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel killswitch status|disable|enable}: the operators' kill switch in a gateway's
 * database, which every gateway on it follows (at once on PostgreSQL, within {@code
 * database.sync_interval} on SQLite). The same operations as the admin API's {@code
 * /admin/api/killswitch}, from sentinel-core's operator service; a change is one atomic update of
 * the stored state, so that it never undoes another operator's. Not thread-safe.
 */
@Command(
    name = "killswitch",
    mixinStandardHelpOptions = true,
    description = {"Switch off (and on) everything, a backend, tools or a principal.",
        "Works on a gateway's database: --config FILE or --db URL. Every gateway on the database "
        + "follows: at once on PostgreSQL, within database.sync_interval on SQLite."})
public final class KillSwitchCommand implements Runnable {
  private final Map<String, String> environment;
  private final PolicyOptions policyOptions;
  private final Clock clock;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  /**
   * A kill-switch command.
   *
   * @param environment the variables that {@code ${env:...}} in config files and
   *     {@value DatabaseOptions#PASSWORD_VARIABLE} read
   * @param policyOptions how a {@code --config} file's policy is compiled
   */
  public KillSwitchCommand(Map<String, String> environment, PolicyOptions policyOptions) {
    this.environment = Map.copyOf(environment);
    this.policyOptions = policyOptions;
    this.clock = Clock.system();
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: status, disable or enable");
  }

  /** What a change applies to: exactly one. A picocli argument group. */
  static final class Target {
    @Option(names = "--all", required = true, description = "every request")
    boolean all;

    @Option(names = "--backend", required = true, paramLabel = "NAME",
        description = "every request to this backend")
    @Nullable String backend;

    @Option(names = "--tool", required = true, paramLabel = "GLOB",
        description = "calls of the tools matching this glob (fs__write*)")
    @Nullable String tool;

    @Option(names = "--principal", required = true, paramLabel = "ID",
        description = "every request of this principal")
    @Nullable String principal;

    Scope scope() {
      return all ? Scope.ALL : backend != null ? Scope.BACKEND : tool != null ? Scope.TOOL
          : Scope.PRINCIPAL;
    }

    @Nullable String name() {
      return all ? null : backend != null ? backend : tool != null ? tool : principal;
    }
  }

  /** Prints what is switched off, and by whom (the config or operators). */
  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show what is switched off: the config's entries and the operators'.")
  int status(@Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "status");
    return withKillSwitch(line, database, (killSwitch, stores) -> {
      print(line.getOut(), stores, killSwitch.operatorState(), killSwitch.state());
      return 0;
    });
  }

  /** Switches something off, with a reason. */
  @Command(name = "disable", mixinStandardHelpOptions = true,
      description = {"Switch something off; callers get the reason, and the audit trail records "
          + "it.", "Exactly one of --all, --backend, --tool, --principal."})
  int disable(
      @ArgGroup(exclusive = true, multiplicity = "1") Target target,
      @Option(names = "--reason", required = true, paramLabel = "TEXT",
          description = "why: shown to refused callers and recorded") String reason,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "disable");
    return withKillSwitch(line, database, (killSwitch, stores) -> {
      KillSwitch.State now = Operator.call(line,
          () -> killSwitch.disable(target.scope(), target.name(), reason));
      line.getOut().println("Switched off " + describe(target) + " in " + stores.description()
          + ".");
      print(line.getOut(), stores, killSwitch.operatorState(), now);
      return 0;
    });
  }

  /** Switches something back on. */
  @Command(name = "enable", mixinStandardHelpOptions = true,
      description = {"Switch something back on (the config's own entries stay off: edit the "
          + "config for those).", "Exactly one of --all, --backend, --tool, --principal."})
  int enable(
      @ArgGroup(exclusive = true, multiplicity = "1") Target target,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "enable");
    return withKillSwitch(line, database, (killSwitch, stores) -> {
      KillSwitch.State now = Operator.call(line,
          () -> killSwitch.enable(target.scope(), target.name()));
      line.getOut().println("Switched on " + describe(target) + " in " + stores.description()
          + ".");
      print(line.getOut(), stores, killSwitch.operatorState(), now);
      return 0;
    });
  }

  /** A step that needs the kill switch and the stores it lives in. */
  @FunctionalInterface
  private interface Step {
    int run(KillSwitchOperations killSwitch, JdbcStores stores);
  }

  private int withKillSwitch(CommandLine line, DatabaseOptions database, Step step) {
    // With --config, the config's own entries are shown and its backends checked.
    KillSwitch.State configured = KillSwitch.State.EMPTY;
    Set<String> backends = Set.of();
    if (database.config != null) {
      GatewayConfig config = GatewayConfig.load(database.config, environment, policyOptions);
      configured = config.killSwitch();
      Set<String> names = new LinkedHashSet<>();
      for (Backend backend : config.backends()) {
        names.add(backend.name());
      }
      backends = names;
    }
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      KillSwitchControl control = KillSwitchControl.of(
          stores.killSwitchStore().orElseThrow(), configured, backends);
      KillSwitchOperations killSwitch =
          Operations.builder().killSwitch(control).clock(clock).build().killSwitch();
      int code = step.run(killSwitch, stores);
      line.getOut().flush();
      return code;
    }
  }

  private static String describe(Target target) {
    return target.all ? "everything" : target.scope().label() + " '" + target.name() + "'";
  }

  /** The state in force, one line per entry, with where it comes from. */
  private static void print(PrintWriter out, JdbcStores stores, KillSwitch.State operators,
      KillSwitch.State effective) {
    List<String[]> rows = new ArrayList<>();
    if (effective.all() != null) {
      rows.add(new String[] {"all", "*", source(operators.all() != null
          && operators.all().equals(effective.all())), effective.all()});
    }
    add(rows, "backend", effective.backends(), operators.backends());
    add(rows, "tool", effective.tools(), operators.tools());
    add(rows, "principal", effective.principals(), operators.principals());
    if (rows.isEmpty()) {
      out.println("Nothing is switched off in " + stores.description() + ".");
      return;
    }
    rows.add(0, new String[] {"SCOPE", "TARGET", "BY", "REASON"});
    out.print(Columns.render(rows));
  }

  private static void add(List<String[]> rows, String scope, Map<String, String> effective,
      Map<String, String> operators) {
    effective.forEach((target, reason) -> rows.add(new String[] {scope, target,
        source(reason.equals(operators.get(target))), reason}));
  }

  private static String source(boolean operator) {
    return operator ? "operator" : "config";
  }
}
