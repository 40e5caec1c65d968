package dev.sentinel.api;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * The record of one governed request, whatever its outcome. Sentinel writes exactly one per
 * request that reaches the pipeline.
 *
 * <p>Arguments are stored redacted (secrets replaced) and bounded in size; {@code
 * argumentsDigest} is a keyed digest (HMAC-SHA256) of the whole original value, so that whoever
 * holds the key can match a full copy held elsewhere to the record, while the digest reveals
 * nothing of a redacted secret to anyone else, however guessable the secret.
 *
 * @param id a unique id (a time-ordered UUID)
 * @param time when the request arrived
 * @param instance the gateway instance that handled it, or {@code null} when the builder was not
 *     given one
 * @param principal the caller's id, or {@code null} when authentication failed
 * @param roles the caller's directly granted roles
 * @param session the MCP session id, or {@code null}
 * @param client the client's announced name and version, or {@code null}
 * @param requestId the JSON-RPC request id as text, or {@code null}
 * @param method the MCP method
 * @param backend the addressed backend, or {@code null}
 * @param name the tool or prompt name or resource URI, or {@code null}
 * @param arguments the redacted, size-bounded arguments
 * @param argumentsDigest the keyed digest of the original arguments' canonical JSON, {@code
 *     hmac-sha256:<key id>:<hex>}; {@code null} for the gateway's own events ({@code sentinel/*}
 *     methods, such as a dropped stream or a bundle applied), which carry no arguments
 * @param effect the policy's effect, or {@code null} when the request never reached the policy
 * @param rules the ids of the deciding rules or limits
 * @param reason the refusal or decision reason, or empty
 * @param rateRemaining tokens left in the tightest applicable limit, or {@code -1} when no limit
 *     applied
 * @param retryAfter the wait a refused caller was given; zero otherwise
 * @param outcome how the request ended
 * @param errorClass the class of the failure for {@code FAILED}, or {@code null}
 * @param errorMessage a redacted, bounded failure message, or {@code null}
 * @param latency time from arrival to outcome
 * @param responseSize bytes of the response, or {@code -1} when there was none
 * @param responseDigest the response's keyed digest, as {@code argumentsDigest}, or {@code null}
 * @param revision the revision of the policy and config in force, or {@code null} when the
 *     builder was not given one
 */
public record AuditEvent(
    String id,
    Instant time,
    @Nullable String instance,
    @Nullable String principal,
    List<String> roles,
    @Nullable String session,
    @Nullable String client,
    @Nullable String requestId,
    String method,
    @Nullable String backend,
    @Nullable String name,
    JsonNode arguments,
    @Nullable String argumentsDigest,
    @Nullable Effect effect,
    List<String> rules,
    String reason,
    long rateRemaining,
    Duration retryAfter,
    Outcome outcome,
    @Nullable String errorClass,
    @Nullable String errorMessage,
    Duration latency,
    long responseSize,
    @Nullable String responseDigest,
    @Nullable String revision) {

  /** Validates and copies. */
  public AuditEvent {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(arguments, "arguments");
    roles = List.copyOf(roles);
    rules = List.copyOf(rules);
    reason = reason == null ? "" : reason;
    retryAfter = retryAfter == null ? Duration.ZERO : retryAfter;
    latency = latency == null ? Duration.ZERO : latency;
  }

  /** A builder with empty lists and no limit, response or error. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Builds an {@link AuditEvent}; not thread-safe. Unset optional fields take the defaults
   * documented on the record.
   */
  public static final class Builder {
    private @Nullable String id;
    private @Nullable Instant time;
    private @Nullable String instance;
    private @Nullable String principal;
    private List<String> roles = List.of();
    private @Nullable String session;
    private @Nullable String client;
    private @Nullable String requestId;
    private @Nullable String method;
    private @Nullable String backend;
    private @Nullable String name;
    private @Nullable JsonNode arguments;
    private @Nullable String argumentsDigest;
    private @Nullable Effect effect;
    private List<String> rules = List.of();
    private String reason = "";
    private long rateRemaining = -1;
    private Duration retryAfter = Duration.ZERO;
    private @Nullable Outcome outcome;
    private @Nullable String errorClass;
    private @Nullable String errorMessage;
    private Duration latency = Duration.ZERO;
    private long responseSize = -1;
    private @Nullable String responseDigest;
    private @Nullable String revision;

    private Builder() {}

    /** Sets {@link AuditEvent#id()}. */
    public Builder id(String id) {
      this.id = id;
      return this;
    }

    /** Sets {@link AuditEvent#time()}. */
    public Builder time(Instant time) {
      this.time = time;
      return this;
    }

    /** Sets {@link AuditEvent#instance()}. */
    public Builder instance(String instance) {
      this.instance = instance;
      return this;
    }

    /** Sets {@link AuditEvent#principal()} and {@link AuditEvent#roles()}. */
    public Builder principal(Principal principal) {
      this.principal = principal.id();
      this.roles = List.copyOf(new java.util.TreeSet<>(principal.roles()));
      return this;
    }

    /** Sets {@link AuditEvent#session()} and {@link AuditEvent#client()}. */
    public Builder session(@Nullable String session, @Nullable String client) {
      this.session = session;
      this.client = client;
      return this;
    }

    /** Sets {@link AuditEvent#requestId()}. */
    public Builder requestId(@Nullable String requestId) {
      this.requestId = requestId;
      return this;
    }

    /** Sets the method, backend and name from a request. */
    public Builder request(Request request) {
      this.method = request.method();
      this.backend = request.backend();
      this.name = request.name();
      return this;
    }

    /** Sets {@link AuditEvent#arguments()} and {@link AuditEvent#argumentsDigest()}. */
    public Builder arguments(JsonNode redacted, @Nullable String digest) {
      this.arguments = redacted;
      this.argumentsDigest = digest;
      return this;
    }

    /** Sets the effect, rules and reason from a decision. */
    public Builder decision(Decision decision) {
      this.effect = decision.effect();
      this.rules = decision.rules();
      this.reason = decision.reason();
      return this;
    }

    /** Sets {@link AuditEvent#reason()}: what the trail shows of why. */
    public Builder reason(String reason) {
      this.reason = reason;
      return this;
    }

    /** Sets the rules and reason from a refusal, and its retry hint. */
    public Builder refusal(Refusal refusal) {
      this.rules = refusal.rules();
      this.reason = refusal.reason();
      this.retryAfter = refusal.retryAfter();
      return this;
    }

    /** Sets {@link AuditEvent#rateRemaining()}. */
    public Builder rateRemaining(long rateRemaining) {
      this.rateRemaining = rateRemaining;
      return this;
    }

    /** Sets {@link AuditEvent#outcome()}. */
    public Builder outcome(Outcome outcome) {
      this.outcome = outcome;
      return this;
    }

    /** Sets {@link AuditEvent#errorClass()} and {@link AuditEvent#errorMessage()}. */
    public Builder error(@Nullable String errorClass, @Nullable String errorMessage) {
      this.errorClass = errorClass;
      this.errorMessage = errorMessage;
      return this;
    }

    /** Sets {@link AuditEvent#latency()}. */
    public Builder latency(Duration latency) {
      this.latency = latency;
      return this;
    }

    /** Sets {@link AuditEvent#responseSize()} and {@link AuditEvent#responseDigest()}. */
    public Builder response(long size, @Nullable String digest) {
      this.responseSize = size;
      this.responseDigest = digest;
      return this;
    }

    /** Sets {@link AuditEvent#revision()}. */
    public Builder revision(String revision) {
      this.revision = revision;
      return this;
    }

    /** Builds the event; id, time, method, arguments and outcome are required. */
    // The record's constructor rejects a missing id, time, method, arguments or outcome.
    @SuppressWarnings("NullAway")
    public AuditEvent build() {
      return new AuditEvent(id, time, instance, principal, roles, session, client, requestId,
          method, backend, name, arguments, argumentsDigest, effect, rules, reason, rateRemaining,
          retryAfter, outcome, errorClass, errorMessage, latency, responseSize, responseDigest,
          revision);
    }
  }
}
