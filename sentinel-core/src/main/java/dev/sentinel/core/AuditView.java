package dev.sentinel.core;

import dev.sentinel.api.Request;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * What a call's audit record shows instead of its arguments, and the response it describes, for
 * calls whose arguments should not be stored whole (a model request's prompt) or whose response
 * is streamed rather than returned ({@link Sentinel#call(Call, Invoker, AuditView)}). The
 * arguments' digest in the record is always the whole arguments'.
 *
 * <p>Asked once, when the record is built (and before forwarding, for the intent record of
 * {@link dev.sentinel.core.audit.AuditMode#DURABLE}), on the thread that runs the call, or for
 * {@link Sentinel#callAsync} the thread that completes the invoker's stage: whatever it reads
 * must be set before that stage completes. What it shows is redacted like arguments. A view that throws shows nothing: it never fails the call.
 */
public interface AuditView {

  /** What the record shows as the request's arguments (an object), or {@code null} for nothing. */
  @Nullable JsonNode arguments(Request request);

  /** The size in bytes of the response, or {@code -1} when there was none. */
  default long responseSize() {
    return -1;
  }

  /** The response's keyed digest ({@link Sentinel#digestKey()}), or {@code null}. */
  default @Nullable String responseDigest() {
    return null;
  }
}
