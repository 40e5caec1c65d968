package dev.sentinel.core;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Caller;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Confirmation;
import dev.sentinel.api.Confirmer;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Decision;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Policy;
import dev.sentinel.api.Principal;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import dev.sentinel.core.CallTracer.CallTrace;
import dev.sentinel.core.CallTracer.Stage;
import dev.sentinel.core.approval.ApprovalConfirmer;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.AuditIds;
import dev.sentinel.core.audit.AuditMode;
import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.audit.Redacted;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.audit.Slf4jAuditSink;
import dev.sentinel.core.breakglass.BreakGlassWindow;
import dev.sentinel.core.breakglass.BreakGlassWindows;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.limit.LimitDecision;
import dev.sentinel.core.limit.Limits;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.core.policy.PolicyEngine;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The governance pipeline, in-process: every {@link #call} passes authenticate, kill switch,
 * policy, rate limits and (when the policy says so) confirmation before the invoker runs, and
 * leaves exactly one audit event whatever its outcome.
 *
 * <pre>{@code
 * Sentinel sentinel = Sentinel.builder()
 *     .policy(PolicyEngine.load(Path.of("policy.yaml")))   // its rules and its limits
 *     .audit(AuditDispatcher.builder().sink(JsonLinesAuditSink.open(Path.of("audit.jsonl"))).build())
 *     .build();
 * // for a user the application has authenticated; or give the builder an Authenticator and
 * // pass the caller's credentials with Call.of(credentials, request)
 * CallResult<JsonNode> result = sentinel.call(
 *     Call.as(Principal.of("alice", "developer"), Request.toolCall("fs", "fs__read_file", args)),
 *     request -> tools.run(request));
 * }</pre>
 *
 * <p>Guarantees: a request any stage refuses never reaches the invoker; deciders (the
 * authenticator, policy, limiter, confirmer) that throw refuse the call, with the error in the
 * audit event; listeners that throw never change a call.
 *
 * <p>Audit modes ({@link Builder#auditMode}): in {@link AuditMode#ASYNC}, the default, the call's
 * one record is queued when its outcome is known. In {@link AuditMode#DURABLE}, a call that is
 * about to be forwarded first records an intent ({@link Outcome#PENDING}, with the id the final
 * record will have, and what is known before forwarding) and waits until it is committed; if it
 * cannot be, the call is refused as {@link Outcome#UNAVAILABLE} and the invoker never runs. Either
 * way every call produces exactly one final record (the one listeners see); a durable store
 * additionally holds the intent, so that a call whose process dies mid-call is still on record.
 *
 * <p>Thread-safe; the policy, limits and revision are swapped whole by {@link #reconfigure}.
 * {@link #close()} flushes and closes the audit dispatcher, which
 * the instance owns.
 */
public final class Sentinel implements AutoCloseable {
  /** Makes the empty arguments of the gateway's own events. */
  private static final tools.jackson.databind.node.JsonNodeFactory NO_ARGUMENTS =
      tools.jackson.databind.node.JsonNodeFactory.instance;

  private static final Logger log = LoggerFactory.getLogger(Sentinel.class);
  private static final String UNAUTHENTICATED_REASON = "missing or invalid credentials";
  private static final Refusal UNAUTHENTICATED =
      Refusal.of(Outcome.UNAUTHENTICATED, List.of(), UNAUTHENTICATED_REASON);
  private static final Refusal UNAVAILABLE =
      Refusal.of(Outcome.UNAVAILABLE, List.of(), "the audit trail cannot be written; try again later");
  private static final int MAX_ERROR_MESSAGE = 512;
  /**
   * The tag of a call decided inside a break-glass window: the last of its decision's (and
   * refusal's) rules, in the audit trail and in metrics.
   */
  public static final String BREAK_GLASS = "break_glass";
  /** The logger of the default audit sink. */
  static final String DEFAULT_AUDIT_LOGGER = "dev.sentinel.audit";
  /** The authenticator of a pipeline built without one: only asserted principals get through. */
  private static final Authenticator NO_AUTHENTICATOR = credentials -> AuthenticationResult.failure(
      "no authenticator is configured; name the caller with Call.as(principal, request)");

  private final Authenticator authenticator;
  /** Policy, limits and revision: replaced whole by {@link #reconfigure}, read once per call. */
  private volatile Rules rules;
  private final KillSwitch killSwitch;
  private final BreakGlassWindows breakGlass;
  private final Confirmer confirmer;
  private final AuditDispatcher audit;
  private final RateLimiter limiter;
  private final AuditMode auditMode;
  private final Redactor redactor;
  private final Clock clock;
  private final String instance;
  private final boolean digestResponses;
  private final List<SentinelListener> listeners;
  private final AtomicLong listenerFailures = new AtomicLong();
  /** {@link CallTracer#none()} unless the builder was given a tracer. */
  private final CallTracer tracer;

  private Sentinel(Builder builder) {
    SelfTestSlowdown.warnIfOn();
    this.authenticator = builder.authenticator != null ? builder.authenticator : NO_AUTHENTICATOR;
    this.killSwitch = builder.killSwitch;
    this.breakGlass = builder.breakGlass;
    this.confirmer = builder.confirmer;
    this.clock = builder.clock;
    this.redactor = builder.redactor;
    this.limiter = builder.limiter != null ? builder.limiter : LocalRateLimiter.create(builder.clock);
    this.audit = builder.audit != null
        ? builder.audit
        : defaultAudit(LoggerFactory.getLogger(DEFAULT_AUDIT_LOGGER));
    this.auditMode = builder.auditMode;
    if (auditMode == AuditMode.DURABLE && !audit.anyDurableSink()) {
      throw new IllegalStateException(
          "audit mode DURABLE needs a durable audit sink (a database, or a JSON Lines file with"
              + " fsync); the dispatcher has none");
    }
    this.instance = builder.instance;
    Policy policy = builder.policy;
    this.rules = new Rules(policy,
        builder.limits != null ? builder.limits : limitsOf(policy, limiter),
        builder.revision != null ? builder.revision : revisionOf(policy));
    this.digestResponses = builder.digestResponses;
    this.listeners = List.copyOf(builder.listeners);
    this.tracer = builder.tracer;
  }

  /**
   * A builder with a deny-all policy, no authenticator (only {@link Call#as} calls are served), an
   * empty kill switch and an SLF4J audit sink.
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Governs one call: runs the pipeline and, if every stage allows, the invoker. Never throws
   * for a refusal or an invoker failure: both are in the result.
   */
  public <T> CallResult<T> call(Call call, Invoker<T> invoker) {
    return call(call, invoker, null);
  }

  /**
   * Governs one call like {@link #call(Call, Invoker)}, recording in the trail what {@code view}
   * shows instead of the arguments (their digest is still the whole arguments'), and the
   * response's size and digest that the view gives (for an invoker that answers by streaming).
   * The view is asked when the record is built: after the invoker, or when the call is refused.
   *
   * @param view what the trail shows, or {@code null} for the arguments themselves
   */
  public <T> CallResult<T> call(Call call, Invoker<T> invoker, @Nullable AuditView view) {
    Objects.requireNonNull(invoker, "invoker");
    Admission admission = admit(call, view);
    if (admission instanceof Refused refused) {
      return refused.result();
    }
    Admitted go = (Admitted) admission;
    go.trace.begin(Stage.BACKEND);
    T value;
    try {
      value = invoker.invoke(go.request);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return completed(go, null, e);
    } catch (Exception | Error e) {
      return completed(go, null, e);
    }
    return completed(go, value, null);
  }

  /**
   * Governs one call like {@link #call(Call, Invoker)}, with an invoker that answers later: the
   * pipeline decides on the caller's thread, up to and including the invoker's start, and the
   * call's record is written when the invoker's stage completes, on the thread that completes
   * it. The returned stage completes with the result (a refusal or an invoker failure is in the
   * result, as with {@link #call}), or exceptionally with an {@link Error} the invoker ended
   * with, after recording it.
   */
  public <T> CompletionStage<CallResult<T>> callAsync(Call call, AsyncInvoker<T> invoker) {
    return callAsync(call, invoker, null);
  }

  /**
   * Governs one call like {@link #callAsync(Call, AsyncInvoker)}, recording what {@code view}
   * shows as {@link #call(Call, Invoker, AuditView)} does.
   *
   * @param view what the trail shows, or {@code null} for the arguments themselves
   */
  public <T> CompletionStage<CallResult<T>> callAsync(Call call, AsyncInvoker<T> invoker,
      @Nullable AuditView view) {
    Objects.requireNonNull(invoker, "invoker");
    Admission admission = admit(call, view);
    if (admission instanceof Refused refused) {
      return CompletableFuture.completedFuture(refused.result());
    }
    Admitted go = (Admitted) admission;
    go.trace.begin(Stage.BACKEND);
    CompletionStage<T> answer;
    try {
      answer = invoker.invoke(go.request);
    } catch (Exception | Error e) {
      return completedAsync(go, null, e);
    }
    if (answer == null) {
      return completedAsync(go, null, new IllegalStateException("the invoker returned no stage"));
    }
    CompletableFuture<CallResult<T>> result = new CompletableFuture<>();
    answer.whenComplete((value, failure) -> {
      try {
        result.complete(completed(go, failure == null ? value : null, unwrap(failure)));
      } catch (Error e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  private <T> CompletionStage<CallResult<T>> completedAsync(Admitted go, @Nullable T value, Throwable failure) {
    try {
      return CompletableFuture.completedFuture(completed(go, value, failure));
    } catch (Error e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** What a stage failed with: the cause a {@link CompletionException} wraps. */
  private static @Nullable Throwable unwrap(@Nullable Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
  }

  /** Where the pipeline left a call before its invoker: admitted, or refused and recorded. */
  private sealed interface Admission permits Admitted, Refused {}

  /**
   * A call every stage before the invoker allowed: what its record needs when the invoker ends.
   */
  private record Admitted(AuditEvent.Builder event, long started, Request request, Decision decision,
      @Nullable Redacted arguments, @Nullable AuditView shown, CallTrace trace) implements Admission {}

  /** A call a stage refused, recorded: its result has no value, so it fits any invoker's type. */
  private record Refused(Refusal refusal, @Nullable Decision decision, String eventId) implements Admission {
    <T> CallResult<T> result() {
      return new CallResult<>(refusal.outcome(), null, refusal, null, decision, eventId);
    }
  }

  /**
   * Runs the pipeline up to the invoker: {@link Refused} when a stage refused the call (and it is
   * recorded), else its {@link Admitted} state.
   */
  private Admission admit(Call call, @Nullable AuditView view) {
    Objects.requireNonNull(call, "call");
    long started = clock.nanoTime();
    SelfTestSlowdown.apply();
    // One read: the whole call is decided by one configuration, even if a reload swaps it now.
    Rules rules = this.rules;
    Request request = call.request();
    AuditEvent.Builder event = AuditEvent.builder()
        .id(AuditIds.next(clock))
        .time(clock.instant())
        .instance(instance)
        .revision(rules.revision())
        .session(call.sessionId(), call.client())
        .requestId(call.requestId())
        .request(request);
    AuditView shown = view;
    CallTrace trace = trace(call);

    if (!call.diagnostics().isEmpty()) {
      event.error("diagnostics", bounded(String.join("; ", call.diagnostics())));
    }
    trace.begin(Stage.DECISION);
    Principal principal = authenticate(call, event);
    if (principal == null) {
      return refused(event, started, request, shown, UNAUTHENTICATED, null, trace, Stage.DECISION);
    }
    event.principal(principal);
    if (call.principalId() != null && !call.principalId().equals(principal.id())) {
      event.error("authentication", "the credentials are another principal's than the session's");
      return refused(event, started, request, shown, UNAUTHENTICATED, null, trace, Stage.DECISION);
    }
    RequestContext context = new RequestContext(
        principal, request, call.sessionId(), call.client(), clock.instant());

    Refusal disabled = killSwitchRefusal(principal, request);
    if (disabled != null) {
      return refused(event, started, request, shown, disabled, null, trace, Stage.DECISION);
    }

    Decision decision = decide(rules.policy(), context, breakGlass.window(principal.id(),
        context.time()));
    event.decision(decision);
    if (!decision.diagnostics().isEmpty()) {
      event.error("policy", bounded(String.join("; ", decision.diagnostics())));
    }
    if (!decision.permits()) {
      return refused(event, started, request, shown,
          Refusal.of(Outcome.DENIED, decision.rules(), decision.reason()), decision, trace, Stage.DECISION);
    }

    if (!audit.admit()) {
      return refused(event, started, request, shown, UNAVAILABLE, decision, trace, Stage.DECISION);
    }
    trace.end(Stage.DECISION, null);

    trace.begin(Stage.LIMIT);
    Refusal limited = acquireLimits(rules.limits(), principal, request, event);
    if (limited != null) {
      return refused(event, started, request, shown, limited, decision, trace, Stage.LIMIT);
    }
    trace.end(Stage.LIMIT, null);

    if (decision.effect() == Effect.CONFIRM) {
      trace.begin(Stage.CONFIRMATION);
      if (call.caller().continues(ApprovalConfirmer.binding(context, rules.revision()))) {
        // The same call, at the same revision, was confirmed when it was forwarded; this request
        // only carries the client's answers to the backend's questions.
        event.decision(new Decision(decision.effect(), decision.rules(), "continues a call confirmed when it"
            + " was forwarded: this request answers the backend's questions", decision.diagnostics()));
      } else {
        Refusal unconfirmed = confirm(context, decision, call.caller(), event);
        if (unconfirmed != null) {
          return refused(event, started, request, shown, unconfirmed, decision, trace, Stage.CONFIRMATION);
        }
      }
      trace.end(Stage.CONFIRMATION, null);
    }

    Redacted arguments = null;
    if (auditMode == AuditMode.DURABLE) {
      trace.begin(Stage.AUDIT);
      arguments = shownArguments(request, shown);
      AuditEvent intent = event
          .arguments(arguments.value(), arguments.digest())
          .outcome(Outcome.PENDING)
          .latency(Duration.ofNanos(clock.nanoTime() - started))
          .build();
      if (!audit.recordDurably(intent)) {
        return refused(event, started, request, shown, UNAVAILABLE, decision, trace, Stage.AUDIT);
      }
      trace.end(Stage.AUDIT, null);
      if (shown != null) {
        arguments = null; // what the view shows may grow as the call runs
      }
    }
    return new Admitted(event, started, request, decision, arguments, shown, trace);
  }

  /**
   * Records a call that was refused before the pipeline could run it (a bound of the engine: too
   * many requests in flight, a request that maps to no backend), so that it has its one audit
   * event like any other. The credentials are authenticated only to name the principal: if they
   * fail, the call is recorded (and returned) as unauthenticated instead.
   */
  public CallResult<Void> refuse(Call call, Refusal refusal) {
    return refuse(call, refusal, null);
  }

  /**
   * Records a refused call like {@link #refuse(Call, Refusal)}, showing in the trail what {@code
   * view} shows instead of the arguments.
   *
   * @param view what the trail shows, or {@code null} for the arguments themselves
   */
  public CallResult<Void> refuse(Call call, Refusal refusal, @Nullable AuditView view) {
    Objects.requireNonNull(call, "call");
    Objects.requireNonNull(refusal, "refusal");
    long started = clock.nanoTime();
    Request request = call.request();
    AuditEvent.Builder event = AuditEvent.builder()
        .id(AuditIds.next(clock))
        .time(clock.instant())
        .instance(instance)
        .revision(rules.revision())
        .session(call.sessionId(), call.client())
        .requestId(call.requestId())
        .request(request);
    CallTrace trace = trace(call);
    trace.begin(Stage.DECISION);
    Principal principal = authenticate(call, event);
    if (principal == null) {
      return refused(event, started, request, view, UNAUTHENTICATED, null, trace, Stage.DECISION).result();
    }
    event.principal(principal);
    return refused(event, started, request, view, refusal, null, trace, Stage.DECISION).result();
  }

  /**
   * What the pipeline would decide for the call through authentication, the kill switch and the
   * policy, without invoking, consuming limits, asking for confirmation or writing the trail.
   */
  public Check check(Call call) {
    Principal principal = authenticate(call, null);
    if (principal == null) {
      return new Check(null, UNAUTHENTICATED);
    }
    Refusal disabled = killSwitchRefusal(principal, call.request());
    if (disabled != null) {
      return new Check(null, disabled);
    }
    RequestContext context = new RequestContext(
        principal, call.request(), call.sessionId(), call.client(), clock.instant());
    Decision decision = decide(rules.policy(), context,
        breakGlass.window(principal.id(), context.time()));
    return new Check(decision, decision.permits()
        ? null
        : Refusal.of(Outcome.DENIED, decision.rules(), decision.reason()));
  }

  /**
   * The authenticator this pipeline authenticates callers with. A transport that authenticated a
   * request with this very authenticator may hand the engine the principal it found ({@link
   * dev.sentinel.api.Transport.Exchange#principal}) instead of the pipeline authenticating again.
   */
  public Authenticator authenticator() {
    return authenticator;
  }

  /**
   * Authenticates credentials, failing closed: an authenticator that throws refuses them.
   */
  public AuthenticationResult authenticate(Credentials credentials) {
    try {
      AuthenticationResult result = authenticator.authenticate(credentials);
      return result != null ? result : AuthenticationResult.failure("authenticator returned null");
    } catch (RuntimeException e) {
      log.warn("authenticator threw {}", e.getClass().getName());
      return AuthenticationResult.failure("authenticator threw " + e.getClass().getName());
    }
  }

  /**
   * Whether a principal may see the request's target in a list ({@code tools/list} and its
   * kin): the kill switch does not disable it and the policy could allow some use of it. Pass the
   * method that would use the target ({@code tools/call} for a tool). Fails closed.
   */
  public boolean visible(Principal principal, Request request) {
    if (killSwitch.check(principal, request) != null) {
      return false;
    }
    try {
      Policy policy = rules.policy();
      RequestContext context = RequestContext.of(principal, request, clock.instant());
      if (policy instanceof PolicyEngine engine
          && breakGlass.window(principal.id(), context.time()) != null
          && engine.visibleBreakGlass(context)) {
        return true;
      }
      return policy.visible(context);
    } catch (RuntimeException e) {
      log.warn("policy visibility check threw {}", e.getClass().getName());
      return false;
    }
  }

  /** The policy in force (the one {@link #reconfigure} last set). */
  public Policy policy() {
    return rules.policy();
  }

  /** The kill switch, to disable and enable targets at run time. */
  public KillSwitch killSwitch() {
    return killSwitch;
  }

  /** The break-glass windows this pipeline reads; {@link BreakGlassWindows#none()} by default. */
  public BreakGlassWindows breakGlass() {
    return breakGlass;
  }

  /** The audit dispatcher, for its statistics. */
  public AuditDispatcher audit() {
    return audit;
  }

  /** The revision of the policy and config in force, as recorded in audit events. */
  public String revision() {
    return rules.revision();
  }

  /**
   * Replaces the policy, the limits and the revision together, as on a config reload. A call
   * reads them once, when it starts: calls in flight finish under the old ones, calls that start
   * after this returns see the new ones, and no call sees a mix. Thread-safe; concurrent
   * reconfigurations are applied in some order, whole.
   *
   * @param revision the revision audit events of calls under the new rules record; not blank
   */
  public void reconfigure(Policy policy, Limits limits, String revision) {
    Objects.requireNonNull(revision, "revision");
    if (revision.isBlank()) {
      throw new IllegalArgumentException("revision must not be blank");
    }
    this.rules = new Rules(Objects.requireNonNull(policy, "policy"),
        Objects.requireNonNull(limits, "limits"), revision);
  }

  /**
   * Replaces the policy, and with it the limits its file declares (on this pipeline's rate
   * limiter) and the revision (the file's), as {@link #reconfigure(Policy, Limits, String)} does.
   * A policy that is not a {@link PolicyEngine} declares no limits.
   */
  public void reconfigure(Policy policy) {
    Objects.requireNonNull(policy, "policy");
    reconfigure(policy, limitsOf(policy, limiter), revisionOf(policy));
  }

  /**
   * Records an event of the gateway itself in the audit trail, beside the calls and chained with
   * them: a signed config bundle applied or refused, a rollback an operator forced. Its revision
   * is the one in force now.
   *
   * @param actor who caused it: an operator, or {@code sentinel} for the gateway itself
   * @param method what happened, named under {@code sentinel/} (such as {@code
   *     sentinel/bundle.apply}) so that it never reads as an MCP method
   * @param subject what it concerns (such as a bundle's digest), or {@code null}
   * @param outcome {@link Outcome#ALLOWED} for what was done, {@link Outcome#DENIED} for what was
   *     refused
   * @param reason the sentence the trail shows
   */
  public void recordEvent(String actor, String method, String subject, Outcome outcome,
      String reason) {
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(reason, "reason");
    if (!Objects.requireNonNull(method, "method").startsWith("sentinel/")) {
      throw new IllegalArgumentException("a gateway event's method starts with sentinel/, got "
          + method);
    }
    audit.record(AuditEvent.builder()
        .id(AuditIds.next(clock))
        .time(clock.instant())
        .instance(instance)
        .revision(rules.revision())
        .principal(Principal.of(actor))
        .request(new Request(method, null, subject, NO_ARGUMENTS.objectNode()))
        .arguments(NO_ARGUMENTS.objectNode(), null)
        .reason(reason)
        .outcome(Objects.requireNonNull(outcome, "outcome"))
        .build());
  }

  /** How many times a listener or the tracer threw. */
  public long listenerFailures() {
    return listenerFailures.get();
  }

  /** Flushes and closes the audit dispatcher. */
  @Override
  public void close() {
    audit.close();
  }

  private @Nullable Principal authenticate(Call call, AuditEvent.@Nullable Builder event) {
    if (call.asserted() != null) {
      return call.asserted();
    }
    AuthenticationResult result = authenticate(call.credentials());
    if (result.authenticated()) {
      return result.principal();
    }
    if (event != null) {
      event.error("authentication", bounded(result.reason()));
    }
    return null;
  }

  private @Nullable Refusal killSwitchRefusal(Principal principal, Request request) {
    KillSwitch.Block block = killSwitch.check(principal, request);
    if (block == null) {
      return null;
    }
    String what;
    switch (block.scope()) {
      case ALL:
        what = "all calls are disabled";
        break;
      case BACKEND:
        what = "backend '" + block.target() + "' is disabled";
        break;
      case TOOL:
        what = "'" + request.name() + "' is disabled";
        break;
      default:
        what = "this principal is disabled";
        break;
    }
    String reason = block.reason() == null || block.reason().isEmpty() ? what : what + ": " + block.reason();
    return Refusal.of(Outcome.DISABLED, List.of("kill-switch"), reason);
  }

  /**
   * The decision inside a break-glass window, or the policy's outside one. Inside, the policy's
   * {@code break_glass:} rules decide if one matches, else its other rules; either way the
   * decision is tagged {@value #BREAK_GLASS} (its last rule) and its reason names the window.
   */
  private static Decision decide(
      Policy policy, RequestContext context, @Nullable BreakGlassWindow window) {
    if (window == null) {
      return decide(policy, context);
    }
    Decision inside = policy instanceof PolicyEngine engine
        ? engine.decideBreakGlass(context) : null;
    Decision base = inside != null ? inside : decide(policy, context);
    List<String> tagged = new ArrayList<>(base.rules().size() + 1);
    tagged.addAll(base.rules());
    tagged.add(BREAK_GLASS);
    return new Decision(base.effect(), tagged, "break-glass window " + window.id()
        + (base.reason().isEmpty() ? "" : ": " + base.reason()), base.diagnostics());
  }

  private static boolean tagged(Decision decision) {
    List<String> rules = decision.rules();
    return !rules.isEmpty() && BREAK_GLASS.equals(rules.get(rules.size() - 1));
  }

  private static Decision decide(Policy policy, RequestContext context) {
    try {
      Decision decision = policy.decide(context);
      return decision != null ? decision : Decision.failure("policy", new NullPointerException("null decision"));
    } catch (RuntimeException e) {
      return Decision.failure("policy", e);
    }
  }

  private @Nullable Refusal acquireLimits(
      Limits limits, Principal principal, Request request, AuditEvent.Builder event) {
    LimitDecision limit;
    try {
      limit = limits.acquire(principal, request);
    } catch (RuntimeException e) {
      event.error("limiter", bounded(e.getClass().getName() + ": " + e.getMessage()));
      return Refusal.of(Outcome.LIMITED, List.of(), "the rate limiter failed; the request was refused");
    }
    event.rateRemaining(limit.remaining());
    if (limit.allowed()) {
      return null;
    }
    return new Refusal(Outcome.LIMITED, limit.limits(), "too many requests", limit.retryAfter());
  }

  private @Nullable Refusal confirm(RequestContext context, Decision decision, Caller caller,
      AuditEvent.Builder event) {
    Confirmation answer;
    try {
      answer = confirmer.confirm(context, decision, caller);
    } catch (RuntimeException e) {
      event.error("confirmer", bounded(e.getClass().getName() + ": " + e.getMessage()));
      answer = null;
    }
    if (answer != null && answer.approved()) {
      if (!answer.reason().isEmpty()) {
        // Who confirmed, in the call's record: the approval and its approvers.
        event.decision(new Decision(decision.effect(), decision.rules(), answer.reason(),
            decision.diagnostics()));
      }
      return null;
    }
    String reason = answer == null ? "the confirmation could not be obtained"
        : answer.reason().isEmpty() ? "the request was not confirmed" : answer.reason();
    return Refusal.of(Outcome.UNCONFIRMED, decision.rules(), reason);
  }

  /**
   * Records how the invoker of an admitted call ended: with {@code value}, or with {@code
   * failure} ({@code null}: it answered). An {@link Error} is recorded as a failure and thrown.
   */
  private <T> CallResult<T> completed(Admitted go, @Nullable T value, @Nullable Throwable failure) {
    AuditEvent.Builder event = go.event;
    CallTrace trace = go.trace;
    Outcome outcome;
    if (failure == null) {
      outcome = Outcome.ALLOWED;
    } else if (failure instanceof RefusedException refused) {
      // the invoker refused before forwarding (a budget the pipeline could not know)
      return refused(event, go.started, go.request, go.shown, refused.refusal(), go.decision, trace, Stage.BACKEND)
          .result();
    } else if (failure instanceof TimeoutException) {
      outcome = Outcome.TIMED_OUT;
    } else if (failure instanceof CancellationException || failure instanceof InterruptedException) {
      outcome = Outcome.CANCELLED;
    } else if (failure instanceof Error error) {
      trace.end(Stage.BACKEND, null);
      event.error(error.getClass().getName(), bounded(error.getMessage()));
      finish(event, go.started, go.request, Outcome.FAILED, go.arguments, go.shown, trace);
      throw error;
    } else {
      outcome = Outcome.FAILED;
    }
    trace.end(Stage.BACKEND, null);
    if (failure != null) {
      event.error(failure.getClass().getName(), bounded(failure.getMessage()));
    }
    AuditView view = go.shown;
    if (view != null) {
      if (view.responseSize() >= 0 && view.responseDigest() != null) {
        event.response(view.responseSize(), view.responseDigest());
      }
    } else if (failure == null && digestResponses && value instanceof JsonNode) {
      // keyed like the arguments' digest: a plain hash of a short answer is a guessable answer
      CanonicalJson.Digest digest = redactor.digestKey().digest((JsonNode) value);
      event.response(digest.size(), digest.digest());
    }
    String id = finish(event, go.started, go.request, outcome, go.arguments, view, trace);
    return new CallResult<>(outcome, value, null, failure, go.decision, id);
  }

  /** A call refused by {@code stage}, which the trace has begun and sees end with the refusal. */
  private Refused refused(AuditEvent.Builder event, long started, Request request,
      @Nullable AuditView view, Refusal given, @Nullable Decision decision, CallTrace trace,
      Stage stage) {
    Refusal refusal = given;
    if (decision != null && tagged(decision) && !given.rules().contains(BREAK_GLASS)) {
      // Refused after the policy (a limit, the audit trail, confirmation): still in the window.
      List<String> rules = new ArrayList<>(given.rules());
      rules.add(BREAK_GLASS);
      refusal = new Refusal(given.outcome(), rules, given.reason(), given.retryAfter());
    }
    trace.end(stage, refusal);
    event.refusal(refusal);
    String id = finish(event, started, request, refusal.outcome(), null, view, trace);
    return new Refused(refusal, decision, id);
  }

  /**
   * The call's trace: the no-op constant without a tracer (no allocation, nothing to inline
   * but empty methods), else the tracer's, guarded so that what it throws never reaches the call.
   */
  private CallTrace trace(Call call) {
    if (tracer == CallTracer.none()) {
      return CallTrace.none();
    }
    return GuardedTrace.start(tracer, call, listenerFailures);
  }

  /**
   * Builds and records the call's one final audit event, then tells the listeners; returns its
   * id. The arguments are redacted here unless the intent record already did it.
   */
  private String finish(AuditEvent.Builder event, long started, Request request, Outcome outcome,
      @Nullable Redacted redacted, @Nullable AuditView view, CallTrace trace) {
    trace.begin(Stage.AUDIT);
    Redacted arguments = redacted != null ? redacted : shownArguments(request, view);
    AuditEvent built = event
        .arguments(arguments.value(), arguments.digest())
        .outcome(outcome)
        .latency(Duration.ofNanos(clock.nanoTime() - started))
        .build();
    audit.record(built);
    for (SentinelListener listener : listeners) {
      try {
        listener.completed(built);
      } catch (RuntimeException e) {
        if (listenerFailures.getAndIncrement() % 1000 == 0) {
          log.warn("a listener threw {}; calls are unaffected", e.getClass().getName(), e);
        }
      }
    }
    trace.end(Stage.AUDIT, null);
    trace.completed(built);
    return built.id();
  }

  /**
   * The arguments as the trail shows them: redacted, or what the view shows (redacted too), with
   * the whole arguments' digest either way. A view that throws shows nothing (observers fail
   * safe).
   */
  private Redacted shownArguments(Request request, @Nullable AuditView view) {
    if (view == null) {
      return redactor.redact(request.arguments());
    }
    CanonicalJson.Digest whole = redactor.digestKey().digest(request.arguments());
    JsonNode shown;
    try {
      shown = view.arguments(request);
    } catch (RuntimeException e) {
      log.warn("an audit view threw {}; the record shows no arguments", e.getClass().getName());
      shown = null;
    }
    Redacted redacted = redactor.redact(shown == null
        ? tools.jackson.databind.node.JsonNodeFactory.instance.objectNode() : shown);
    return new Redacted(redacted.value(), whole.digest(), whole.size());
  }

  /**
   * The key of the trail's digests (arguments and responses), for a caller that digests a
   * response it streams ({@link AuditView#responseDigest()}).
   */
  public dev.sentinel.core.audit.DigestKey digestKey() {
    return redactor.digestKey();
  }

  private @Nullable String bounded(@Nullable String text) {
    if (text == null) {
      return null;
    }
    String redacted = Objects.requireNonNull(redactor.redactText(text), "text redacts to text");
    return redacted.length() <= MAX_ERROR_MESSAGE ? redacted : redacted.substring(0, MAX_ERROR_MESSAGE) + "…";
  }

  /** The limits a policy file declares, on the given limiter; none for other policies. */
  private static Limits limitsOf(Policy policy, RateLimiter limiter) {
    if (policy instanceof PolicyEngine && !((PolicyEngine) policy).limits().isEmpty()) {
      return Limits.of(((PolicyEngine) policy).limits(), limiter);
    }
    return Limits.none();
  }

  private static String revisionOf(Policy policy) {
    return policy instanceof PolicyEngine ? ((PolicyEngine) policy).revision() : "unversioned";
  }

  /**
   * The audit trail of a pipeline built without one: the SLF4J logger {@value
   * #DEFAULT_AUDIT_LOGGER}, if it writes anything. A logger that drops INFO (no SLF4J binding on
   * the class path, or one that silences this logger) would lose every event without a word, so
   * building fails instead and says what to do.
   */
  static AuditDispatcher defaultAudit(Logger logger) {
    if (!logger.isInfoEnabled()) {
      throw new IllegalStateException("no audit sink was given and the default one, the SLF4J logger '"
          + logger.getName() + "', drops INFO events (no SLF4J binding on the class path, or its"
          + " level is above INFO): every audit event would be lost. Pass a sink with"
          + " Sentinel.builder().audit(AuditDispatcher.builder().sink(JsonLinesAuditSink.open(path))"
          + ".build()), or add an SLF4J binding that writes this logger");
    }
    return AuditDispatcher.builder().sink(Slf4jAuditSink.create(logger.getName())).build();
  }

  /** The gateway instance this pipeline's audit records name (the builder's {@code instance}). */
  public String instance() {
    return instance;
  }

  /** What a reload swaps, whole: the policy, the limits and the revision they are recorded as. */
  private record Rules(Policy policy, Limits limits, String revision) {}

  /**
   * Assembles a {@link Sentinel}. Each setter validates at once. Not thread-safe; the built
   * instance is.
   */
  public static final class Builder {
    private @Nullable Authenticator authenticator;
    private Policy policy = Policy.denyAll();
    private @Nullable Limits limits;
    private @Nullable RateLimiter limiter;
    private KillSwitch killSwitch = KillSwitch.create();
    private BreakGlassWindows breakGlass = BreakGlassWindows.none();
    private Confirmer confirmer = Confirmer.rejectAll();
    private @Nullable AuditDispatcher audit;
    private AuditMode auditMode = AuditMode.ASYNC;
    private Redactor redactor = Redactor.defaults();
    private Clock clock = Clock.system();
    private String instance = defaultInstance();
    private @Nullable String revision;
    private boolean digestResponses = true;
    private final List<SentinelListener> listeners = new ArrayList<>();
    private CallTracer tracer = CallTracer.none();

    private Builder() {}

    /**
     * How callers are authenticated: {@link Authenticator#fixed} for a single embedded identity.
     * Without one, only calls that name their principal ({@link Call#as}) are served; the others
     * are refused as unauthenticated.
     */
    public Builder authenticator(Authenticator authenticator) {
      this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
      return this;
    }

    /**
     * The policy; without one every request is denied. The limits a policy file declares
     * ({@link PolicyEngine#limits()}) are applied unless {@link #limits} sets others.
     */
    public Builder policy(Policy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * The rate limits, replacing those of the policy file. By default the policy file's, on the
     * {@link #rateLimiter}; none for a policy that is not a {@link PolicyEngine}.
     */
    public Builder limits(Limits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * Where the policy file's limits keep their buckets: a shared store (such as the database
     * limiter of sentinel-jdbc) so that several processes share them; by default a {@link
     * LocalRateLimiter} on this builder's clock. Not used when {@link #limits} is set.
     */
    public Builder rateLimiter(RateLimiter limiter) {
      this.limiter = Objects.requireNonNull(limiter, "limiter");
      return this;
    }

    /** The kill switch; a new, empty one by default. */
    public Builder killSwitch(KillSwitch killSwitch) {
      this.killSwitch = Objects.requireNonNull(killSwitch, "killSwitch");
      return this;
    }

    /**
     * The break-glass windows: a principal's calls inside its open window are decided first by
     * the policy's {@code break_glass:} rules and tagged {@value Sentinel#BREAK_GLASS}. None by
     * default.
     */
    public Builder breakGlass(BreakGlassWindows windows) {
      this.breakGlass = Objects.requireNonNull(windows, "windows");
      return this;
    }

    /** Who confirms requests the policy marks CONFIRM; by default they are refused. */
    public Builder confirmer(Confirmer confirmer) {
      this.confirmer = Objects.requireNonNull(confirmer, "confirmer");
      return this;
    }

    /**
     * Where audit events go; the built {@link Sentinel} owns it and closes it. By default, an
     * SLF4J sink on logger {@code dev.sentinel.audit}, if that logger writes INFO ({@link #build}
     * fails otherwise, rather than lose every event).
     */
    public Builder audit(AuditDispatcher audit) {
      this.audit = Objects.requireNonNull(audit, "audit");
      return this;
    }

    /**
     * When a forwarded call's record is written: {@link AuditMode#ASYNC} (the default) or {@link
     * AuditMode#DURABLE}, which commits an intent record before forwarding and needs a durable
     * sink in the dispatcher ({@link #build} fails otherwise).
     */
    public Builder auditMode(AuditMode auditMode) {
      this.auditMode = Objects.requireNonNull(auditMode, "auditMode");
      return this;
    }

    /**
     * How arguments are redacted for the trail, and the key of the arguments' and responses'
     * digests ({@link Redactor#digestKey()}); {@link Redactor#defaults()} by default.
     */
    public Builder redactor(Redactor redactor) {
      this.redactor = Objects.requireNonNull(redactor, "redactor");
      return this;
    }

    /** The clock; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** This instance's name in audit events; {@code pid-host} by default. */
    public Builder instance(String instance) {
      Objects.requireNonNull(instance, "instance");
      if (instance.isBlank()) {
        throw new IllegalArgumentException("instance must not be blank");
      }
      this.instance = instance;
      return this;
    }

    /** The config revision recorded in audit events; by default the policy file's revision. */
    public Builder revision(String revision) {
      this.revision = Objects.requireNonNull(revision, "revision");
      return this;
    }

    /**
     * Whether JSON results are sized and digested (keyed, with the redactor's key) for the trail;
     * on by default.
     */
    public Builder digestResponses(boolean digestResponses) {
      this.digestResponses = digestResponses;
      return this;
    }

    /**
     * The tracer that observes each call's stages as they run (sentinel-otel's OpenTelemetry
     * spans); {@link CallTracer#none()}, the default, costs the calls nothing.
     */
    public Builder tracer(CallTracer tracer) {
      this.tracer = Objects.requireNonNull(tracer, "tracer");
      return this;
    }

    /** Adds an observer of completed calls. */
    public Builder listener(SentinelListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Builds the pipeline.
     *
     * @throws IllegalStateException if the audit mode is DURABLE and the dispatcher has no durable
     *     sink, or if no audit dispatcher was given and the default one would drop every event
     */
    public Sentinel build() {
      return new Sentinel(this);
    }

    /**
     * {@code pid-host}: the JVM's name ({@code RuntimeMXBean.getName()}, {@code pid@host}) with
     * {@code -} for {@code @}, made without the management beans, which cost a stdio gateway's
     * start some 80 classes.
     */
    private static String defaultInstance() {
      String host = "localhost"; // as the JVM names itself when the host has no name
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        // keep localhost
      }
      return ProcessHandle.current().pid() + "-" + host;
    }
  }
}
