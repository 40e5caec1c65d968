package dev.sentinel.api;

/**
 * Decides whether a request may proceed, and which targets a principal may see.
 *
 * <p>Implementations must be thread-safe and should not block. A policy that throws is treated
 * as a deny (deciders fail closed).
 */
@FunctionalInterface
public interface Policy {

  /** Decides a request; never returns {@code null}. */
  Decision decide(RequestContext context);

  /**
   * Whether the principal could use the context's target at all (with some arguments), so that
   * {@code tools/list} and its kin show only what can be used. The request's arguments are
   * ignored. The default asks {@link #decide} with the arguments as given.
   */
  default boolean visible(RequestContext context) {
    return decide(context).permits();
  }

  /** A policy that refuses everything: deny by default. */
  static Policy denyAll() {
    return context -> Decision.defaultDeny();
  }
}
