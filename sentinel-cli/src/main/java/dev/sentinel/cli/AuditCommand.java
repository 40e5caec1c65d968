package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Outcome;
import dev.sentinel.jdbc.AuditFormat;
import dev.sentinel.jdbc.AuditQuery;
import dev.sentinel.jdbc.AuditRetention;
import dev.sentinel.jdbc.AuditVerifier;
import dev.sentinel.jdbc.AuditWriter;
import dev.sentinel.jdbc.JdbcStores;
import dev.sentinel.jdbc.VerifyReport;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel audit verify|query|export|purge}: the audit trail in a gateway's database. See
 * {@code docs/audit.md} for the hash chain that {@code verify} checks. Not thread-safe.
 */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = {"Verify, query, export or purge the audit trail.",
        "Works on a gateway's database: --config FILE or --db URL."})
public final class AuditCommand implements Runnable {
  /** How often (in records) the export progress line is updated. */
  static final int PROGRESS_EVERY = 10_000;

  private final Map<String, String> environment;
  private final Clock clock;

  @Spec private CommandSpec spec;

  /**
   * An audit command on the system clock.
   *
   * @param environment the variables that {@code ${env:...}} in config files and
   *     {@value DatabaseOptions#PASSWORD_VARIABLE} read
   */
  public AuditCommand(Map<String, String> environment) {
    this(environment, Clock.system());
  }

  /** An audit command on the given clock ({@code --older-than}, relative times). */
  AuditCommand(Map<String, String> environment, Clock clock) {
    this.environment = Map.copyOf(environment);
    this.clock = clock;
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: verify, query, export or purge");
  }

  /** The filters of {@code query} and {@code export}. A picocli mixin. */
  static final class Filters {
    @Option(names = "--from", paramLabel = "WHEN",
        description = "records at or after: a time (2026-03-01, 2026-03-01T12:00:00Z) or a "
            + "duration ago (24h, 7d)")
    String from;

    @Option(names = "--to", paramLabel = "WHEN", description = "records before: as --from")
    String to;

    @Option(names = "--principal", paramLabel = "ID", description = "only this principal")
    String principal;

    @Option(names = "--tool", paramLabel = "NAME",
        description = "only this tool, prompt or resource (as clients see it, such as fs__read)")
    String tool;

    @Option(names = "--outcome", paramLabel = "OUTCOME",
        description = "only this outcome: allowed, denied, limited, failed, unauthenticated, "
            + "pending, ...")
    String outcome;

    @Option(names = "--rule", paramLabel = "ID",
        description = "only records this policy rule or limit decided")
    String rule;

    @Option(names = "--limit", paramLabel = "N", description = "at most N records")
    Long limit;

    @Option(names = "--newest-first", description = "newest records first (default oldest)")
    boolean newestFirst;

    AuditQuery query(CommandLine line, Instant now) {
      AuditQuery.Builder b = AuditQuery.builder();
      try {
        if (from != null) {
          b.from(Times.instantOrAgo("--from", from, now));
        }
        if (to != null) {
          b.to(Times.instantOrAgo("--to", to, now));
        }
        if (limit != null) {
          if (limit <= 0) {
            throw new IllegalArgumentException("--limit must be positive, got " + limit);
          }
          b.limit(limit);
        }
        if (outcome != null) {
          b.outcome(outcome(outcome));
        }
        return b.principal(principal).tool(tool).rule(rule)
            .order(newestFirst ? AuditQuery.Order.NEWEST_FIRST : AuditQuery.Order.OLDEST_FIRST)
            .build();
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(line, e.getMessage());
      }
    }

    private static Outcome outcome(String text) {
      List<String> names = new ArrayList<>();
      for (Outcome o : Outcome.values()) {
        if (o.name().equalsIgnoreCase(text.strip().replace('-', '_'))) {
          return o;
        }
        names.add(o.name().toLowerCase(Locale.ROOT));
      }
      throw new IllegalArgumentException("--outcome: unknown outcome '" + text + "' (expected one"
          + " of " + String.join(", ", names) + ")");
    }
  }

  /** Checks the hash chain. */
  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = {"Check that no audit record was edited, removed, inserted or reordered.",
          "Exit code 0 when the trail is intact; 1 naming the first record that is not."})
  int verify(@Mixin DatabaseOptions database) {
    CommandLine line = spec.commandLine().getSubcommands().get("verify");
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      VerifyReport report = AuditVerifier.verify(stores.database());
      PrintWriter out = line.getOut();
      if (report.ok()) {
        out.println("OK: the audit trail in " + stores.description() + " is intact ("
            + Summary.plural(report.rowsChecked()) + " verified).");
        out.flush();
        return 0;
      }
      out.println("FAILED: the audit trail in " + stores.description()
          + " is not intact at record seq " + report.firstBadSeq().getAsLong() + ": "
          + report.problem());
      out.println("Records before seq " + report.firstBadSeq().getAsLong()
          + " verified; see docs/audit.md for what each problem means.");
      out.flush();
      return Main.FAILED;
    }
  }

  /** Prints matching records. */
  @Command(name = "query", mixinStandardHelpOptions = true,
      description = "Print the matching audit records (a table by default).")
  int query(
      @Mixin Filters filters,
      @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "table",
          description = "table, jsonl or csv (default ${DEFAULT-VALUE})") String format,
      @Mixin DatabaseOptions database) {
    CommandLine line = spec.commandLine().getSubcommands().get("query");
    AuditFormat chosen = format(line, format);
    AuditQuery query = filters.query(line, clock.instant());
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      PrintWriter out = line.getOut();
      AuditWriter writer = chosen.writer(out);
      query.forEach(stores.database(), writer::write);
      writer.finish();
      return 0;
    }
  }

  /** Writes matching records to a file or stdout. */
  @Command(name = "export", mixinStandardHelpOptions = true,
      description = {"Export the matching audit records (JSON Lines by default).",
          "Writes to a file or stdout, reading the records as a stream; a progress line goes",
          "to stderr when it is a terminal."})
  int export(
      @Mixin Filters filters,
      @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "jsonl",
          description = "jsonl, csv or table (default ${DEFAULT-VALUE})") String format,
      @Option(names = {"-o", "--output"}, paramLabel = "FILE",
          description = "write here (replacing it) instead of stdout") Path output,
      @Option(names = "--progress", negatable = true,
          description = "show a progress line on stderr (default: when stderr is a terminal)")
          Boolean progress,
      @Mixin DatabaseOptions database) {
    CommandLine line = spec.commandLine().getSubcommands().get("export");
    AuditFormat chosen = format(line, format);
    AuditQuery query = filters.query(line, clock.instant());
    boolean showProgress = progress != null ? progress : System.console() != null;
    PrintWriter err = line.getErr();
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      long count;
      if (output == null) {
        count = export(stores, query, chosen, line.getOut(), showProgress ? err : null);
      } else {
        Path tmp = output.resolveSibling(output.getFileName() + ".part");
        try (OutputStream file = Files.newOutputStream(tmp);
            Writer writer = new OutputStreamWriter(file, StandardCharsets.UTF_8)) {
          count = export(stores, query, chosen, writer, showProgress ? err : null);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write " + tmp + ": " + e.getMessage(), e);
        }
        try {
          Files.move(tmp, output, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write " + output + ": " + e.getMessage(), e);
        }
      }
      if (output != null || showProgress) {
        err.println("Exported " + Summary.plural(count) + (output == null ? "" : " to " + output)
            + ".");
        err.flush();
      }
      return 0;
    }
  }

  private static long export(JdbcStores stores, AuditQuery query, AuditFormat format,
      Writer out, PrintWriter progress) {
    AuditWriter writer = format.writer(out);
    long[] count = {0};
    query.forEach(stores.database(), record -> {
      writer.write(record);
      count[0]++;
      if (progress != null && count[0] % PROGRESS_EVERY == 0) {
        progress.print("\rexporting: " + count[0] + " records");
        progress.flush();
      }
    });
    writer.finish();
    if (progress != null && count[0] >= PROGRESS_EVERY) {
      progress.print("\r");
      progress.flush();
    }
    return count[0];
  }

  /** Deletes the oldest records, keeping the rest verifiable. */
  @Command(name = "purge", mixinStandardHelpOptions = true,
      description = {"Delete the oldest audit records; what remains still verifies.",
          "Deletes a prefix of the chain and moves its base. Asks for --yes."})
  int purge(
      @Option(names = "--before", paramLabel = "WHEN",
          description = "delete records before this time (2026-01-01, ...)") String before,
      @Option(names = "--older-than", paramLabel = "AGE",
          description = "delete records older than this (30d, 12h)") String olderThan,
      @Option(names = "--yes", description = "really delete") boolean yes,
      @Mixin DatabaseOptions database) {
    CommandLine line = spec.commandLine().getSubcommands().get("purge");
    if ((before == null) == (olderThan == null)) {
      throw new CommandLine.ParameterException(line,
          "give either --before WHEN or --older-than AGE");
    }
    Instant now = clock.instant();
    Instant cut;
    if (olderThan != null) {
      Duration age = Times.duration(olderThan);
      if (age == null || age.isZero()) {
        throw new CommandLine.ParameterException(line, "--older-than: expected a positive "
            + "duration such as 30d, 12h or 90m, got '" + olderThan + "'");
      }
      cut = now.minus(age);
    } else {
      try {
        cut = Times.instant("--before", before);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(line, e.getMessage());
      }
    }
    if (!yes) {
      PrintWriter err = line.getErr();
      err.println("This deletes every audit record before " + Times.format(cut)
          + " (the oldest ones, as a prefix of the chain). Nothing was deleted; add --yes to "
          + "purge.");
      err.flush();
      return Main.FAILED;
    }
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      long deleted = AuditRetention.purge(stores.database(), cut);
      PrintWriter out = line.getOut();
      out.println("Purged " + Summary.plural(deleted) + " before " + Times.format(cut) + " from "
          + stores.description() + "; the rest still verifies (sentinel audit verify).");
      out.flush();
      return 0;
    }
  }

  private static AuditFormat format(CommandLine line, String text) {
    for (AuditFormat f : AuditFormat.values()) {
      if (f.name().equalsIgnoreCase(text.strip())) {
        return f;
      }
    }
    throw new CommandLine.ParameterException(line, "--format: unknown format '" + text
        + "' (expected table, jsonl or csv)");
  }
}
