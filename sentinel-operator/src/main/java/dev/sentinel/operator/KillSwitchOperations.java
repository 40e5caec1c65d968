package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.core.operator.KillSwitchControl;
import dev.sentinel.core.killswitch.KillSwitch;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The kill switch as operators flip it: switch off everything, a backend, the tools matching a
 * glob or a principal, with a reason that the refused callers and the audit trail see; switch
 * them back on; or replace the whole state. Thread-safe: each change is one atomic {@link
 * KillSwitchControl#update}.
 */
public final class KillSwitchOperations {
  private final KillSwitchControl control;

  KillSwitchOperations(KillSwitchControl control) {
    this.control = Objects.requireNonNull(control, "control");
  }

  /** What a change applies to. */
  public enum Scope {
    /** Every request. */
    ALL,
    /** Every request to one backend. */
    BACKEND,
    /** Calls of the tools matching a glob. */
    TOOL,
    /** Every request of one principal. */
    PRINCIPAL;

    /**
     * A scope by name, in any case.
     *
     * @throws OperatorException ({@code INVALID}) listing the scopes
     */
    public static Scope parse(String text) {
      Objects.requireNonNull(text, "scope");
      for (Scope s : values()) {
        if (s.name().equalsIgnoreCase(text.strip())) {
          return s;
        }
      }
      List<String> names = new ArrayList<>();
      for (Scope s : values()) {
        names.add(s.name().toLowerCase(Locale.ROOT));
      }
      throw OperatorException.invalid("unknown scope '" + text + "'; expected "
          + String.join(", ", names));
    }

    /** The scope's name as operators type it. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What is switched off in effect: the config's entries and the operators'. */
  public KillSwitch.State state() {
    return control.effectiveState();
  }

  /** What operators have switched off, without the config's entries. */
  public KillSwitch.State operatorState() {
    return control.operatorState();
  }

  /**
   * Switches something off.
   *
   * @param target the backend, tool glob or principal id; ignored for {@link Scope#ALL} (may be
   *     {@code null} then)
   * @param reason why, shown to refused callers and recorded; required ({@code null} is refused)
   * @return what is switched off in effect now
   * @throws OperatorException {@code INVALID} without a reason or a target, or for a backend
   *     this gateway does not have; {@code UNAVAILABLE} if the store cannot be written
   */
  public KillSwitch.State disable(Scope scope, @Nullable String target,
      @Nullable String reason) {
    Objects.requireNonNull(scope, "scope");
    if (reason == null || reason.isBlank()) {
      throw OperatorException.invalid("a reason is required to switch something off: say why,"
          + " for the audit trail and the refused callers");
    }
    String name = target(scope, target);
    if (scope == Scope.BACKEND && !control.backends().isEmpty()
        && !control.backends().contains(name)) {
      throw OperatorException.invalid("unknown backend '" + name + "'; backends: "
          + String.join(", ", new TreeSet<>(control.backends())));
    }
    return change(s -> with(s, scope, name, reason.strip()));
  }

  /**
   * Switches something back on; switching on what is not off changes nothing. The config's own
   * {@code kill_switch:} entries stay off: edit the config for those.
   *
   * @param target as for {@link #disable}: ignored for {@link Scope#ALL} (may be {@code null} then)
   * @return what is switched off in effect now
   * @throws OperatorException {@code INVALID} without a target; {@code UNAVAILABLE} if the store
   *     cannot be written
   */
  public KillSwitch.State enable(Scope scope, @Nullable String target) {
    Objects.requireNonNull(scope, "scope");
    String name = target(scope, target);
    return change(s -> with(s, scope, name, null));
  }

  /**
   * Replaces everything operators have switched off.
   *
   * @return what is switched off in effect now
   */
  public KillSwitch.State replace(KillSwitch.State next) {
    Objects.requireNonNull(next, "next");
    return change(s -> next);
  }

  private KillSwitch.State change(java.util.function.UnaryOperator<KillSwitch.State> change) {
    try {
      control.update(change);
    } catch (IllegalArgumentException e) {
      throw OperatorException.invalid("invalid kill switch: " + e.getMessage());
    } catch (OperatorException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new OperatorException(OperatorException.Kind.UNAVAILABLE, "the kill switch could not"
          + " be stored for every gateway; it may be in effect on this gateway only: try again",
          e);
    }
    return control.effectiveState();
  }

  private static String target(Scope scope, @Nullable String target) {
    if (scope == Scope.ALL) {
      return "*";
    }
    if (target == null || target.isBlank()) {
      throw OperatorException.invalid("a target is required for scope '" + scope.label()
          + "': the " + (scope == Scope.TOOL ? "tool name or glob" : scope.label()
          + (scope == Scope.PRINCIPAL ? " id" : " name")));
    }
    return target.strip();
  }

  /** The state with the target switched off for {@code reason}, or back on when it is null. */
  private static KillSwitch.State with(KillSwitch.State s, Scope scope, String target,
      @Nullable String reason) {
    switch (scope) {
      case ALL:
        return new KillSwitch.State(reason, s.backends(), s.tools(), s.principals());
      case BACKEND:
        return new KillSwitch.State(s.all(), put(s.backends(), target, reason), s.tools(),
            s.principals());
      case TOOL:
        return new KillSwitch.State(s.all(), s.backends(), put(s.tools(), target, reason),
            s.principals());
      default:
        return new KillSwitch.State(s.all(), s.backends(), s.tools(),
            put(s.principals(), target, reason));
    }
  }

  private static Map<String, String> put(
      Map<String, String> map, String key, @Nullable String reason) {
    Map<String, String> copy = new TreeMap<>(map);
    if (reason == null) {
      copy.remove(key);
    } else {
      copy.put(key, reason);
    }
    return copy;
  }
}
