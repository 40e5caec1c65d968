package dev.sentinel.policy.tools;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Policy;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Re-decides recorded calls under two policies and reports the calls whose decision would
 * change: the impact of a policy change on real traffic, before it ships.
 *
 * <p>Each audit event is replayed as the request it records (method, backend, name, arguments),
 * by a principal with its recorded id and roles, at its recorded time. What the trail does not
 * hold cannot be replayed: redacted argument values are seen as {@code [REDACTED]}, and principal
 * attributes are absent. Calls whose recorded decision the old policy does not reproduce are
 * counted as {@link Report#unreproduced()}, so a reader knows how far to trust the comparison.
 * Events without a principal (unauthenticated) and durable-mode intent records ({@code PENDING},
 * whose final record follows) are skipped. Not thread-safe: replay batches in parallel with
 * {@link #fork} and {@link #merge} them in order.
 */
public final class PolicyReplay {
  private final Policy before;
  private final Policy after;
  private final int maxExamples;
  private long replayed;
  private long skipped;
  private long unreproduced;
  private final Map<String, Long> byTool = new HashMap<>();
  private final Map<String, Long> byPrincipal = new HashMap<>();
  private final Map<String, Long> byRule = new HashMap<>();
  private final Map<String, Long> byTransition = new HashMap<>();
  private final List<Change> examples = new ArrayList<>();

  /**
   * One call whose decision changes.
   *
   * @param event the recorded call
   * @param before the old policy's decision
   * @param after the new policy's decision
   */
  public record Change(AuditEvent event, Decision before, Decision after) {}

  /**
   * What a replay found.
   *
   * @param replayed calls re-decided
   * @param skipped events not replayed (no principal, intent records)
   * @param changed calls whose decision changes (effect or deciding rules)
   * @param unreproduced calls whose recorded effect the old policy does not give again
   * @param byTransition changed calls by effect before and after ({@code ALLOW -> DENY}, or {@code
   *     DENY -> DENY (by other rules)}), most first
   * @param byTool changed calls by target name, most first
   * @param byPrincipal changed calls by principal, most first
   * @param byRule changed calls by the rules that decide them now (or did before, if none does
   *     now), most first
   * @param examples the first changed calls, at most the number asked for
   */
  public record Report(long replayed, long skipped, long changed, long unreproduced,
      Map<String, Long> byTransition, Map<String, Long> byTool, Map<String, Long> byPrincipal,
      Map<String, Long> byRule, List<Change> examples) {}

  /**
   * A replay of calls under two policies.
   *
   * @param maxExamples how many changed calls to keep as examples
   */
  public PolicyReplay(Policy before, Policy after, int maxExamples) {
    this.before = Objects.requireNonNull(before, "before");
    this.after = Objects.requireNonNull(after, "after");
    if (maxExamples < 0) {
      throw new IllegalArgumentException("maxExamples must not be negative");
    }
    this.maxExamples = maxExamples;
  }

  /** Re-decides every event. */
  public PolicyReplay replay(Iterator<AuditEvent> events) {
    while (events.hasNext()) {
      accept(events.next());
    }
    return this;
  }

  /** Re-decides one event. */
  public void accept(AuditEvent event) {
    if (event.principal() == null || event.outcome() == Outcome.PENDING
        || event.outcome() == Outcome.UNAUTHENTICATED) {
      skipped++;
      return;
    }
    replayed++;
    RequestContext context = RequestContext.of(
        new Principal(event.principal(), new HashSet<>(event.roles()), Map.of()),
        new Request(event.method(), event.backend(), event.name(), event.arguments()),
        event.time());
    Decision old = decide(before, context);
    Decision now = decide(after, context);
    if (event.effect() != null && event.effect() != old.effect()) {
      unreproduced++;
    }
    if (old.effect() == now.effect() && old.rules().equals(now.rules())) {
      return;
    }
    count(byTransition, old.effect() + " -> " + now.effect()
        + (old.effect() == now.effect() ? " (by other rules)" : ""));
    count(byTool, event.name() != null ? event.name() : event.method());
    count(byPrincipal, event.principal());
    List<String> rules = !now.rules().isEmpty() ? now.rules() : old.rules();
    count(byRule, rules.isEmpty() ? "(no rule: default deny)" : String.join(", ", rules));
    if (examples.size() < maxExamples) {
      examples.add(new Change(event, old, now));
    }
  }

  /**
   * Adds what another replay of the same two policies found, as if its events had followed this
   * one's: counts add up, and its examples follow this one's up to the limit. For replaying
   * batches in parallel and merging them in order.
   */
  public void merge(PolicyReplay other) {
    Objects.requireNonNull(other, "other");
    replayed += other.replayed;
    skipped += other.skipped;
    unreproduced += other.unreproduced;
    other.byTransition.forEach((k, v) -> byTransition.merge(k, v, Long::sum));
    other.byTool.forEach((k, v) -> byTool.merge(k, v, Long::sum));
    other.byPrincipal.forEach((k, v) -> byPrincipal.merge(k, v, Long::sum));
    other.byRule.forEach((k, v) -> byRule.merge(k, v, Long::sum));
    for (Change change : other.examples) {
      if (examples.size() >= maxExamples) {
        break;
      }
      examples.add(change);
    }
  }

  /** A new, empty replay of the same two policies, for a batch to {@link #merge} back. */
  public PolicyReplay fork() {
    return new PolicyReplay(before, after, maxExamples);
  }

  /** What was found so far. */
  public Report report() {
    long changed = byTransition.values().stream().mapToLong(Long::longValue).sum();
    return new Report(replayed, skipped, changed, unreproduced, sorted(byTransition),
        sorted(byTool), sorted(byPrincipal), sorted(byRule), List.copyOf(examples));
  }

  private static Decision decide(Policy policy, RequestContext context) {
    try {
      Decision decision = policy.decide(context);
      return decision != null ? decision : Decision.defaultDeny();
    } catch (RuntimeException e) {
      return Decision.failure("policy", e); // as the pipeline does: fail closed
    }
  }

  private static void count(Map<String, Long> counts, String key) {
    counts.merge(key, 1L, Long::sum);
  }

  private static Map<String, Long> sorted(Map<String, Long> counts) {
    Map<String, Long> sorted = new LinkedHashMap<>();
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())
            .thenComparing(Map.Entry.comparingByKey()))
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }
}
