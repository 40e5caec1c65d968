package dev.sentinel.mcpsdk;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.Sentinel;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.server.McpAsyncListFilter;
import io.modelcontextprotocol.server.McpAsyncServerExchange;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncPromptSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncResourceSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncResourceTemplateSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.AsyncToolSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncPromptSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncResourceSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncResourceTemplateSpecification;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpSyncListFilter;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Governs a server of the official MCP Java SDK in-process: wraps its tool, resource and prompt
 * specifications so that every call passes a {@link Sentinel} pipeline (who is calling, kill
 * switch, policy, limits, confirmation) before the handler runs and leaves one audit event, and
 * filters {@code tools/list} per caller.
 *
 * <pre>{@code
 * McpGovernance governance = McpGovernance.of(sentinel, "notes", context -> Caller.of(userOf(context)));
 * McpServer.sync(transport).capabilities(...)
 *     .tools(governance.tools(myTools)).addToolFilter(governance.toolFilter())
 *     .resources(governance.resources(myResources)).prompts(governance.prompts(myPrompts))
 *     .build();
 * }</pre>
 *
 * <p>What the pipeline sees: the request's method ({@code tools/call}, {@code resources/read},
 * {@code prompts/get}), the server's name given here as the backend, the tool or prompt name of
 * the specification (the one the SDK routed the request to) or the URI read, and the arguments
 * the handler receives: the very {@link McpSchema.CallToolRequest} object is handed on, never
 * rebuilt, so what is decided is what runs. The caller comes from the {@link CallerResolver} the
 * application gives, applied to the request's transport context; there is no default.
 *
 * <p>How it ends: a refusal is thrown as an {@link io.modelcontextprotocol.spec.McpError} with
 * Sentinel's code ({@link Refusal#code()}), the refusal's message, and {@code data: {outcome,
 * rules, retryAfterMs}}, which the SDK sends as the JSON-RPC error; a handler that throws is
 * recorded as {@code FAILED} and its exception is rethrown unchanged, so the SDK answers it as it
 * always does.
 *
 * <p>Lists: the SDK (2.2.0) filters only {@code tools/list} ({@link #toolFilter()}); resources and
 * prompts a caller may not use are still listed, and refused when read or got.
 *
 * <p>Asynchronous specifications are governed too: the pipeline is synchronous, so their call runs
 * on Reactor's bounded-elastic scheduler and waits for the handler's {@link Mono}, as the SDK does
 * for synchronous handlers.
 *
 * <p>Thread-safe and immutable.
 */
public final class McpGovernance {
  private static final Logger log = LoggerFactory.getLogger(McpGovernance.class);
  private static final Refusal UNKNOWN_CALLER = Refusal.of(
      Outcome.UNAUTHENTICATED, List.of(), "missing or invalid credentials");

  private final Sentinel sentinel;
  private final String server;
  private final CallerResolver callers;

  private McpGovernance(Sentinel sentinel, String server, CallerResolver callers) {
    this.sentinel = Objects.requireNonNull(sentinel, "sentinel");
    Objects.requireNonNull(server, "server");
    if (server.isBlank()) {
      throw new IllegalArgumentException("server must not be blank: it is the backend policies match");
    }
    this.server = server;
    this.callers = Objects.requireNonNull(callers, "callers");
  }

  /**
   * Governs a server's specifications with a pipeline.
   *
   * @param sentinel the pipeline; the application keeps owning (and closing) it
   * @param server the server's name, which the pipeline sees as the backend (policies'
   *     {@code backends:}, the kill switch, the audit trail)
   * @param callers who is calling, from a request's transport context
   */
  public static McpGovernance of(Sentinel sentinel, String server, CallerResolver callers) {
    return new McpGovernance(sentinel, server, callers);
  }

  /** The backend name the pipeline sees. */
  public String server() {
    return server;
  }

  // ---- tools ------------------------------------------------------------------------------

  /** A tool whose calls are governed. */
  public SyncToolSpecification tool(SyncToolSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    String name = spec.tool().name();
    var handler = spec.callHandler();
    return new SyncToolSpecification(spec.tool(), (exchange, request) -> McpErrors.valueOrThrow(govern(
        context(exchange), session(exchange),
        Request.toolCall(server, name, Arguments.tree(request.arguments())),
        () -> handler.apply(exchange, request))));
  }

  /** Tools whose calls are governed, in order. */
  public List<SyncToolSpecification> tools(List<SyncToolSpecification> specs) {
    return specs.stream().map(this::tool).toList();
  }

  /** A tool of an asynchronous server whose calls are governed. */
  public AsyncToolSpecification tool(AsyncToolSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    String name = spec.tool().name();
    var handler = spec.callHandler();
    return new AsyncToolSpecification(spec.tool(), (exchange, request) -> governAsync(
        exchange, Request.toolCall(server, name, Arguments.tree(request.arguments())),
        () -> handler.apply(exchange, request)));
  }

  /** Tools of an asynchronous server whose calls are governed, in order. */
  public List<AsyncToolSpecification> asyncTools(List<AsyncToolSpecification> specs) {
    return specs.stream().map(this::tool).toList();
  }

  /**
   * The filter of {@code tools/list} for a synchronous server ({@code addToolFilter}): a caller
   * sees a tool only if the kill switch does not disable it and the policy could allow some call
   * of it ({@link Sentinel#visible}). An unknown caller sees none.
   */
  public McpSyncListFilter<McpSchema.Tool> toolFilter() {
    return (context, tool) -> visible(context, tool.name());
  }

  /** The filter of {@code tools/list} for an asynchronous server; as {@link #toolFilter()}. */
  public McpAsyncListFilter<McpSchema.Tool> asyncToolFilter() {
    return McpAsyncListFilter.fromSync(toolFilter(), false);
  }

  // ---- resources --------------------------------------------------------------------------

  /** A resource whose reads are governed, with its URI as the name policies match. */
  public SyncResourceSpecification resource(SyncResourceSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    var handler = spec.readHandler();
    return new SyncResourceSpecification(spec.resource(), (exchange, request) -> McpErrors.valueOrThrow(govern(
        context(exchange), session(exchange), read(request.uri()),
        () -> handler.apply(exchange, request))));
  }

  /** Resources whose reads are governed, in order. */
  public List<SyncResourceSpecification> resources(List<SyncResourceSpecification> specs) {
    return specs.stream().map(this::resource).toList();
  }

  /**
   * A resource template whose reads are governed, with the URI read (the template filled in) as
   * the name policies match.
   */
  public SyncResourceTemplateSpecification resourceTemplate(SyncResourceTemplateSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    var handler = spec.readHandler();
    return new SyncResourceTemplateSpecification(spec.resourceTemplate(), (exchange, request) ->
        McpErrors.valueOrThrow(govern(context(exchange), session(exchange), read(request.uri()),
            () -> handler.apply(exchange, request))));
  }

  /** Resource templates whose reads are governed, in order. */
  public List<SyncResourceTemplateSpecification> resourceTemplates(
      List<SyncResourceTemplateSpecification> specs) {
    return specs.stream().map(this::resourceTemplate).toList();
  }

  /** A resource of an asynchronous server whose reads are governed. */
  public AsyncResourceSpecification resource(AsyncResourceSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    var handler = spec.readHandler();
    return new AsyncResourceSpecification(spec.resource(), (exchange, request) ->
        governAsync(exchange, read(request.uri()), () -> handler.apply(exchange, request)));
  }

  /** A resource template of an asynchronous server whose reads are governed. */
  public AsyncResourceTemplateSpecification resourceTemplate(AsyncResourceTemplateSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    var handler = spec.readHandler();
    return new AsyncResourceTemplateSpecification(spec.resourceTemplate(), (exchange, request) ->
        governAsync(exchange, read(request.uri()), () -> handler.apply(exchange, request)));
  }

  // ---- prompts ----------------------------------------------------------------------------

  /** A prompt whose requests are governed, with its arguments as the arguments policies see. */
  public SyncPromptSpecification prompt(SyncPromptSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    String name = spec.prompt().name();
    var handler = spec.promptHandler();
    return new SyncPromptSpecification(spec.prompt(), (exchange, request) -> McpErrors.valueOrThrow(govern(
        context(exchange), session(exchange), prompt(name, request.arguments()),
        () -> handler.apply(exchange, request))));
  }

  /** Prompts whose requests are governed, in order. */
  public List<SyncPromptSpecification> prompts(List<SyncPromptSpecification> specs) {
    return specs.stream().map(this::prompt).toList();
  }

  /** A prompt of an asynchronous server whose requests are governed. */
  public AsyncPromptSpecification prompt(AsyncPromptSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    String name = spec.prompt().name();
    var handler = spec.promptHandler();
    return new AsyncPromptSpecification(spec.prompt(), (exchange, request) -> governAsync(
        exchange, prompt(name, request.arguments()), () -> handler.apply(exchange, request)));
  }

  // ---- stateless servers ------------------------------------------------------------------

  /** A tool of a stateless server whose calls are governed (no session: the trail records none). */
  public McpStatelessServerFeatures.SyncToolSpecification tool(McpStatelessServerFeatures.SyncToolSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    String name = spec.tool().name();
    var handler = spec.callHandler();
    return new McpStatelessServerFeatures.SyncToolSpecification(spec.tool(), (context, request) ->
        McpErrors.valueOrThrow(govern(context, Session.NONE,
            Request.toolCall(server, name, Arguments.tree(request.arguments())),
            () -> handler.apply(context, request))));
  }

  /** Tools of a stateless server whose calls are governed, in order. */
  public List<McpStatelessServerFeatures.SyncToolSpecification> statelessTools(
      List<McpStatelessServerFeatures.SyncToolSpecification> specs) {
    return specs.stream().map(this::tool).toList();
  }

  /** A resource of a stateless server whose reads are governed. */
  public McpStatelessServerFeatures.SyncResourceSpecification resource(
      McpStatelessServerFeatures.SyncResourceSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    var handler = spec.readHandler();
    return new McpStatelessServerFeatures.SyncResourceSpecification(spec.resource(), (context, request) ->
        McpErrors.valueOrThrow(govern(context, Session.NONE, read(request.uri()),
            () -> handler.apply(context, request))));
  }

  /** A resource template of a stateless server whose reads are governed. */
  public McpStatelessServerFeatures.SyncResourceTemplateSpecification resourceTemplate(
      McpStatelessServerFeatures.SyncResourceTemplateSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    var handler = spec.readHandler();
    return new McpStatelessServerFeatures.SyncResourceTemplateSpecification(spec.resourceTemplate(),
        (context, request) -> McpErrors.valueOrThrow(govern(context, Session.NONE, read(request.uri()),
            () -> handler.apply(context, request))));
  }

  /** A prompt of a stateless server whose requests are governed. */
  public McpStatelessServerFeatures.SyncPromptSpecification prompt(
      McpStatelessServerFeatures.SyncPromptSpecification spec) {
    Objects.requireNonNull(spec, "spec");
    String name = spec.prompt().name();
    var handler = spec.promptHandler();
    return new McpStatelessServerFeatures.SyncPromptSpecification(spec.prompt(), (context, request) ->
        McpErrors.valueOrThrow(govern(context, Session.NONE, prompt(name, request.arguments()),
            () -> handler.apply(context, request))));
  }

  // ---- the pipeline -----------------------------------------------------------------------

  private Request read(String uri) {
    return new Request(Request.RESOURCES_READ, server, Objects.requireNonNull(uri, "uri"),
        Arguments.NONE);
  }

  private Request prompt(String name, @Nullable Map<String, Object> arguments) {
    return new Request(Request.PROMPTS_GET, server, name, Arguments.tree(arguments));
  }

  private boolean visible(McpTransportContext context, String tool) {
    Principal principal = principal(resolve(context));
    return principal != null && sentinel.visible(principal, Request.toolCall(server, tool, null));
  }

  /** The caller's principal for a list: asserted, or authenticated by the pipeline; else null. */
  private @Nullable Principal principal(@Nullable Caller caller) {
    if (caller == null) {
      return null;
    }
    if (caller.principal() != null) {
      return caller.principal();
    }
    // a caller is exactly one of the two (its constructor checks)
    var result = sentinel.authenticate(
        Objects.requireNonNull(caller.credentials(), "a caller without a principal has credentials"));
    return result.authenticated() ? result.principal() : null;
  }

  /** The application's answer, failing closed: a resolver that throws names no caller (null). */
  private @Nullable Caller resolve(McpTransportContext context) {
    try {
      return callers.resolve(context == null ? McpTransportContext.EMPTY : context);
    } catch (RuntimeException e) {
      log.warn("the caller resolver threw {}; the request is refused as unauthenticated",
          e.getClass().getName());
      return null;
    }
  }

  /** Runs one request through the pipeline and, if it allows, the handler. */
  private <T> CallResult<T> govern(
      McpTransportContext context, Session session, Request request, Callable<T> handler) {
    Caller caller = resolve(context);
    if (caller == null) {
      // no principal to assert and no credentials to check: recorded, and refused
      CallResult<Void> refused = sentinel.refuse(
          new Call(Credentials.none(), request, session.id(), session.client(), null), UNKNOWN_CALLER);
      return new CallResult<>(refused.outcome(), null, refused.refusal(), null, null, refused.eventId());
    }
    Call call = new Call(
        caller.credentials() != null ? caller.credentials() : Credentials.none(),
        request, session.id(), session.client(), null, null, List.of(), caller.principal());
    return sentinel.call(call, governed -> handler.call());
  }

  private <T> Mono<T> governAsync(McpAsyncServerExchange exchange, Request request, Supplier<Mono<T>> handler) {
    Session session = new Session(exchange.sessionId(), client(exchange.getClientInfo()));
    return Mono.fromCallable(() -> McpErrors.valueOrThrow(govern(exchange.transportContext(), session, request,
            () -> handler.get().block())))
        .subscribeOn(Schedulers.boundedElastic());
  }

  private static McpTransportContext context(McpSyncServerExchange exchange) {
    return exchange.transportContext();
  }

  private static Session session(McpSyncServerExchange exchange) {
    return new Session(exchange.sessionId(), client(exchange.getClientInfo()));
  }

  private static @Nullable String client(McpSchema.@Nullable Implementation info) {
    return info == null ? null : info.name() + "/" + info.version();
  }

  /** The MCP session and the client's announced name, for the audit trail. */
  private record Session(@Nullable String id, @Nullable String client) {
    /** A stateless server's requests have no session. */
    static final Session NONE = new Session(null, null);
  }
}
