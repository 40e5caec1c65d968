package dev.sentinel.core;

import dev.sentinel.api.Request;
import java.util.concurrent.CompletionStage;

/**
 * The governed action, answering later: the forwarding of a request whose answer arrives on
 * another thread (an HTTP client's, a backend reader's), so that no thread waits for it.
 * Sentinel calls it only after every stage of the pipeline allowed the request, and records the
 * call when the stage completes ({@link Sentinel#callAsync}).
 *
 * @param <T> the result type; a {@link tools.jackson.databind.JsonNode} result is sized and
 *     digested for the audit trail
 */
@FunctionalInterface
public interface AsyncInvoker<T> {

  /**
   * Starts the request and returns its answer to come. Complete the stage exceptionally with
   * {@link java.util.concurrent.TimeoutException} for a timeout, {@link
   * java.util.concurrent.CancellationException} for a cancellation and {@link RefusedException}
   * for a refusal before forwarding, so the audit trail records them as such; anything else is a
   * failure. Throwing instead of returning a stage counts the same.
   */
  CompletionStage<T> invoke(Request request) throws Exception;
}
