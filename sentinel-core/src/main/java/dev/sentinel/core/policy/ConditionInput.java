package dev.sentinel.core.policy;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * What a {@link ConditionLanguage.Expression} may look at: the request, its principal with the
 * roles it holds <em>after inheritance</em>, the arguments and the time.
 *
 * <p>The engine makes one per rule evaluation; {@link #roles()} is computed on first use. Not
 * thread-safe (an evaluation is on one thread); the values it returns are immutable.
 */
public final class ConditionInput {
  private final RequestContext context;
  private final Map<String, Set<String>> closures;
  private @Nullable Set<String> roles;

  ConditionInput(RequestContext context, Map<String, Set<String>> closures) {
    this.context = context;
    this.closures = closures;
  }

  /**
   * An input whose principal holds exactly {@code roles}, for testing an expression outside a
   * policy.
   */
  public static ConditionInput of(RequestContext context, Set<String> roles) {
    ConditionInput input = new ConditionInput(Objects.requireNonNull(context, "context"), Map.of());
    input.roles = Set.copyOf(roles);
    return input;
  }

  /** The whole context. */
  public RequestContext context() {
    return context;
  }

  /** The caller. */
  public Principal principal() {
    return context.principal();
  }

  /** The request. */
  public Request request() {
    return context.request();
  }

  /** The request's arguments (an object; empty when there are none). Do not change it. */
  public JsonNode arguments() {
    return context.request().arguments();
  }

  /** When the request arrived. */
  public Instant time() {
    return context.time();
  }

  /**
   * The roles the principal holds, with every role they inherit in the policy's {@code roles:}
   * section, as a rule's {@code roles:} sees them: a {@code developer} that inherits
   * {@code readonly} holds both. Roles the policy does not declare are kept as they are.
   */
  public Set<String> roles() {
    if (roles == null) {
      Set<String> held = context.principal().roles();
      Set<String> out = new HashSet<>(held);
      for (String role : held) {
        Set<String> closure = closures.get(role);
        if (closure != null) {
          out.addAll(closure);
        }
      }
      roles = Set.copyOf(out);
    }
    return roles;
  }
}
