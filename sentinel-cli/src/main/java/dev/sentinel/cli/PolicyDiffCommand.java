package dev.sentinel.cli;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Clock;
import dev.sentinel.api.SentinelException;
import dev.sentinel.core.audit.AuditEventJson;
import dev.sentinel.core.operator.Times;
import dev.sentinel.policy.tools.PolicyDiff;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.policy.tools.PolicyReplay;
import dev.sentinel.policy.tools.PolicyTestReport;
import dev.sentinel.policy.tools.PolicyTests;
import dev.sentinel.jdbc.AuditQuery;
import dev.sentinel.jdbc.JdbcStores;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code sentinel policy diff OLD NEW [--replay FILE.jsonl]... [--replay-audit WHEN --config C]
 * [--tests FILE]...}: what changed
 * between two policies, which recorded calls they decide differently, and whether their tests
 * pass. Exits 1 when a replayed call's decision changes or a test fails under the new policy, so
 * that CI can stop a change whose impact no one has looked at. Not thread-safe.
 */
@Command(
    name = "diff",
    mixinStandardHelpOptions = true,
    description = {"Compare two policies: rules, roles and limits added, removed and changed.",
        "With --replay, re-decide recorded calls (an audit export in JSON Lines) under both and"
            + " report those whose decision changes; with --tests, run test files against both.",
        "Exit code 1 when a replayed decision changes or a test fails under the new policy."})
final class PolicyDiffCommand implements Callable<Integer> {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  /** How many unreadable lines are named before the rest are only counted. */
  private static final int NAMED_BAD_LINES = 5;
  /** Lines per batch of the parallel replay. */
  private static final int BATCH = 2048;

  private int namedBadLines;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @ParentCommand private PolicyCommand parent;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "OLD", description = "the policy in force")
  @SuppressWarnings("NullAway.Init") // required: set by picocli
  private Path oldFile;

  @Parameters(index = "1", paramLabel = "NEW", description = "the proposed policy")
  @SuppressWarnings("NullAway.Init") // required: set by picocli
  private Path newFile;

  @Option(names = "--replay", paramLabel = "FILE",
      description = "an audit export in JSON Lines (sentinel audit export --format jsonl); repeatable")
  private List<Path> replay = List.of();

  @Option(names = "--replay-audit", paramLabel = "WHEN",
      description = "re-decide the records of a database's audit trail since WHEN (a time such as"
          + " 2026-03-01, or a duration ago such as 7d or 24h); the database from --config or --db")
  private @Nullable String replayAudit;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Mixin private DatabaseOptions database;

  @Option(names = "--tests", paramLabel = "FILE", description = "a policy test file; repeatable")
  private List<Path> tests = List.of();

  @Option(names = "--examples", paramLabel = "N", defaultValue = "10",
      description = "how many changed calls to show (default: 10)")
  private int examples;

  /** Made by picocli, under {@code sentinel policy}. */
  PolicyDiffCommand() {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PolicyOptions options = parent.policyOptions();
    PolicyEngine before = PolicyEngine.load(oldFile, options);
    PolicyEngine after = PolicyEngine.load(newFile, options);
    PolicyDiff diff = PolicyDiff.compare(read(oldFile), oldFile.toString(), read(newFile), newFile.toString());
    out.println(before.revision() + " -> " + after.revision());
    section(out, "rules", diff.rules());
    section(out, "roles", diff.roles());
    section(out, "limits", diff.limits());
    boolean failed = false;
    if (!replay.isEmpty() || replayAudit != null) {
      PolicyReplay replayer = new PolicyReplay(before, after, Math.max(0, examples));
      long bad = replayFiles(replayer);
      if (replayAudit != null) {
        replayAudit(replayer, replayAudit);
      }
      failed |= report(out, replayer, bad);
    }
    for (Path file : tests) {
      PolicyTestReport old = PolicyTests.run(before, file);
      PolicyTestReport now = PolicyTests.run(after, file);
      out.println("tests " + file + ": old policy " + summary(old) + "; new policy " + summary(now));
      if (!now.passed()) {
        out.print(indent(now.render()));
        failed = true;
      }
    }
    out.flush();
    return failed ? Main.FAILED : 0;
  }

  /**
   * Re-decides the audit trail's records since {@code --replay-audit}, oldest first, streamed
   * from the database (read only: the trail is not changed).
   */
  private void replayAudit(PolicyReplay replayer, String since) {
    Clock clock = Clock.system();
    AuditQuery query;
    try {
      query = AuditQuery.builder()
          .from(Operator.call(spec.commandLine(), () -> Times.time("--replay-audit", since,
              clock.instant(), Times.Direction.AGO)))
          .order(AuditQuery.Order.OLDEST_FIRST)
          .build();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    try (JdbcStores stores = database.open(spec.commandLine(), parent.environment(), clock, true)) {
      query.forEach(stores.database(), record -> replayer.accept(record.event()));
    }
  }

  /** Re-decides the records of the {@code --replay} files; returns how many lines were unreadable. */
  private long replayFiles(PolicyReplay replayer) {
    if (replay.isEmpty()) {
      return 0;
    }
    // Parsing the records costs several times what deciding them does: batches of lines are
    // parsed and decided on every core, and merged back in file order, so the report (and its
    // examples) is the same as one thread's.
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    ExecutorService pool = Executors.newFixedThreadPool(threads, runnable -> {
      Thread thread = new Thread(runnable, "sentinel-replay");
      thread.setDaemon(true);
      return thread;
    });
    Deque<Future<Batch>> pending = new ArrayDeque<>();
    long bad = 0;
    try {
      for (Path file : replay) {
        try (BufferedReader lines = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
          long number = 0;
          List<String> batch = new ArrayList<>(BATCH);
          for (String line = lines.readLine(); ; line = lines.readLine()) {
            if (line != null) {
              batch.add(line);
            }
            if (batch.size() == BATCH || (line == null && !batch.isEmpty())) {
              List<String> work = batch;
              long first = number + 1;
              number += work.size();
              pending.add(pool.submit(() -> decide(replayer.fork(), file, first, work)));
              batch = new ArrayList<>(BATCH);
              while (pending.size() > 2 * threads) { // bounded memory: a few batches in flight
                bad += merge(replayer, pending.poll());
              }
            }
            if (line == null) {
              break;
            }
          }
        } catch (NoSuchFileException e) {
          throw new SentinelException("the audit export " + file + " does not exist");
        } catch (IOException e) {
          throw new SentinelException("cannot read the audit export " + file + ": " + e.getMessage());
        }
      }
      while (!pending.isEmpty()) {
        bad += merge(replayer, pending.poll());
      }
    } finally {
      pool.shutdownNow();
    }
    return bad;
  }

  /** Prints what the replay found; returns whether any decision changes. */
  private boolean report(PrintWriter out, PolicyReplay replayer, long bad) {
    PolicyReplay.Report report = replayer.report();
    out.println("replay: " + report.replayed() + " calls re-decided (" + report.skipped()
        + " records skipped" + (bad == 0 ? "" : ", " + bad + " unreadable lines") + "): "
        + report.changed() + " decided differently"
        + (report.unreproduced() == 0 ? ""
            : "; " + report.unreproduced() + " recorded decisions the old policy does not give"
                + " again (redacted arguments, attributes not in the trail, or another policy then)"));
    if (report.changed() > 0) {
      counts(out, "change", report.byTransition());
      counts(out, "by target", report.byTool());
      counts(out, "by principal", report.byPrincipal());
      counts(out, "by rule", report.byRule());
      for (PolicyReplay.Change change : report.examples()) {
        AuditEvent e = change.event();
        out.println("  e.g. " + e.time() + " " + e.principal() + " " + e.method()
            + (e.name() == null ? "" : " " + e.name()) + ": " + change.before().effect()
            + rules(change.before().rules()) + " -> " + change.after().effect()
            + rules(change.after().rules()) + " [" + e.id() + "]");
      }
    }
    return report.changed() > 0;
  }

  /** One batch's replay and the lines it could not read. */
  private record Batch(PolicyReplay replay, List<String> unreadable) {}

  private static Batch decide(PolicyReplay replay, Path file, long first, List<String> lines) {
    List<String> unreadable = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      AuditEvent event;
      try {
        event = AuditEventJson.fromJson(JSON.readTree(line));
      } catch (JacksonException | IllegalArgumentException e) {
        unreadable.add(file + ":" + (first + i) + ": not an audit record ("
            + (e instanceof JacksonException ? ((JacksonException) e).getOriginalMessage() : e.getMessage())
            + "); skipped");
        continue;
      }
      replay.accept(event);
    }
    return new Batch(replay, unreadable);
  }

  /** Merges a finished batch in order; returns how many of its lines were unreadable. */
  private long merge(PolicyReplay into, Future<Batch> next) {
    Batch batch;
    try {
      batch = next.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SentinelException("the replay was interrupted");
    } catch (ExecutionException e) {
      throw new SentinelException("the replay failed: " + e.getCause());
    }
    into.merge(batch.replay());
    for (String message : batch.unreadable()) {
      if (namedBadLines++ < NAMED_BAD_LINES) {
        spec.commandLine().getErr().println(message);
      }
    }
    return batch.unreadable().size();
  }

  private static void section(PrintWriter out, String name, PolicyDiff.Section section) {
    if (section.isEmpty()) {
      out.println(name + ": unchanged");
      return;
    }
    out.println(name + ":");
    section.added().forEach(id -> out.println("  + " + id));
    section.removed().forEach(id -> out.println("  - " + id));
    section.changed().forEach((id, members) ->
        out.println("  ~ " + id + " (" + String.join(", ", members) + ")"));
  }

  private static void counts(PrintWriter out, String label, Map<String, Long> counts) {
    StringBuilder line = new StringBuilder("  ").append(label).append(':');
    int shown = 0;
    for (Map.Entry<String, Long> entry : counts.entrySet()) {
      if (shown++ == 10) {
        line.append(" ... (").append(counts.size() - 10).append(" more)");
        break;
      }
      line.append(shown == 1 ? " " : ", ").append(entry.getKey()).append(' ').append(entry.getValue());
    }
    out.println(line);
  }

  private static String rules(List<String> rules) {
    return rules.isEmpty() ? "" : " (" + String.join(", ", rules) + ")";
  }

  private static String summary(PolicyTestReport report) {
    return (report.cases().size() - report.failures()) + " passed, " + report.failures() + " failed";
  }

  private static String indent(String text) {
    return text.lines().map(l -> "  " + l + "\n").reduce("", String::concat);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new SentinelException("cannot read the policy file " + file + ": " + e.getMessage());
    }
  }
}
