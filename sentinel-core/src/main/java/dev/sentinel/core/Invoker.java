package dev.sentinel.core;

import dev.sentinel.api.Request;

/**
 * The governed action itself: a tool handler, or the forwarding of a request to a backend.
 * Sentinel calls it only after every stage of the pipeline allowed the request.
 *
 * @param <T> the result type; a {@link tools.jackson.databind.JsonNode} result is sized and
 *     digested for the audit trail
 */
@FunctionalInterface
public interface Invoker<T> {

  /**
   * Performs the request. Throw {@link java.util.concurrent.TimeoutException} for a timeout and
   * {@link java.util.concurrent.CancellationException} for a cancellation so the audit trail
   * records them as such; anything else is a failure.
   */
  T invoke(Request request) throws Exception;
}
