package dev.sentinel.runner.http.llm;

import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.AuditView;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditMode;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.limit.LocalRateLimiter;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.core.llm.LlmApi;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.llm.LlmUpstream;
import dev.sentinel.core.llm.ModelAlias;
import dev.sentinel.core.llm.ModelRequest;
import dev.sentinel.core.llm.PassthroughPaths;
import dev.sentinel.core.llm.TokenBudgets;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Invocable;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.MissingNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The LLM endpoints of {@code sentinel http} under {@code /v1}: OpenAI's chat completions,
 * embeddings and models, Anthropic's messages and count_tokens. Answers only {@code /v1} paths,
 * and only when the config has an {@code llm:} section; everything else passes to the next
 * handler.
 *
 * <p>Checks run cheapest and least revealing first: Host, Origin, credentials (the MCP
 * endpoint's: {@code Authorization: Bearer}, {@code X-API-Key}, which is also Anthropic's
 * {@code x-api-key}), the route and method, the body's size and JSON, the model (aliases resolved
 * for the caller); then the request is one governed call (kill switch, policy, limits, audit)
 * whose invoker reserves token budgets and forwards ({@link UpstreamCall}): {@link
 * Sentinel#callAsync} for a whole answer, which no thread waits for (the handler returns once the
 * request is sent upstream, and the answer is written from the upstream client's completion),
 * {@link Sentinel#call} for a stream and a passed-through path. Every request
 * past authentication leaves one audit record, refused or not. Refusals are in the API's own
 * error shape, with {@code Retry-After} on 429.
 *
 * <p>A Jetty {@code NON_BLOCKING} handler: no thread waits for a request's body ({@link
 * BodyRead}) or for a whole answer, so Jetty may call it on its selector thread, and a whole
 * answer is then decided and sent upstream without a hand-off to a pool thread. What may wait runs
 * on the server's pool instead, dispatched explicitly: a stream (written event by event), a
 * passed-through path (its body streamed upstream), and every request of a config whose decisions
 * may wait ({@link #decisionsMayWait}: durable audit, limits or keys in a database over the
 * network or Redis, JWTs whose signing keys may be fetched, confirm rules). Thread-safe.
 */
public final class LlmHandler extends Handler.Abstract {
  private static final Logger log = LoggerFactory.getLogger(LlmHandler.class);
  /** How much of a refused, too large body is read and dropped so that its 413 arrives. */
  private static final long DRAIN_BYTES = 1024 * 1024;
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String UNAUTHENTICATED = "missing or invalid credentials";
  private static final String SEVERAL_CREDENTIALS =
      "present one credential, in Authorization or in X-API-Key, not several";
  /** The method under which requests the route refuses before the pipeline are recorded. */
  static final String REFUSED_METHOD = "llm/request";
  /** Arguments of a request that has none: {@link Request} makes them its empty object. */
  private static final JsonNode NO_ARGUMENTS = MissingNode.getInstance();

  private final GatewayRuntime runtime;
  private final Authenticator authenticator;
  private final Function<HttpFields, @Nullable Credentials> credentials;
  private final Predicate<String> hostAllowed;
  private final Predicate<String> originAllowed;
  private final @Nullable BooleanSupplier draining;
  private final LlmMetrics metrics;
  private final HttpClient client;
  /** The targets of the settings last served; replaced when a reload brings new settings. */
  private volatile @Nullable Targets targets;
  /** Whether the config last served decides on what may wait; replaced when a reload brings another. */
  private volatile @Nullable MayWait mayWait;

  /** Whether deciding a request of this config may wait: see {@link #decisionsMayWait}. */
  private record MayWait(GatewayConfig config, boolean value) {}

  private LlmHandler(Builder builder) {
    super(InvocationType.NON_BLOCKING);
    this.runtime = Objects.requireNonNull(builder.runtime, "runtime");
    this.authenticator = Objects.requireNonNull(builder.authenticator, "authenticator");
    this.credentials = Objects.requireNonNull(builder.credentials, "credentials");
    this.hostAllowed = Objects.requireNonNull(builder.hostAllowed, "hostAllowed");
    this.originAllowed = Objects.requireNonNull(builder.originAllowed, "originAllowed");
    this.draining = builder.draining;
    this.metrics = new LlmMetrics(builder.registry);
    this.client = new HttpClient();
    client.setFollowRedirects(false);
    // One client serves every principal: a cookie an upstream sets in one caller's answer (a CDN's
    // session cookie, say) must never ride along on another caller's request.
    client.setHttpCookieStore(new org.eclipse.jetty.http.HttpCookieStore.Empty());
    client.setConnectTimeout(connectTimeout(runtime.config().llm()).toMillis());
    client.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, "sentinel"));
    client.setMaxConnectionsPerDestination(256);
    // Every listener of an upstream answer only completes a future or releases a semaphore: the
    // client's selector thread may run them itself instead of handing each answer to a pool
    // thread first (one hand-off less per request).
    client.getTransport().setInvocationType(Invocable.InvocationType.NON_BLOCKING);
    // Started and stopped with the server.
    addBean(client);
  }

  /** A builder; runtime, authenticator, credentials and the guard are required. */
  public static Builder builder() {
    return new Builder();
  }

  private static Duration connectTimeout(LlmSettings settings) {
    Duration longest = LlmUpstream.DEFAULT_CONNECT_TIMEOUT;
    for (LlmUpstream upstream : settings.upstreams()) {
      if (upstream.connectTimeout().compareTo(longest) > 0) {
        longest = upstream.connectTimeout();
      }
    }
    return longest;
  }

  @Override
  public boolean handle(org.eclipse.jetty.server.Request request, Response response,
      Callback callback) {
    String path = org.eclipse.jetty.server.Request.getPathInContext(request);
    if (!path.equals("/v1") && !path.startsWith("/v1/")) {
      return false;
    }
    LlmSettings settings = runtime.config().llm();
    if (!settings.enabled()) {
      return false;
    }
    LlmRoute route = LlmRoute.of(path);
    LlmApi api = route != null ? route.api() : path.startsWith("/v1/messages") ? LlmApi.ANTHROPIC
        : LlmApi.OPENAI;
    Exchange exchange = new Exchange(request, response, callback, api, route,
        request.getComponents().getExecutor());
    if (decisionsMayWait()) {
      exchange.blocking(() -> serve(exchange, settings, path));
    } else {
      exchange.guarded(() -> serve(exchange, settings, path));
    }
    return true;
  }

  /**
   * Whether deciding a request may wait on this config, so that it must not be decided on a
   * thread that may not block: the audit is durable (the record is committed before forwarding),
   * limits or keys are in a database over the network or in Redis, bearer tokens are JWTs whose
   * signing keys may be fetched, or a {@code confirm} rule may wait for an operator. Keys in the
   * embedded SQLite file are read from the key store's cache, and from the file (a local read)
   * at most every few seconds per key.
   */
  private boolean decisionsMayWait() {
    GatewayConfig config = runtime.config();
    MayWait last = mayWait;
    if (last != null && last.config() == config) {
      return last.value();
    }
    boolean value = decisionsMayWait(config, runtime.rateLimiter() instanceof LocalRateLimiter);
    mayWait = new MayWait(config, value);
    return value;
  }

  /** {@link #decisionsMayWait()} for a config, given whether its limits are kept in memory. */
  static boolean decisionsMayWait(GatewayConfig config, boolean localLimits) {
    return config.audit().mode() == AuditMode.DURABLE
        || !localLimits
        || !config.database().sqlite()
        || config.server().jwt().isPresent()
        || config.policy().confirms();
  }

  private void serve(Exchange exchange, LlmSettings settings, String path) {
    org.eclipse.jetty.server.Request request = exchange.request;
    HttpFields headers = request.getHeaders();
    String host = headers.get(HttpHeader.HOST);
    if (!hostAllowed.test(host != null ? host : request.getHttpURI().getAuthority())) {
      exchange.error(403, "forbidden: Host not allowed", null);
      return;
    }
    String origin = headers.get(HttpHeader.ORIGIN);
    if (origin != null && !originAllowed.test(origin)) {
      exchange.error(403, "forbidden: Origin not allowed", null);
      return;
    }
    Credentials presented;
    try {
      presented = credentials.apply(headers);
    } catch (IllegalArgumentException several) {
      exchange.error(400, SEVERAL_CREDENTIALS, null);
      return;
    }
    Principal principal = presented == null ? null : authenticate(presented);
    if (principal == null) {
      // Logged as the MCP endpoint does, not audited: an unauthenticated flood must not fill the
      // trail. Generic: which part of a credential was wrong helps only whoever is guessing.
      log.info("refused a model request from {}:{}: {}",
          org.eclipse.jetty.server.Request.getRemoteAddr(request),
          org.eclipse.jetty.server.Request.getRemotePort(request), UNAUTHENTICATED);
      exchange.response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"sentinel\"");
      exchange.error(401, UNAUTHENTICATED, null);
      return;
    }
    if (draining != null && draining.getAsBoolean()) {
      exchange.error(503, "the gateway is shutting down", null);
      return;
    }
    LlmRoute route = exchange.route;
    if (route == null) {
      LlmUpstream upstream = settings.passthrough(path);
      if (upstream == null) {
        record(presented, exchange, settings, null, "not-served", "the path " + bounded(path)
            + " is not served", 404);
        return;
      }
      Exchange passed = exchange.as(upstream.api());
      // Its body is streamed upstream and its answer back, each by a thread that waits.
      passed.blocking(() -> passthrough(presented, principal, passed, settings, upstream, path));
      return;
    }
    if (route.get() != "GET".equals(request.getMethod())) {
      exchange.response.getHeaders().put(HttpHeader.ALLOW, route.get() ? "GET" : "POST");
      exchange.error(405, "method not allowed: use " + (route.get() ? "GET" : "POST"), null);
      return;
    }
    if (route == LlmRoute.MODELS) {
      models(exchange, settings, principal);
      return;
    }
    long length = request.getLength();
    if (length > settings.maxBodyBytes()) {
      tooLarge(presented, exchange, settings);
      return;
    }
    BodyRead.collect(request, settings.maxBodyBytes(), exchange.invocationType(),
        new BodyRead.Done() {
          @Override
          public void body(byte[] bytes) {
            exchange.bodyRead = true;
            exchange.guarded(() -> decide(exchange, settings, route, presented, principal, bytes));
          }

          @Override
          public void tooLarge() {
            exchange.guarded(() -> LlmHandler.this.tooLarge(presented, exchange, settings));
          }

          @Override
          public void timedOut() {
            exchange.response.getHeaders().put(HttpHeader.CONNECTION, "close");
            exchange.guarded(() -> record(presented, exchange, settings, null, "body-timeout",
                "the request body stopped arriving before it was whole", 408));
          }

          @Override
          public void cut(Throwable cause) {
            // No one to answer: recorded for the trail, and the exchange ends failed.
            exchange.guarded(() -> {
              recordOnly(presented, exchange, settings, "body-incomplete",
                  "the request body was cut before it was whole");
              exchange.callback.failed(cause);
            });
          }
        });
  }

  /** Decides and forwards a request whose body was read. */
  private void decide(Exchange exchange, LlmSettings settings, LlmRoute route,
      Credentials presented, Principal principal, byte[] body) {
    HttpFields headers = exchange.request.getHeaders();
    ModelRequest parsed;
    try {
      parsed = ModelRequest.parse(body);
    } catch (ModelRequest.Invalid invalid) {
      record(presented, exchange, settings, null, "invalid-request",
          Objects.requireNonNull(invalid.getMessage(), "an invalid request says why"), 400,
          invalid.param());
      return;
    }
    String asked = parsed.model();
    String model = settings.resolve(asked, principal.roles());
    LlmUpstream upstream = model == null ? null : settings.upstream(route.api(), model);
    if (model == null || upstream == null) {
      String reason = model == null
          ? "the model alias '" + bounded(asked) + "' maps to no model for this caller"
          : "the model '" + bounded(model) + "' is not served on " + route.path();
      record(presented, exchange, settings, parsed, "unknown-model", reason, 404, "model");
      return;
    }
    ModelRequest forwarded = parsed.withModel(model);
    boolean inject = route == LlmRoute.CHAT_COMPLETIONS && forwarded.stream()
        && !forwarded.includesUsage();
    if (inject) {
      forwarded = forwarded.withIncludeUsage();
    }
    Sentinel sentinel = runtime.sentinel();
    TokenBudgets budgets = TokenBudgets.of(settings.budgets(), runtime.rateLimiter());
    Targets targets = targets(settings);
    UpstreamCall call = new UpstreamCall(client, targets.url(upstream, route), route, upstream,
        settings, forwarded, asked, inject, headers, exchange.response,
        ClientWatch.of(exchange.request), principal, budgets, sentinel.digestKey());
    String method =
        Objects.requireNonNull(route.method(), "every route but MODELS governs a method");
    Request governed = new Request(method, upstream.name(), model, forwarded.json());
    Call governedCall = new Call(presented, governed, null, headers.get(HttpHeader.USER_AGENT),
        null, principal.id(), List.of(),
        authenticator == sentinel.authenticator() ? principal : null);
    if (forwarded.stream()) {
      // A stream is written event by event by the thread that reads it from the upstream.
      exchange.blocking(() -> ended(exchange, route, model, targets, call,
          sentinel.call(governedCall, call, call)));
      return;
    }
    // No thread waits for a whole answer: the call ends, is recorded and answered from the
    // upstream client's completion; the handler returns now.
    sentinel.callAsync(governedCall, call::start, call).whenComplete((result, error) -> {
      try {
        if (error instanceof Error e) {
          throw e; // recorded as failed by the pipeline; the answer is ours to end
        }
        if (error != null) {
          throw new IllegalStateException(error);
        }
        ended(exchange, route, model, targets, call, result);
      } catch (RuntimeException | Error e) {
        log.warn("answering a model request failed", e);
        if (!exchange.response.isCommitted()) {
          exchange.error(500, "internal error", null);
        } else {
          exchange.callback.failed(e);
        }
      }
    });
  }

  /** Counts a governed call that ended and answers what its invoker did not. */
  private void ended(Exchange exchange, LlmRoute route, String model, Targets targets,
      UpstreamCall call, CallResult<Integer> result) {
    metrics.request(route.name().toLowerCase(Locale.ROOT), model, targets.served(),
        result.outcome().name().toLowerCase(Locale.ROOT));
    metrics.tokens(model, targets.served(), call.usage().input(), call.usage().output());
    metrics.timeToFirstToken(call.ttftNanos());
    if (result.refusal() != null) {
      refused(exchange, result.refusal());
      return;
    }
    if (result.outcome() == Outcome.CANCELLED) {
      exchange.callback.failed(new CancellationException("the client went away"));
      return;
    }
    if (!exchange.response.isCommitted()) {
      // The invoker answers; one that failed before answering leaves it to us.
      exchange.error(result.outcome() == Outcome.TIMED_OUT ? 504 : 502,
          "the upstream request failed", null);
      return;
    }
    exchange.callback.succeeded();
  }

  /**
   * A request for a path an upstream passes through: checked to be canonical (the path the
   * policy decides is the path forwarded, byte for byte), governed as {@code llm/passthrough}
   * named by the path, then streamed both ways ({@link PassthroughCall}).
   */
  private void passthrough(Credentials presented, Principal principal, Exchange exchange,
      LlmSettings settings, LlmUpstream upstream, String path) {
    org.eclipse.jetty.server.Request request = exchange.request;
    String raw = request.getHttpURI().getPath();
    String problem = PassthroughPaths.problem(raw);
    if (problem == null && !raw.equals(path)) {
      problem = "the path must be given as it is forwarded, without encoding or dot segments";
    }
    if (problem != null) {
      record(presented, exchange, settings, null, "invalid-path", problem, 400);
      return;
    }
    String query = request.getHttpURI().getQuery();
    URI target;
    try {
      target = new URI(upstream.url(path.substring("/v1".length())).toString()
          + (query == null ? "" : "?" + query));
      if (!java.util.Objects.equals(target.getRawQuery(), query)) {
        throw new URISyntaxException(query, "changed");
      }
    } catch (URISyntaxException | IllegalArgumentException e) {
      record(presented, exchange, settings, null, "invalid-path",
          "the query is not a valid URI query", 400);
      return;
    }
    String method = request.getMethod();
    if (!PassthroughCall.passes(method)) {
      exchange.response.getHeaders().put(HttpHeader.ALLOW, "GET, POST, DELETE");
      record(presented, exchange, settings, null, "method-not-allowed", "method not allowed:"
          + " passed-through paths take GET, POST and DELETE", 405);
      return;
    }
    if (request.getLength() > settings.maxBodyBytes()) {
      tooLarge(presented, exchange, settings);
      return;
    }
    Sentinel sentinel = runtime.sentinel();
    HttpFields headers = request.getHeaders();
    PassthroughCall call = new PassthroughCall(client, upstream, method, path, query, target,
        request, exchange.response, ClientWatch.of(request), settings.maxBodyBytes(),
        clientCheck(settings), sentinel.digestKey());
    Request governed = new Request(Request.LLM_PASSTHROUGH, upstream.name(), path,
        PassthroughCall.arguments(method, path, query, headers.get(HttpHeader.CONTENT_TYPE),
            request.getLength()));
    CallResult<Integer> result = sentinel.call(
        new Call(presented, governed, null, headers.get(HttpHeader.USER_AGENT), null,
            principal.id(), List.of(), authenticator == sentinel.authenticator() ? principal : null),
        call, call);
    metrics.request("passthrough", null, Set.of(),
        result.outcome().name().toLowerCase(Locale.ROOT));
    if (result.refusal() != null) {
      if (result.refusal().rules().contains("body-too-large")) {
        exchange.response.getHeaders().put(HttpHeader.CONNECTION, "close");
        exchange.error(413, result.refusal().message(), null);
        return;
      }
      refused(exchange, result.refusal());
      return;
    }
    if (call.answered()) {
      exchange.callback.succeeded();
      return;
    }
    if (!exchange.response.isCommitted()) {
      exchange.error(result.outcome() == Outcome.TIMED_OUT ? 504 : 502,
          "the upstream request failed", null);
      return;
    }
    // Failed or cancelled midway: the answer must not end as if it were whole.
    exchange.callback.failed(new CancellationException("the passed-through answer was cut"));
  }

  /** How often a request waiting on its upstream looks whether its client is still there. */
  static Duration clientCheck(LlmSettings settings) {
    return settings.keepAlive().compareTo(UpstreamCall.CLIENT_CHECK) < 0 ? settings.keepAlive()
        : UpstreamCall.CLIENT_CHECK;
  }

  /** The authenticated principal, or null when the credentials are refused. */
  private @Nullable Principal authenticate(Credentials presented) {
    try {
      AuthenticationResult result = authenticator.authenticate(presented);
      return result != null && result.authenticated() ? result.principal() : null;
    } catch (RuntimeException e) {
      log.warn("the authenticator threw {}; the request is refused", e.getClass().getName());
      return null;
    }
  }

  private Targets targets(LlmSettings settings) {
    Targets last = targets;
    Targets now = Targets.of(settings, last);
    if (now != last) {
      targets = now;
    }
    return now;
  }

  private void tooLarge(Credentials presented, Exchange exchange, LlmSettings settings) {
    // A client still sending a body a little over the limit reads the 413 once the rest is read
    // and dropped: closing with its bytes unread resets the connection and loses the answer. A
    // body more than DRAIN_BYTES over is not read. Either way the connection closes after it.
    exchange.response.getHeaders().put(HttpHeader.CONNECTION, "close");
    Runnable answer = () -> exchange.guarded(() -> record(presented, exchange, settings, null,
        "body-too-large", "the body is larger than " + settings.maxBodyBytes()
            + " bytes (llm.max_body_bytes)", 413));
    long declared = exchange.request.getLength();
    if (declared < 0 || declared - settings.maxBodyBytes() <= DRAIN_BYTES) {
      BodyRead.drain(exchange.request, DRAIN_BYTES, exchange.invocationType(), answer);
    } else {
      answer.run();
    }
  }

  private void record(Credentials presented, Exchange exchange, LlmSettings settings,
      @Nullable ModelRequest parsed, String rule, String reason, int status) {
    record(presented, exchange, settings, parsed, rule, reason, status, null);
  }

  /**
   * Records a request refused before the pipeline (bad input, unknown model or path), so that the
   * trail is complete, and answers it.
   */
  private void record(Credentials presented, Exchange exchange, LlmSettings settings,
      @Nullable ModelRequest parsed, String rule, String reason, int status,
      @Nullable String param) {
    recordOnly(presented, exchange, settings, parsed, rule, reason);
    exchange.error(status, reason, param);
  }

  private void recordOnly(Credentials presented, Exchange exchange, LlmSettings settings,
      String rule, String reason) {
    recordOnly(presented, exchange, settings, null, rule, reason);
  }

  /** Records a request refused before the pipeline, without answering it. */
  private void recordOnly(Credentials presented, Exchange exchange, LlmSettings settings,
      @Nullable ModelRequest parsed, String rule, String reason) {
    String path = org.eclipse.jetty.server.Request.getPathInContext(exchange.request);
    String method = exchange.route == null ? null : exchange.route.method();
    Request request = new Request(method != null ? method : REFUSED_METHOD, null,
        parsed == null ? null : bounded(parsed.model()), NO_ARGUMENTS);
    AuditView view = ignored -> {
      ObjectNode shown = JsonNodeFactory.instance.objectNode().put("route", bounded(path));
      if (parsed != null) {
        shown.put("model_requested", bounded(parsed.model()));
        shown.set("request", parsed.summary());
        if (settings.auditBodies() == LlmSettings.AuditBodies.REDACTED) {
          shown.set("body", parsed.json());
        }
      }
      return shown;
    };
    runtime.sentinel().refuse(new Call(presented, request, null,
        exchange.request.getHeaders().get(HttpHeader.USER_AGENT), null),
        Refusal.of(Outcome.DENIED, List.of(rule), reason), view);
    metrics.request(exchange.route == null ? "other" : exchange.route.name().toLowerCase(Locale.ROOT),
        null, Set.of(), "invalid");
  }

  private static void refused(Exchange exchange, Refusal refusal) {
    int status;
    switch (refusal.outcome()) {
      case UNAUTHENTICATED:
        status = 401;
        break;
      case LIMITED:
        status = 429;
        long seconds = Math.max(1, (refusal.retryAfter().toMillis() + 999) / 1000);
        // A bucket that can never hold the request answers "forever": say a day.
        exchange.response.getHeaders().put(HttpHeader.RETRY_AFTER,
            Long.toString(Math.min(seconds, Duration.ofDays(1).toSeconds())));
        break;
      case UNAVAILABLE:
        status = 503;
        break;
      default:
        status = 403;
    }
    exchange.error(status, refusal.message(), null);
  }

  /** {@code GET /v1/models}: the served models and aliases the caller may use. */
  private void models(Exchange exchange, LlmSettings settings, Principal principal) {
    Sentinel sentinel = runtime.sentinel();
    boolean anthropic = exchange.request.getHeaders().get("anthropic-version") != null;
    LlmApi api = anthropic ? LlmApi.ANTHROPIC : LlmApi.OPENAI;
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    ArrayNode data = JsonNodeFactory.instance.arrayNode();
    for (LlmUpstream upstream : settings.upstreams()) {
      if (upstream.api() != api) {
        continue;
      }
      for (String model : upstream.models()) {
        if (sentinel.visible(principal,
                new Request(Request.LLM_CHAT, upstream.name(), model, NO_ARGUMENTS))
            || sentinel.visible(principal,
                new Request(Request.LLM_EMBEDDINGS, upstream.name(), model, NO_ARGUMENTS))) {
          entry(data, anthropic, model, upstream.name());
        }
      }
    }
    for (ModelAlias alias : settings.aliases().values()) {
      String model = alias.resolve(principal.roles());
      LlmUpstream upstream = model == null ? null : settings.upstream(api, model);
      if (upstream != null && sentinel.visible(principal,
          new Request(Request.LLM_CHAT, upstream.name(), model, NO_ARGUMENTS))) {
        entry(data, anthropic, alias.name(), upstream.name());
      }
    }
    if (anthropic) {
      out.set("data", data);
      out.put("has_more", false);
      if (data.isEmpty()) {
        out.putNull("first_id").putNull("last_id");
      } else {
        out.put("first_id", data.get(0).get("id").asString());
        out.put("last_id", data.get(data.size() - 1).get("id").asString());
      }
    } else {
      out.put("object", "list");
      out.set("data", data);
    }
    exchange.json(200, out);
  }

  private static void entry(ArrayNode data, boolean anthropic, String id, String owner) {
    if (anthropic) {
      data.addObject().put("type", "model").put("id", id).put("display_name", id)
          .put("created_at", "1970-01-01T00:00:00Z");
    } else {
      data.addObject().put("id", id).put("object", "model").put("created", 0)
          .put("owned_by", owner);
    }
  }

  /** A name from the client, bounded for messages and the trail. */
  private static String bounded(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "…";
  }

  /** One request's server side: where its answer goes, and on which threads it may wait. */
  private static final class Exchange {
    /** Whether the request body was read (else an answer closes the connection). */
    boolean bodyRead;
    /**
     * Whether the code serving the request runs on a thread that may block (a pool thread this
     * handler dispatched it to), not one that must not (Jetty's selector may call the handler).
     * Written before a dispatch, read by the thread dispatched.
     */
    volatile boolean mayBlock;
    final org.eclipse.jetty.server.Request request;
    final Response response;
    final Callback callback;
    final LlmApi api;
    /** The route, or null for a path that is not one (passed through or not served). */
    final @Nullable LlmRoute route;
    /** The server's pool, for what waits. */
    final Executor pool;

    Exchange(org.eclipse.jetty.server.Request request, Response response, Callback callback,
        LlmApi api, @Nullable LlmRoute route, Executor pool) {
      this.request = request;
      this.response = response;
      this.callback = callback;
      this.api = api;
      this.route = route;
      this.pool = pool;
    }

    /** The same request, answered in another API's error shape. */
    Exchange as(LlmApi other) {
      Exchange exchange = new Exchange(request, response, callback, other, route, pool);
      exchange.mayBlock = mayBlock;
      exchange.bodyRead = bodyRead;
      return exchange;
    }

    /**
     * How the callbacks of a body read on this request's behalf declare themselves: {@code
     * BLOCKING} (Jetty runs them on a pool thread) once the request is served on a thread that
     * may block, so that what follows them may too.
     */
    InvocationType invocationType() {
      return mayBlock ? InvocationType.BLOCKING : InvocationType.NON_BLOCKING;
    }

    /** Runs a step that may block: here if this thread may, else on the server's pool. */
    void blocking(Runnable step) {
      if (mayBlock) {
        guarded(step);
        return;
      }
      mayBlock = true;
      try {
        pool.execute(() -> guarded(step));
      } catch (RuntimeException rejected) {
        // The pool is full or stopping: the request is not served, and says so.
        log.warn("no thread to serve a model request: {}", rejected.toString());
        guarded(() -> error(503, "the gateway is too busy to serve this request", null));
      }
    }

    /** Runs a step, answering 500 (or failing the exchange, once committed) when it throws. */
    void guarded(Runnable step) {
      try {
        step.run();
      } catch (CancellationException gone) {
        callback.failed(gone);
      } catch (RuntimeException e) {
        log.warn("handling {} {} failed", request.getMethod(),
            org.eclipse.jetty.server.Request.getPathInContext(request), e);
        if (!response.isCommitted()) {
          error(500, "internal error", null);
        } else {
          callback.failed(e);
        }
      }
    }

    void error(int status, String message, @Nullable String param) {
      json(status, ApiErrors.body(api, status, message, param));
    }

    void json(int status, JsonNode body) {
      byte[] bytes = JSON.writeValueAsBytes(body);
      if (!bodyRead && "POST".equals(request.getMethod()) && request.getLength() != 0) {
        // Answered before its body was read (credentials, Host, Origin, draining): the server
        // may close the connection for the unread bytes after the answer is out, and a client
        // that was not told would send its next request on it and get nothing back.
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
      }
      response.setStatus(status);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
      response.write(true, ByteBuffer.wrap(bytes), callback);
    }
  }

  /** Assembles an {@link LlmHandler}. Not thread-safe. */
  public static final class Builder {
    private @Nullable GatewayRuntime runtime;
    private @Nullable Authenticator authenticator;
    private @Nullable Function<HttpFields, @Nullable Credentials> credentials;
    private @Nullable Predicate<String> hostAllowed;
    private @Nullable Predicate<String> originAllowed;
    private @Nullable BooleanSupplier draining;
    private @Nullable MeterRegistry registry;

    private Builder() {}

    /** The runtime whose pipeline, config and rate limiter the route uses; required. */
    public Builder runtime(GatewayRuntime runtime) {
      this.runtime = Objects.requireNonNull(runtime, "runtime");
      return this;
    }

    /** Who may call (the MCP endpoint's authenticator); required. */
    public Builder authenticator(Authenticator authenticator) {
      this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
      return this;
    }

    /**
     * How credentials are read from headers (the MCP endpoint's rule): {@code null} for a
     * malformed one, {@link IllegalArgumentException} for several; required.
     */
    public Builder credentials(Function<HttpFields, @Nullable Credentials> credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /** The Host and Origin checks against DNS rebinding; required. */
    public Builder guard(Predicate<String> hostAllowed, Predicate<String> originAllowed) {
      this.hostAllowed = Objects.requireNonNull(hostAllowed, "hostAllowed");
      this.originAllowed = Objects.requireNonNull(originAllowed, "originAllowed");
      return this;
    }

    /** Whether the gateway is draining: new requests are then refused with 503. */
    public Builder draining(BooleanSupplier draining) {
      this.draining = Objects.requireNonNull(draining, "draining");
      return this;
    }

    /** Where the route's meters go; none by default. */
    public Builder metrics(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Builds the handler. */
    public LlmHandler build() {
      return new LlmHandler(this);
    }
  }
}
