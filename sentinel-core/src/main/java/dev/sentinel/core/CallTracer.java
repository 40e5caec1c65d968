package dev.sentinel.core;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Refusal;
import org.jspecify.annotations.Nullable;

/**
 * Observes each governed call while it runs, stage by stage, for tracing (sentinel-otel turns
 * a call into an OpenTelemetry span with a child span per stage). A {@link SentinelListener} sees
 * a call once it has ended; a tracer also sees when each stage began and ended.
 *
 * <p>A tracer is an observer: whatever it or its {@link CallTrace} throws is caught and never
 * changes the call. {@link #none()}, the default, does nothing: the pipeline then calls a
 * constant no-op trace whose empty methods the JIT inlines away.
 *
 * <p>Implementations must be thread-safe; each {@link CallTrace} is used by one call, on the
 * thread that runs it, and needs no synchronisation of its own.
 */
@FunctionalInterface
public interface CallTracer {

  /**
   * A call begins. Called once per {@link Sentinel#call} and {@link Sentinel#refuse}, before any
   * stage; must be fast and must not block.
   *
   * @param call the call, with the trace context its caller sent ({@link Call#traceParent})
   * @return what observes the call's stages; {@link CallTrace#none()} to observe nothing
   */
  CallTrace start(Call call);

  /** The tracer that observes nothing (the pipeline's default). */
  static CallTracer none() {
    return NoTracer.INSTANCE;
  }

  /** The stages a call passes, in order; a refused call stops at the stage that refused it. */
  enum Stage {
    /** Authenticating the caller, checking the kill switch and deciding by the policy. */
    DECISION,
    /** Taking from the rate limits. */
    LIMIT,
    /** Asking for confirmation (an approval), when the policy says {@code confirm}. */
    CONFIRMATION,
    /** The invoker: forwarding to the backend, or running the tool, and its answer. */
    BACKEND,
    /** Recording the audit trail: the durable intent, or the final record and the listeners. */
    AUDIT
  }

  /**
   * One call's stages, as they happen. Stages never overlap: each {@link #begin} is followed by
   * its {@link #end} before the next begins, and {@link #completed} comes last.
   */
  interface CallTrace {

    /** A stage begins. */
    default void begin(Stage stage) {}

    /**
     * The stage begun last ends.
     *
     * @param refusal how the stage refused the call, or {@code null} when it let it on
     */
    default void end(Stage stage, @Nullable Refusal refusal) {}

    /**
     * The call ended: its one final audit event (what the trail records, arguments redacted;
     * the same event listeners see). Called once, after the last stage.
     */
    default void completed(AuditEvent event) {}

    /** The trace that observes nothing. */
    static CallTrace none() {
      return NoTracer.INSTANCE;
    }
  }
}

/** The tracer and trace that observe nothing: one constant, so the pipeline's calls are free. */
enum NoTracer implements CallTracer, CallTracer.CallTrace {
  INSTANCE;

  @Override
  public CallTracer.CallTrace start(Call call) {
    return this;
  }
}
