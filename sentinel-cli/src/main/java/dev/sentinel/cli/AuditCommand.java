package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.operator.AuditFilter;
import dev.sentinel.operator.AuditOperations;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.operator.Times;
import dev.sentinel.jdbc.AuditAnchors;
import dev.sentinel.jdbc.AuditCheckpoint;
import dev.sentinel.jdbc.AuditCheckpoints;
import dev.sentinel.jdbc.AuditFormat;
import dev.sentinel.jdbc.AuditHead;
import dev.sentinel.jdbc.AuditRecord;
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
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel audit verify|head|checkpoint|query|export|purge}: the audit trail in a
 * gateway's database. See {@code docs/audit.md} for the hash chain that {@code verify} checks and
 * the anchors ({@code head}, checkpoints) that catch truncation. A thin adapter: the logic is
 * sentinel-jdbc's ({@link AuditVerifier}, {@link AuditCheckpoints}). Not thread-safe.
 */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = {"Verify, anchor, query, export or purge the audit trail.",
        "Works on a gateway's database: --config FILE or --db URL."})
public final class AuditCommand implements Runnable {
  /** How often (in records) the export progress line is updated. */
  static final int PROGRESS_EVERY = 10_000;

  private final Map<String, String> environment;
  private final Clock clock;

  @SuppressWarnings("NullAway.Init") // set by picocli
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
        "missing command: verify, head, checkpoint, query, export or purge");
  }

  /** The filters of {@code query} and {@code export}. A picocli mixin. */
  static final class Filters {
    @Option(names = "--from", paramLabel = "WHEN",
        description = "records at or after: a time (2026-03-01, 2026-03-01T12:00:00Z) or a "
            + "duration ago (24h, 7d)")
    @Nullable String from;

    @Option(names = "--to", paramLabel = "WHEN", description = "records before: as --from")
    @Nullable String to;

    @Option(names = "--principal", paramLabel = "ID", description = "only this principal")
    @Nullable String principal;

    @Option(names = "--tool", paramLabel = "NAME",
        description = "only this tool, prompt or resource (as clients see it, such as fs__read)")
    @Nullable String tool;

    @Option(names = "--outcome", paramLabel = "OUTCOME",
        description = "only this outcome: allowed, denied, limited, failed, unauthenticated, "
            + "pending, ...")
    @Nullable String outcome;

    @Option(names = "--rule", paramLabel = "ID",
        description = "only records this policy rule or limit decided")
    @Nullable String rule;

    @Option(names = "--limit", paramLabel = "N", description = "at most N records")
    @Nullable Long limit;

    @Option(names = "--newest-first", description = "newest records first (default oldest)")
    boolean newestFirst;

    AuditFilter filter(CommandLine line, AuditOperations audit) {
      return Operator.call(line, () -> {
        AuditFilter.Builder b = audit.filter()
            .from("--from", from)
            .to("--to", to)
            .principal(principal)
            .tool(tool)
            .outcome("--outcome", outcome)
            .rule(rule)
            .newestFirst(newestFirst);
        if (limit != null) {
          b.limit("--limit", limit);
        }
        return b.build();
      });
    }
  }

  /** Checks the hash chain, and that it holds the anchors given. */
  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = {"Check that no audit record was edited, removed, inserted or reordered.",
          "With --expect-head or --checkpoints, also that the chain still holds those anchors:",
          "a chain that ends before one was truncated, one with another hash there rewritten.",
          "Exit code 0 when the trail is intact; 1 naming the first record that is not."})
  int verify(
      @Option(names = "--expect-head", paramLabel = "HEAD",
          description = {"a head as 'sentinel audit head' printed it (<seq>:<hash>[@<time>]):",
              "the chain must still hold that record with that hash (it may have grown)"})
          String expectHead,
      @Option(names = "--checkpoints", paramLabel = "FILE",
          description = "signed checkpoints (the file audit.checkpoint writes); repeatable")
          List<Path> checkpointFiles,
      @Option(names = "--trust", paramLabel = "PUBKEY",
          description = {"a public key (PEM) whose checkpoints are trusted; repeatable,",
              "needed with --checkpoints"}) List<Path> trusted,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "verify");
    AuditAnchors anchors = anchors(line, expectHead, checkpointFiles, trusted);
    PrintWriter out = line.getOut();
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      VerifyReport report = AuditVerifier.verify(stores.database(), anchors);
      if (report.ok()) {
        out.println("OK: the audit trail in " + stores.description() + " is intact ("
            + Summary.plural(report.rowsChecked()) + " verified)"
            + (anchors.isEmpty() ? "." : "; " + anchored(expectHead, report) + "."));
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

  /**
   * The anchors from the options: the expected head, and every checkpoint in the files (each
   * signed by a trusted key).
   */
  private static AuditAnchors anchors(CommandLine line, String expectHead,
      List<Path> checkpointFiles, List<Path> trusted) {
    boolean checkpoints = checkpointFiles != null && !checkpointFiles.isEmpty();
    boolean keys = trusted != null && !trusted.isEmpty();
    if (checkpoints != keys) {
      throw new CommandLine.ParameterException(line, checkpoints
          ? "--checkpoints needs --trust PUBKEY: the public key whose signatures to accept"
          : "--trust goes with --checkpoints FILE");
    }
    AuditAnchors anchors = AuditAnchors.NONE;
    if (expectHead != null) {
      try {
        anchors = anchors.expectHead(AuditHead.parse(expectHead));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(line, "--expect-head: " + e.getMessage());
      }
    }
    if (checkpoints) {
      List<PublicKey> publicKeys = new ArrayList<>();
      for (Path key : trusted) {
        publicKeys.add(AuditCheckpoints.readPublicKey(key));
      }
      List<AuditCheckpoint> all = new ArrayList<>();
      for (Path file : checkpointFiles) {
        all.addAll(AuditCheckpoints.read(file));
      }
      // A checkpoint no trusted key signed fails here, before the database is opened.
      anchors = anchors.checkpoints(all, publicKeys);
    }
    return anchors;
  }

  private static String anchored(String expectHead, VerifyReport report) {
    List<String> parts = new ArrayList<>();
    long checkpoints = report.anchorsChecked() - (expectHead == null ? 0 : 1);
    if (expectHead != null) {
      parts.add("it holds the expected head");
    }
    if (checkpoints > 0 || report.anchorsBeforeBase() > 0) {
      parts.add("it holds " + checkpoints + (checkpoints == 1 ? " signed checkpoint" : " signed"
          + " checkpoints") + (report.anchorsBeforeBase() == 0 ? "" : " (" + report
          .anchorsBeforeBase() + " older ones lie before the chain's base, purged by retention,"
          + " and were not checked)"));
    }
    return String.join("; ", parts);
  }

  /** Prints the chain's head, to be copied elsewhere and given back to verify --expect-head. */
  @Command(name = "head", mixinStandardHelpOptions = true,
      description = {"Print the chain's head: <seq>:<hash>@<time> of its last record.",
          "Keep it outside the database (a ticket, a log, a notary); later, "
          + "'sentinel audit verify --expect-head <it>' fails if the chain was truncated or "
          + "rewritten before it."})
  int head(@Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "head");
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      PrintWriter out = line.getOut();
      out.println(AuditVerifier.head(stores.database()));
      out.flush();
      return 0;
    }
  }

  /** Signs a checkpoint of the chain now. */
  @Command(name = "checkpoint", mixinStandardHelpOptions = true,
      description = {"Sign the chain's head now with an Ed25519 key and print the checkpoint "
          + "(one JSON line); with --append, also append it to a checkpoint file.",
          "For anchoring from cron or by hand; a gateway with audit.checkpoint takes them itself."})
  int checkpoint(
      @Option(names = "--key", paramLabel = "FILE", required = true,
          description = "the Ed25519 private key (PEM, openssl genpkey -algorithm ed25519)")
          Path key,
      @Option(names = "--append", paramLabel = "FILE",
          description = "append the checkpoint to this file too") Path append,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "checkpoint");
    PrivateKey privateKey = AuditCheckpoints.readPrivateKey(key);
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      AuditCheckpoint checkpoint = AuditCheckpoints.take(stores.database(), privateKey, clock);
      if (append != null) {
        AuditCheckpoints.append(append, checkpoint);
      }
      PrintWriter out = line.getOut();
      out.println(checkpoint.toJson());
      out.flush();
      return 0;
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
    CommandLine line = Subcommands.of(spec, "query");
    AuditFormat chosen = format(line, format);
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      AuditOperations audit = audit(stores);
      AuditFilter filter = filters.filter(line, audit);
      AuditWriter writer = chosen.writer(line.getOut());
      audit.search(filter, (seq, event) -> writer.write(new AuditRecord(seq, event)));
      writer.finish();
      return 0;
    }
  }

  /** Writes matching records to a file or stdout. */
  @Command(name = "export", mixinStandardHelpOptions = true,
      description = {"Export the matching audit records (JSON Lines by default).",
          "Writes to a file or stdout, reading the records as a stream; a progress line goes "
          + "to stderr when it is a terminal."})
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
    CommandLine line = Subcommands.of(spec, "export");
    AuditFormat chosen = format(line, format);
    boolean showProgress = progress != null ? progress : System.console() != null;
    PrintWriter err = line.getErr();
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      AuditOperations audit = audit(stores);
      AuditFilter query = filters.filter(line, audit);
      long count;
      if (output == null) {
        count = export(audit, query, chosen, line.getOut(), showProgress ? err : null);
      } else {
        Path tmp = output.resolveSibling(output.getFileName() + ".part");
        try (OutputStream file = Files.newOutputStream(tmp);
            Writer writer = new OutputStreamWriter(file, StandardCharsets.UTF_8)) {
          count = export(audit, query, chosen, writer, showProgress ? err : null);
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

  private static long export(AuditOperations audit, AuditFilter filter, AuditFormat format,
      Writer out, @Nullable PrintWriter progress) {
    AuditWriter writer = format.writer(out);
    long[] count = {0};
    audit.search(filter, (seq, event) -> {
      writer.write(new AuditRecord(seq, event));
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
    CommandLine line = Subcommands.of(spec, "purge");
    Instant cut = Operator.call(line, () -> AuditOperations.cut(before, "--before", olderThan,
        "--older-than", clock.instant()));
    if (!yes) {
      PrintWriter err = line.getErr();
      err.println("This deletes every audit record before " + Times.format(cut)
          + " (the oldest ones, as a prefix of the chain). Nothing was deleted; add --yes to "
          + "purge.");
      err.flush();
      return Main.FAILED;
    }
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      long deleted = audit(stores).purge(cut);
      PrintWriter out = line.getOut();
      out.println("Purged " + Summary.plural(deleted) + " before " + Times.format(cut) + " from "
          + stores.description() + "; the rest still verifies (sentinel audit verify).");
      out.flush();
      return 0;
    }
  }

  private AuditOperations audit(JdbcStores stores) {
    return Operations.builder().stores(stores).clock(clock).build().audit();
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
