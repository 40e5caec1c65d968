package dev.sentinel.core.policy;

import dev.sentinel.api.Request;
import dev.sentinel.core.internal.Glob;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Narrows the rules that can concern a request, so that evaluation cost follows the rules about
 * the request's target rather than the size of the policy.
 *
 * <p>Per kind of target (tool, prompt, resource): literal names in a hash map, and wildcard globs
 * in a character trie keyed by each glob's literal prefix, walked along the request's name. Rules
 * that name no target sit in a map by literal method, or in a list checked for every request.
 * A rule may be offered more than once (once per glob); callers must tolerate repeats. Candidates
 * are only candidates: callers still match each rule in full. Immutable and thread-safe.
 */
final class RuleIndex {
  private static final Rule[] NONE = new Rule[0];
  /** Indexed by {@link Request.Kind#ordinal()}; the slot of {@code OTHER} stays empty. */
  private static final int KINDS = Request.Kind.values().length;

  private final List<Map<String, Rule[]>> exact = new ArrayList<>(KINDS);
  private final Node[] tries = new Node[KINDS];
  private final Map<String, Rule[]> untargetedByMethod;
  private final Rule[] untargetedAnyMethod;

  /** Receives candidates; returns {@code false} to stop early. */
  interface Sink {
    boolean accept(Rule rule);
  }

  RuleIndex(List<Rule> rules) {
    List<Map<String, List<Rule>>> exactBuild = new ArrayList<>();
    List<Builder> trieBuild = new ArrayList<>();
    for (int k = 0; k < KINDS; k++) {
      exactBuild.add(new HashMap<>());
      trieBuild.add(new Builder());
    }
    Map<String, List<Rule>> byMethod = new HashMap<>();
    List<Rule> anyMethod = new ArrayList<>();
    for (Rule rule : rules) {
      if (rule.targeted()) {
        for (Request.Kind kind : new Request.Kind[] {
            Request.Kind.TOOL, Request.Kind.PROMPT, Request.Kind.RESOURCE, Request.Kind.MODEL,
            Request.Kind.PATH}) {
          Glob[] globs = rule.targets(kind);
          if (globs == null) {
            continue;
          }
          for (Glob glob : globs) {
            if (glob.isLiteral()) {
              exactBuild.get(kind.ordinal())
                  .computeIfAbsent(glob.literalPrefix(), n -> new ArrayList<>()).add(rule);
            } else {
              trieBuild.get(kind.ordinal()).add(glob.literalPrefix(), rule);
            }
          }
        }
      } else if (rule.methods != null && allLiteral(rule.methods)) {
        for (Glob method : rule.methods) {
          byMethod.computeIfAbsent(method.literalPrefix(), m -> new ArrayList<>()).add(rule);
        }
      } else {
        anyMethod.add(rule);
      }
    }
    for (int k = 0; k < KINDS; k++) {
      exact.add(freeze(exactBuild.get(k)));
      tries[k] = trieBuild.get(k).freeze();
    }
    untargetedByMethod = freeze(byMethod);
    untargetedAnyMethod = dedupe(anyMethod);
  }

  /**
   * Offers every rule that could match the request, in no particular order and possibly more
   * than once, until the sink returns {@code false}.
   *
   * @return {@code false} if the sink stopped early
   */
  boolean forEachCandidate(Request request, Sink sink) {
    String name = request.name();
    int kind = request.kind().ordinal();
    if (kind < KINDS && name != null) {
      if (!offer(exact.get(kind).get(name), sink)) {
        return false;
      }
      Node node = tries[kind];
      if (!offer(node.rules, sink)) {
        return false;
      }
      for (int i = 0; i < name.length(); i++) {
        node = node.child(name.charAt(i));
        if (node == null) {
          break;
        }
        if (!offer(node.rules, sink)) {
          return false;
        }
      }
    }
    return offer(untargetedByMethod.get(request.method()), sink)
        && offer(untargetedAnyMethod, sink);
  }

  private static boolean offer(Rule @Nullable [] rules, Sink sink) {
    if (rules == null) {
      return true;
    }
    for (Rule rule : rules) {
      if (!sink.accept(rule)) {
        return false;
      }
    }
    return true;
  }

  private static boolean allLiteral(Glob[] globs) {
    for (Glob glob : globs) {
      if (!glob.isLiteral()) {
        return false;
      }
    }
    return true;
  }

  private static Map<String, Rule[]> freeze(Map<String, List<Rule>> build) {
    Map<String, Rule[]> out = new HashMap<>(build.size() * 2);
    build.forEach((key, rules) -> out.put(key, dedupe(rules)));
    return Map.copyOf(out);
  }

  private static Rule[] dedupe(List<Rule> rules) {
    if (rules.isEmpty()) {
      return NONE;
    }
    Set<Rule> unique = new LinkedHashSet<>(rules);
    return unique.toArray(NONE);
  }

  /** A trie node: children sorted by character for binary search. */
  private static final class Node {
    final char[] keys;
    final Node[] children;
    final Rule[] rules;

    Node(char[] keys, Node[] children, Rule[] rules) {
      this.keys = keys;
      this.children = children;
      this.rules = rules;
    }

    @Nullable Node child(char c) {
      int lo = 0;
      int hi = keys.length - 1;
      while (lo <= hi) {
        int mid = (lo + hi) >>> 1;
        char k = keys[mid];
        if (k < c) {
          lo = mid + 1;
        } else if (k > c) {
          hi = mid - 1;
        } else {
          return children[mid];
        }
      }
      return null;
    }
  }

  /** A mutable trie node used while building. */
  private static final class Builder {
    final TreeMap<Character, Builder> children = new TreeMap<>();
    final List<Rule> rules = new ArrayList<>();

    void add(String prefix, Rule rule) {
      Builder node = this;
      for (int i = 0; i < prefix.length(); i++) {
        node = node.children.computeIfAbsent(prefix.charAt(i), c -> new Builder());
      }
      node.rules.add(rule);
    }

    Node freeze() {
      char[] keys = new char[children.size()];
      Node[] nodes = new Node[children.size()];
      int i = 0;
      for (Map.Entry<Character, Builder> entry : children.entrySet()) {
        keys[i] = entry.getKey();
        nodes[i++] = entry.getValue().freeze();
      }
      return new Node(keys, nodes, dedupe(rules));
    }
  }
}
