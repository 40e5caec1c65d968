package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.bundle.Rollout;
import dev.sentinel.core.operator.Times;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.operator.Operations;
import dev.sentinel.operator.RolloutOperations;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel rollout start|status|promote|abort}: a bundle staged on a channel, applied by
 * canary gateways first, then promoted to the channel's head or aborted (docs/bundles.md). The
 * same operations as the admin API's {@code /admin/api/rollouts}, from sentinel-operator's
 * {@link RolloutOperations}. Not thread-safe.
 */
@Command(
    name = "rollout",
    mixinStandardHelpOptions = true,
    description = {"Roll a staged bundle out to canary gateways, compare, then promote or abort.",
        "Works on the fleet's database: --config FILE or --db URL."})
public final class RolloutCommand implements Runnable {
  private final Map<String, String> environment;
  private final Clock clock;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  /**
   * A rollout command.
   *
   * @param environment the variables that {@code ${env:...}} in config files and {@value
   *     DatabaseOptions#PASSWORD_VARIABLE} read, and the default actor ({@code USER})
   */
  public RolloutCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    this.clock = Clock.system();
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: start, status, promote or abort");
  }

  /** Starts a rollout. */
  @Command(name = "start", mixinStandardHelpOptions = true,
      description = {"Start a rollout: the canaries apply the bundle (published on the channel"
          + " with bundle publish --staged), the other gateways keep the channel's head.",
          "Each gateway verifies the bundle against its own trust roots as always."})
  int start(
      @Option(names = "--channel", required = true, paramLabel = "NAME") String channel,
      @Option(names = "--bundle", required = true, paramLabel = "DIGEST",
          description = "the bundle's digest (sha256:...), as bundle inspect prints it")
          String digest,
      @Option(names = "--canary", paramLabel = "N|N%",
          description = "how many live gateways become canaries: a count, or a percentage")
          String canary,
      @Option(names = "--canary-instance", paramLabel = "INSTANCE",
          description = "a canary by instance, as fleet status lists it (repeatable)")
          List<String> instances,
      @Option(names = "--abort-on-error-rate", paramLabel = "RATE",
          description = "abort automatically when the canaries' error rate passes this (0.05)")
          Double rate,
      @Option(names = "--stale-after", paramLabel = "DURATION", defaultValue = "1m",
          description = "a gateway silent this long is not live (default: 1m)") String staleAfter,
      @Option(names = "--by", paramLabel = "NAME", description = "who (default: $USER)") String by,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "start");
    Duration stale = Operator.call(line, () -> Times.duration("--stale-after", staleAfter));
    RolloutOperations.Start start = new RolloutOperations.Start(channel, digest, canary,
        instances == null ? List.of() : instances, rate, stale);
    Rollout rollout = withRollouts(line, database, r -> r.start(start, who(by)));
    PrintWriter out = line.getOut();
    out.println("started " + rollout.describe() + ": canaries " + String.join(", ",
        rollout.canaries()) + (rollout.abortOnErrorRate() == null ? ""
        : "; aborts when their error rate passes " + rollout.abortOnErrorRate()));
    out.flush();
    return 0;
  }

  /** Shows the channel's rollout. */
  @Command(name = "status", mixinStandardHelpOptions = true,
      description = {"Show the channel's latest rollout: its state, and the canaries' error and"
          + " denial rates since it started against the other gateways'.",
          "Exit code 0, or 1 when a canary's error rate is above the rest's."})
  int status(
      @Option(names = "--channel", required = true, paramLabel = "NAME") String channel,
      @Option(names = "--stale-after", paramLabel = "DURATION", defaultValue = "1m",
          description = "a gateway silent this long shows as stale (default: 1m)")
          String staleAfter,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "status");
    Duration stale = Operator.call(line, () -> Times.duration("--stale-after", staleAfter));
    RolloutOperations.Status status = withRollouts(line, database, r -> r.status(channel, stale));
    Rollout rollout = status.rollout();
    PrintWriter out = line.getOut();
    out.println(rollout.describe() + ": " + rollout.state().name().toLowerCase(Locale.ROOT)
        + " (started " + Times.format(rollout.startedAt()) + " by " + rollout.startedBy()
        + (rollout.endedAt() == null ? "" : "; " + rollout.state().name().toLowerCase(Locale.ROOT)
            + " " + Times.format(rollout.endedAt()) + " by " + rollout.endedBy())
        + (rollout.reason() == null ? "" : ": " + rollout.reason()) + ")");
    out.println(rates("canaries", status.canaries()));
    out.println(rates("rest", status.rest()));
    for (RolloutOperations.Member member : status.members()) {
      out.println("  " + (member.canary() ? "canary " : "rest   ") + member.heartbeat().instance()
          + "  " + member.heartbeat().digest() + " (" + member.heartbeat().sequence() + ")"
          + (member.applied() ? "" : "  not applied") + (member.stale() ? "  stale" : ""));
    }
    out.flush();
    return status.canaries().errorRate() > status.rest().errorRate() ? Main.FAILED : 0;
  }

  /** Promotes the channel's rollout. */
  @Command(name = "promote", mixinStandardHelpOptions = true,
      description = "Make the rollout's bundle the channel's head: every gateway applies it.")
  int promote(
      @Option(names = "--channel", required = true, paramLabel = "NAME") String channel,
      @Option(names = "--by", paramLabel = "NAME", description = "who (default: $USER)") String by,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "promote");
    Rollout rollout = withRollouts(line, database, r -> r.promote(channel, who(by)));
    line.getOut().println("promoted " + rollout.describe() + ": it is the channel's head");
    line.getOut().flush();
    return 0;
  }

  /** Aborts the channel's rollout. */
  @Command(name = "abort", mixinStandardHelpOptions = true,
      description = "Abort the rollout: the canaries go back to the bundle they ran before.")
  int abort(
      @Option(names = "--channel", required = true, paramLabel = "NAME") String channel,
      @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the record")
          String reason,
      @Option(names = "--by", paramLabel = "NAME", description = "who (default: $USER)") String by,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "abort");
    Rollout rollout = withRollouts(line, database, r -> r.abort(channel, who(by), reason));
    line.getOut().println("aborted " + rollout.describe() + ": the canaries go back to "
        + (rollout.previousDigest() == null ? "the channel's head" : rollout.previousDigest()));
    line.getOut().flush();
    return 0;
  }

  private <T> T withRollouts(CommandLine line, DatabaseOptions database,
      Function<RolloutOperations, T> operation) {
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      RolloutOperations rollouts =
          Operations.builder().stores(stores).clock(clock).build().rollouts();
      return Operator.call(line, () -> operation.apply(rollouts));
    }
  }

  private static String rates(String group, RolloutOperations.Rates rates) {
    return String.format(Locale.ROOT, "%-9s %d gateways, %d calls, error rate %.4f (%d),"
        + " denial rate %.4f (%d)", group, rates.instances(), rates.counters().calls(),
        rates.errorRate(), rates.counters().errors(), rates.denialRate(),
        rates.counters().denied());
  }

  private String who(String by) {
    if (by != null && !by.isBlank()) {
      return by;
    }
    String user = environment.get("USER");
    return user == null || user.isBlank() ? "operator" : user;
  }
}
