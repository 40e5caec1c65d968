package dev.sentinel.core.killswitch;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.internal.Glob;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * Disables, at once and without a restart, everything, a backend, tools (by glob on the tool
 * name), or a principal. Set from config on reload, from the admin API, or synced from a shared
 * database through {@link #state()} and {@link #replace(State)}.
 *
 * <p>{@link #check} tries the scopes in the order of {@link Block.Scope}: everything, then the
 * request's backend, then its tool (only for tool requests, {@link Request.Kind#TOOL}; the first
 * matching glob in sorted order), then the principal.
 *
 * <p>Thread-safe. The state is an immutable {@link State} behind an {@link AtomicReference},
 * changed by compare-and-set; a change is seen by every {@code check} that starts after the
 * changing method returns, on any thread. When nothing is disabled, {@code check} is one volatile
 * read and a branch.
 */
public final class KillSwitch {
  private final AtomicReference<Snapshot> current = new AtomicReference<>(Snapshot.EMPTY);

  private KillSwitch() {}

  /** A kill switch with everything enabled. */
  public static KillSwitch create() {
    return new KillSwitch();
  }

  /**
   * Whether the request is blocked.
   *
   * @return the block that applies, or {@code null} when the request may proceed
   */
  public @Nullable Block check(Principal principal, Request request) {
    // Never null: set once in the constructor, and only ever replaced by another snapshot.
    Snapshot snapshot = Objects.requireNonNull(current.get());
    if (snapshot == Snapshot.EMPTY) {
      return null;
    }
    return snapshot.check(principal, request);
  }

  /** Blocks every request. */
  public void disableAll(String reason) {
    String checked = reason(reason);
    update(s -> new State(checked, s.backends(), s.tools(), s.principals()));
  }

  /** Undoes {@link #disableAll}; narrower disables stay. */
  public void enableAll() {
    update(s -> new State(null, s.backends(), s.tools(), s.principals()));
  }

  /** Blocks every request to a backend. */
  public void disableBackend(String backend, String reason) {
    String name = target(backend, "backend");
    String checked = reason(reason);
    update(s -> new State(s.all(), with(s.backends(), name, checked), s.tools(), s.principals()));
  }

  /** Undoes {@link #disableBackend}. */
  public void enableBackend(String backend) {
    update(s -> new State(s.all(), without(s.backends(), backend), s.tools(), s.principals()));
  }

  /**
   * Blocks calls of the tools whose name matches the glob (see {@link Glob}); {@code *} matches
   * every tool.
   */
  public void disableTool(String glob, String reason) {
    String text = target(glob, "tool glob");
    String checked = reason(reason);
    update(s -> new State(s.all(), s.backends(), with(s.tools(), text, checked), s.principals()));
  }

  /** Undoes {@link #disableTool} for exactly this glob; other globs that match stay. */
  public void enableTool(String glob) {
    update(s -> new State(s.all(), s.backends(), without(s.tools(), glob), s.principals()));
  }

  /** Blocks every request of a principal. */
  public void disablePrincipal(String id, String reason) {
    String name = target(id, "principal id");
    String checked = reason(reason);
    update(s -> new State(s.all(), s.backends(), s.tools(), with(s.principals(), name, checked)));
  }

  /** Undoes {@link #disablePrincipal}. */
  public void enablePrincipal(String id) {
    update(s -> new State(s.all(), s.backends(), s.tools(), without(s.principals(), id)));
  }

  /** What is disabled now. */
  public State state() {
    return Objects.requireNonNull(current.get()).state;
  }

  /** Replaces everything that is disabled, as on a config reload or a sync from a database. */
  public void replace(State state) {
    current.set(Snapshot.of(Objects.requireNonNull(state, "state")));
  }

  @Override
  public String toString() {
    return "KillSwitch" + state();
  }

  private void update(UnaryOperator<State> change) {
    current.updateAndGet(snapshot -> Snapshot.of(change.apply(snapshot.state)));
  }

  private static String reason(String reason) {
    return Objects.requireNonNull(reason, "reason");
  }

  private static String target(String value, String what) {
    Objects.requireNonNull(value, what);
    if (value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be blank");
    }
    return value;
  }

  private static Map<String, String> with(Map<String, String> map, String key, String value) {
    Map<String, String> copy = new TreeMap<>(map);
    copy.put(key, value);
    return copy;
  }

  private static Map<String, String> without(Map<String, String> map, String key) {
    if (key == null || !map.containsKey(key)) {
      return map;
    }
    Map<String, String> copy = new TreeMap<>(map);
    copy.remove(key);
    return copy;
  }

  /**
   * What is disabled, with reasons. Immutable; the maps are copied and sorted by key.
   *
   * @param all the reason everything is disabled, or {@code null} when it is not
   * @param backends disabled backend names, with reasons
   * @param tools disabled tool-name globs, with reasons
   * @param principals disabled principal ids, with reasons
   */
  public record State(
      @Nullable String all, Map<String, String> backends, Map<String, String> tools, Map<String, String> principals) {

    /** Nothing disabled. */
    public static final State EMPTY = new State(null, Map.of(), Map.of(), Map.of());

    /** Validates and copies. */
    public State {
      backends = sortedCopy(backends, "backend");
      tools = sortedCopy(tools, "tool glob");
      principals = sortedCopy(principals, "principal id");
    }

    /**
     * The union of a config's state and the operators': what a gateway enforces. Where both
     * name the same target, the config's reason wins.
     */
    public static State merge(State config, State operator) {
      return new State(
          config.all() != null ? config.all() : operator.all(),
          union(config.backends(), operator.backends()),
          union(config.tools(), operator.tools()),
          union(config.principals(), operator.principals()));
    }

    private static Map<String, String> union(Map<String, String> first,
        Map<String, String> second) {
      Map<String, String> out = new TreeMap<>(second);
      out.putAll(first);
      return out;
    }

    /** Whether nothing is disabled. */
    public boolean isEmpty() {
      return all == null && backends.isEmpty() && tools.isEmpty() && principals.isEmpty();
    }

    private static Map<String, String> sortedCopy(Map<String, String> map, String what) {
      Objects.requireNonNull(map, what + "s");
      TreeMap<String, String> copy = new TreeMap<>();
      map.forEach((key, reason) -> {
        if (key == null || key.isBlank()) {
          throw new IllegalArgumentException("a disabled " + what + " must not be blank");
        }
        copy.put(key, Objects.requireNonNull(reason, "reason for " + what + " '" + key + "'"));
      });
      return Collections.unmodifiableMap(copy);
    }
  }

  /**
   * Why a request is blocked.
   *
   * @param scope what was disabled
   * @param target the backend, tool glob or principal id that was disabled; {@code *} for
   *     {@link Scope#ALL}
   * @param reason the reason given when it was disabled
   */
  public record Block(Scope scope, String target, String reason) {

    /** Validates. */
    public Block {
      Objects.requireNonNull(scope, "scope");
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(reason, "reason");
    }

    /** What a kill switch entry disables, in the order {@link KillSwitch#check} tries them. */
    public enum Scope {
      /** Every request. */
      ALL,
      /** Every request to one backend. */
      BACKEND,
      /** Calls of the tools matching a glob. */
      TOOL,
      /** Every request of one principal. */
      PRINCIPAL
    }
  }

  /** A state with its blocks prebuilt and globs compiled, so that checks allocate nothing. */
  private static final class Snapshot {
    static final Snapshot EMPTY = new Snapshot(State.EMPTY);

    final State state;
    final @Nullable Block all;
    final Map<String, Block> backends;
    final Glob[] toolGlobs;
    final Block[] toolBlocks;
    final Map<String, Block> principals;

    private Snapshot(State state) {
      this.state = state;
      this.all = state.all() == null ? null : new Block(Block.Scope.ALL, "*", state.all());
      this.backends = blocks(Block.Scope.BACKEND, state.backends());
      this.principals = blocks(Block.Scope.PRINCIPAL, state.principals());
      List<Glob> globs = new ArrayList<>();
      List<Block> blocks = new ArrayList<>();
      state.tools().forEach((glob, reason) -> {
        globs.add(Glob.name(glob));
        blocks.add(new Block(Block.Scope.TOOL, glob, reason));
      });
      this.toolGlobs = globs.toArray(new Glob[0]);
      this.toolBlocks = blocks.toArray(new Block[0]);
    }

    static Snapshot of(State state) {
      return state.isEmpty() ? EMPTY : new Snapshot(state);
    }

    @Nullable Block check(Principal principal, Request request) {
      if (all != null) {
        return all;
      }
      if (!backends.isEmpty() && request.backend() != null) {
        Block block = backends.get(request.backend());
        if (block != null) {
          return block;
        }
      }
      if (toolGlobs.length > 0 && request.name() != null && request.kind() == Request.Kind.TOOL) {
        for (int i = 0; i < toolGlobs.length; i++) {
          if (toolGlobs[i].matches(request.name())) {
            return toolBlocks[i];
          }
        }
      }
      return principals.isEmpty() ? null : principals.get(principal.id());
    }

    private static Map<String, Block> blocks(Block.Scope scope, Map<String, String> reasons) {
      if (reasons.isEmpty()) {
        return Map.of();
      }
      Map<String, Block> out = new java.util.HashMap<>();
      reasons.forEach((target, reason) -> out.put(target, new Block(scope, target, reason)));
      return Map.copyOf(out);
    }
  }
}
