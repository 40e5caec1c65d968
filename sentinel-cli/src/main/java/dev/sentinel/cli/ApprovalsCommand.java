package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.approval.Approval;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.operator.ApprovalOperations;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.operator.Times;
import dev.sentinel.jdbc.JdbcStores;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel approvals list|show|approve|deny}: the queue of calls that {@code confirm}
 * rules hold for operators, in a gateway's database. The same operations as the admin API's
 * {@code /admin/api/approvals}, from sentinel-core's operator service: four eyes (the approver is
 * never the caller), a rule's quorum, expiry, and one use per approval. Not thread-safe.
 */
@Command(
    name = "approvals",
    mixinStandardHelpOptions = true,
    description = {"List, show, approve or deny the calls that confirm rules hold.",
        "Works on a gateway's database: --config FILE or --db URL. An approved call runs once, "
        + "when the caller makes it again (or at once if it is still waiting)."})
public final class ApprovalsCommand implements Runnable {
  private final Map<String, String> environment;
  private final Clock clock;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  /**
   * An approvals command.
   *
   * @param environment the variables that {@code ${env:...}} in config files and
   *     {@value DatabaseOptions#PASSWORD_VARIABLE} read
   */
  public ApprovalsCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    this.clock = Clock.system();
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: list, show, approve or deny");
  }

  /** Lists the pending approvals (or all), newest first. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List the pending approvals, newest first (--all: every approval).")
  int list(
      @Option(names = "--all", description = "also decided, used and expired ones") boolean all,
      @Option(names = "--limit", paramLabel = "N", defaultValue = "50",
          description = "at most N (default ${DEFAULT-VALUE})") int limit,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "list");
    return with(line, database, (approvals, stores) -> {
      List<Approval> found = Operator.call(line, () -> approvals.list(all, limit));
      PrintWriter out = line.getOut();
      if (found.isEmpty()) {
        out.println("(no " + (all ? "" : "pending ") + "approvals in " + stores.description()
            + ")");
      } else {
        out.print(table(found, clock.instant()));
      }
      return 0;
    });
  }

  /** Shows one approval whole, with the redacted arguments. */
  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "Show one approval: the call, its redacted arguments, the rule and votes.")
  int show(@Parameters(paramLabel = "ID") String id, @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "show");
    return with(line, database, (approvals, stores) -> {
      Approval a = approvals.show(id);
      PrintWriter out = line.getOut();
      Instant now = clock.instant();
      out.println("approval   " + a.id() + " (" + ApprovalOperations.label(a.status(now)) + ")");
      out.println("caller     " + a.principal());
      out.println("call       " + a.method() + " " + a.name()
          + (a.backend() == null ? "" : " on backend " + a.backend()));
      out.println("arguments  " + a.arguments());
      out.println("rule       " + a.rule() + (a.reason().isEmpty() ? "" : ": " + a.reason()));
      out.println("approvals  " + a.approvers().size() + " of " + a.quorum()
          + (a.approvers().isEmpty() ? "" : " (" + String.join(", ", a.approvers()) + ")"));
      if (a.decidedBy() != null) {
        out.println("denied by  " + a.decidedBy()
            + (a.note() == null || a.note().isEmpty() ? "" : ": " + a.note()));
      }
      out.println("created    " + Times.format(a.created()));
      out.println("expires    " + Times.format(a.expires()));
      if (a.used() != null) {
        out.println("used       " + Times.format(a.used()));
      }
      out.println("digest     " + a.digest());
      out.println("revision   " + a.revision());
      return 0;
    });
  }

  /** Approves, as another principal than the caller. */
  @Command(name = "approve", mixinStandardHelpOptions = true,
      description = {"Approve a held call, as --as (never the caller).",
          "Once the rule's quorum approved, the identical call runs once."})
  int approve(
      @Parameters(paramLabel = "ID") String id,
      @Option(names = "--as", required = true, paramLabel = "PRINCIPAL",
          description = "who approves: recorded, and never the caller") String approver,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "approve");
    return with(line, database, (approvals, stores) -> {
      Approval a = Operator.call(line, () -> approvals.approve(id, approver));
      line.getOut().println(a.status() == Approval.Status.APPROVED
          ? "Approved " + a.id() + ": " + a.principal() + "'s " + a.name()
              + " may run once, until " + Times.format(a.expires()) + "."
          : "Recorded " + approver + "'s approval of " + a.id() + ": "
              + (a.quorum() - a.approvers().size()) + " more needed.");
      return 0;
    });
  }

  /** Denies, with a reason the caller is shown. */
  @Command(name = "deny", mixinStandardHelpOptions = true,
      description = "Deny a held call; the caller is refused with the reason.")
  int deny(
      @Parameters(paramLabel = "ID") String id,
      @Option(names = "--as", required = true, paramLabel = "PRINCIPAL",
          description = "who denies: recorded") String approver,
      @Option(names = "--reason", paramLabel = "TEXT", description = "why, for the caller")
          String reason,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "deny");
    return with(line, database, (approvals, stores) -> {
      Approval a = Operator.call(line, () -> approvals.deny(id, approver, reason));
      line.getOut().println("Denied " + a.id() + " (" + a.principal() + "'s " + a.name() + ").");
      return 0;
    });
  }

  /** A step on the approvals of the database. */
  @FunctionalInterface
  private interface Step {
    int run(ApprovalOperations approvals, JdbcStores stores);
  }

  private int with(CommandLine line, DatabaseOptions database, Step step) {
    try (JdbcStores stores = database.open(line, environment, clock, true);
        Notifier notifier = database.notifier(environment)) {
      ApprovalOperations approvals = Operations.builder().stores(stores).notifier(notifier)
          .clock(clock).build().approvals();
      try {
        return step.run(approvals, stores);
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

  /** The approvals as a table, one line each. */
  static String table(List<Approval> approvals, Instant now) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "STATUS", "CALLER", "CALL", "RULE", "VOTES", "EXPIRES"});
    for (Approval a : approvals) {
      rows.add(new String[] {a.id(), ApprovalOperations.label(a.status(now)), a.principal(),
          a.name(), a.rule(), a.approvers().size() + "/" + a.quorum(), Times.format(a.expires())});
    }
    return Columns.render(rows);
  }
}
