package dev.sentinel.core;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Refusal;
import dev.sentinel.core.CallTracer.CallTrace;
import dev.sentinel.core.CallTracer.Stage;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tracer's trace that cannot change the call it observes: whatever the tracer throws is caught,
 * counted with the listeners' failures and logged (one in a thousand). Used by one call's thread.
 */
final class GuardedTrace implements CallTrace {
  private static final Logger log = LoggerFactory.getLogger(GuardedTrace.class);

  private final CallTrace trace;
  private final AtomicLong failures;

  private GuardedTrace(CallTrace trace, AtomicLong failures) {
    this.trace = trace;
    this.failures = failures;
  }

  /** The tracer's trace of the call, guarded; the no-op trace if starting it failed. */
  static CallTrace start(CallTracer tracer, Call call, AtomicLong failures) {
    CallTrace started;
    try {
      started = tracer.start(call);
    } catch (RuntimeException e) {
      failed(e, failures);
      return CallTrace.none();
    }
    return started == null || started == CallTrace.none() ? CallTrace.none()
        : new GuardedTrace(started, failures);
  }

  @Override
  public void begin(Stage stage) {
    try {
      trace.begin(stage);
    } catch (RuntimeException e) {
      failed(e, failures);
    }
  }

  @Override
  public void end(Stage stage, @Nullable Refusal refusal) {
    try {
      trace.end(stage, refusal);
    } catch (RuntimeException e) {
      failed(e, failures);
    }
  }

  @Override
  public void completed(AuditEvent event) {
    try {
      trace.completed(event);
    } catch (RuntimeException e) {
      failed(e, failures);
    }
  }

  private static void failed(RuntimeException e, AtomicLong failures) {
    if (failures.getAndIncrement() % 1000 == 0) {
      log.warn("a call tracer threw {}; calls are unaffected", e.getClass().getName(), e);
    }
  }
}
