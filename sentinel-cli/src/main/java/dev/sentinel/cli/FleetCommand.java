package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.operator.FleetOperations;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.operator.Times;
import dev.sentinel.jdbc.JdbcStores;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel fleet status}: the gateways that follow a channel of the database, what each
 * runs against its channel's head, and which stopped reporting. The same operation as the admin
 * API's {@code GET /admin/api/fleet}, from sentinel-core's operator service. Not thread-safe.
 */
@Command(
    name = "fleet",
    mixinStandardHelpOptions = true,
    description = {"Show the gateways that follow a bundle channel: desired against running.",
        "Works on the fleet's database: --config FILE or --db URL."})
public final class FleetCommand implements Runnable {
  private final Map<String, String> environment;
  private final Clock clock;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  /**
   * A fleet command.
   *
   * @param environment the variables that {@code ${env:...}} in config files and {@value
   *     DatabaseOptions#PASSWORD_VARIABLE} read
   */
  public FleetCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    this.clock = Clock.system();
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: status");
  }

  /** Lists the fleet. */
  @Command(name = "status", mixinStandardHelpOptions = true,
      description = {"List each gateway's last heartbeat: channel, instance, host, version, the"
          + " bundle it runs against its channel's head, and its last apply error.",
          "State: in-sync, drift (runs another bundle than the head), stale (no heartbeat for"
              + " --stale-after). Exit code 0, or 1 when any gateway is not in sync."})
  int status(
      @Option(names = "--stale-after", paramLabel = "DURATION", defaultValue = "1m",
          description = "how long without a heartbeat makes a gateway stale (default: 1m)")
          String staleAfter,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "status");
    Duration stale = Operator.call(line, () -> Times.duration("--stale-after", staleAfter));
    List<FleetOperations.Member> members;
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      FleetOperations fleet = Operations.builder().stores(stores).clock(clock).build().fleet();
      members = Operator.call(line, () -> fleet.status(stale));
    }
    PrintWriter out = line.getOut();
    if (members.isEmpty()) {
      out.println("No gateway has reported: gateways report once they follow a channel"
          + " (bundle: { source: database, channel: ... }).");
      out.flush();
      return 0;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"CHANNEL", "INSTANCE", "HOST", "VERSION", "STATE", "RUNNING",
        "DESIRED", "SEEN", "LAST ERROR"});
    boolean allInSync = true;
    for (FleetOperations.Member member : members) {
      Heartbeat beat = member.heartbeat();
      allInSync &= member.state() == FleetOperations.State.IN_SYNC;
      rows.add(new String[] {beat.channel() == null ? "(file)" : beat.channel(), beat.instance(), beat.host(), beat.version(),
          member.state().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
          shortDigest(beat.digest()) + " (" + beat.sequence() + ")",
          member.desired().map(d -> shortDigest(d.digest()) + " (" + d.sequence() + ")")
              .orElse("none"),
          Times.format(beat.seenAt()),
          beat.lastError() == null ? "-" : oneLine(beat.lastError())});
    }
    print(out, rows);
    out.flush();
    return allInSync ? 0 : Main.FAILED;
  }

  private static String shortDigest(String digest) {
    return digest.startsWith("sha256:") && digest.length() > 19 ? digest.substring(0, 19) : digest;
  }

  private static String oneLine(String text) {
    return text.replaceAll("\\s+", " ");
  }

  private static void print(PrintWriter out, List<String[]> rows) {
    int columns = rows.get(0).length;
    int[] widths = new int[columns];
    for (String[] row : rows) {
      for (int i = 0; i < columns - 1; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        text.append(i == columns - 1 ? row[i] : String.format("%-" + widths[i] + "s  ", row[i]));
      }
      out.println(text.toString().stripTrailing());
    }
  }
}
