package dev.sentinel.mcp.engine;

import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.api.Transport;
import dev.sentinel.core.Call;
import dev.sentinel.core.CallResult;
import dev.sentinel.core.RefusedException;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.Redactor;
import dev.sentinel.core.config.BackendOptions;
import dev.sentinel.core.config.Isolation;
import dev.sentinel.core.config.Validation;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.core.pinning.PinStore;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The MCP gateway engine: serves MCP clients on one side and aggregates backend MCP servers on
 * the other, with every routed request governed by a {@link Sentinel}.
 *
 * <pre>{@code
 * McpGateway gateway = McpGateway.builder()
 *     .sentinel(sentinel)
 *     .backend("fs", () -> StdioTransport.spawn(...))
 *     .backend("search", () -> HttpClientTransport.connect(...))
 *     .build();
 * gateway.start();
 * ClientSession session = gateway.serve(clientTransport, Credentials.launch(), "stdio");
 * session.closed().join();
 * }</pre>
 *
 * <p>What it does, in short: clients on MCP 2024-11-05, 2025-03-26, 2025-06-18 or 2025-11-25
 * reach backends on any of them ({@link McpRevision}). Tools, prompts, resources and resource
 * templates of all backends are listed together, names namespaced as
 * {@code <backend><separator><name>} (resource URIs unchanged), paginated with the gateway's own
 * cursors and filtered by {@link Sentinel#visible}. Calls are routed to the owning backend
 * through {@link Sentinel#call}; refusals become JSON-RPC errors with the codes of
 * {@link ErrorCode}. Request ids and progress tokens are remapped so that clients and backends
 * never collide.
 *
 * <p><b>Isolation.</b> Each backend's connections serve whom its {@link BackendOptions#isolation()
 * isolation} says: everyone ({@link Isolation#SHARED}), one principal, or one client session
 * (the default). Nothing one principal causes reaches another: a backend's requests to a client
 * ({@code sampling/createMessage}, {@code elicitation/create}, {@code roots/list}) go only to the
 * session its connection belongs to, governed as that session's calls, and are refused on a
 * shared connection; its log messages go to that session only, or, from a shared connection, to
 * the gateway's log ({@code dev.sentinel.backend}, redacted); resource updates only to sessions
 * that subscribed and may still read the resource; list changes only to sessions that may use
 * something of the backend.
 *
 * <p><b>Routing first.</b> Every request is decided with the backend that will serve it: a
 * namespaced name names its backend; a resource URI is routed by the backends' configured
 * prefixes, else by the resources and templates they list, and a URI that maps to no backend or
 * to several is refused, never tried in turn (see {@link Router}).
 *
 * <p><b>Arguments checked against the tool's schema.</b> Before a {@code tools/call} is decided,
 * its arguments are validated against the {@code inputSchema} that the connection serving the
 * session listed for the tool ({@link ToolSchema}), as the backend's {@link
 * BackendOptions#validation() validation} says: under {@link Validation#ENFORCE} (the default)
 * invalid arguments, a tool the backend does not list and a schema that cannot be used are
 * refused as {@code DENIED} by rule {@code schema} and never forwarded. A connection's tools are
 * listed again before the next call once it says {@code notifications/tools/list_changed} or
 * reconnects. The policy's conditions are checked against each newly listed schema ({@link
 * dev.sentinel.core.policy.PolicyEngine#schemaConflicts}) and what cannot apply is logged.
 *
 * <p><b>Bounds.</b> Per session, {@code maxPendingRequests} requests in flight; per principal,
 * across its sessions, {@code maxInFlightPerPrincipal}; per isolated backend, its options'
 * connection bounds; per principal, {@code maxTasksPerPrincipal} live tasks of the Tasks
 * extension, and {@code maxTasks} tasks on the gateway. Refusals name the bound.
 *
 * <p>A backend connection that closes is marked down, its in-flight requests fail with
 * {@code -32603}, the clients it serves are told its lists changed, and it is reconnected with
 * exponential backoff (which grows while the server keeps dying soon after it starts). Timeouts and backoff follow the injected {@link Clock}, checked by a ticker thread
 * every 10 ms.
 *
 * <p>Thread-safe.
 */
public final class McpGateway implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(McpGateway.class);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final long TICK_MILLIS = 10;
  /** The stateless requests that may need client input (sampling, elicitation) while served. */
  static final Set<String> NEEDS_INPUT = Set.of("tools/call", "prompts/get", "resources/read");

  private final Sentinel sentinel;
  private final List<Backend> backends;
  private final Naming naming;
  private final Router router;
  private final ToolPins pins;
  private final Duration requestTimeout;
  private final RequestStates requestStates;
  private final Duration startTimeout;
  private final Duration probePatience;
  private final Duration restartMin;
  private final Duration restartMax;
  private final int maxPendingRequests;
  private final Tasks tasks;
  private final int maxInFlightPerPrincipal;
  private final String serverName;
  private final String serverVersion;
  private final Clock clock;
  private final ExecutorService executor;
  private final boolean ownsExecutor;
  private final ScheduledExecutorService ticker;
  private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
  private final Set<String> listedTools = ConcurrentHashMap.newKeySet();
  private final Map<String, RelayRef> relaysByBackendId = new ConcurrentHashMap<>();
  /** What the in-flight count of a principal's parked calls is kept under, before its quota key. */
  private static final String PARKED_SLOT = "parked:";
  /** Stateless clients' backend calls parked between attempts, by the nonce of their state. */
  private final Map<String, RoundTrip> parked = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Integer> inFlightByPrincipal = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> backendLogMessages = new ConcurrentHashMap<>();
  private final Redactor logRedactor = Redactor.defaults();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLong sequences = new AtomicLong();
  private final AtomicLong ticks = new AtomicLong();
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile boolean background; // set before the backends start, by startInBackground
  /** The first start attempts of every backend, when started in the background (else done). */
  private volatile CompletableFuture<Void> firstStarts = CompletableFuture.completedFuture(null);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final OpenTransports transports = new OpenTransports();

  private record RelayRef(ClientSession session, long relayId) {}

  private McpGateway(Builder builder) {
    this.sentinel = Objects.requireNonNull(builder.sentinel, "a sentinel is required");
    if (builder.connectors.isEmpty()) {
      throw new IllegalStateException("at least one backend is required");
    }
    List<Backend> list = new ArrayList<>();
    int index = 0;
    for (Map.Entry<String, Supplier<Transport>> entry : builder.connectors.entrySet()) {
      String name = entry.getKey();
      Supplier<Transport> connector = entry.getValue();
      // Every connection is registered until closed, so that close() can wait for its child.
      list.add(new Backend(name, index++, () -> transports.open(name, connector),
          Objects.requireNonNull(builder.options.get(name), "Builder.backend sets a backend's options"), this));
    }
    this.backends = List.copyOf(list);
    this.naming = new Naming(backends, builder.separator, builder.prefixSingleBackend);
    this.requestTimeout = builder.requestTimeout;
    this.startTimeout = builder.startTimeout;
    this.probePatience = builder.probePatience;
    this.restartMin = builder.restartMin;
    this.restartMax = builder.restartMax;
    this.maxPendingRequests = builder.maxPendingRequests;
    this.maxInFlightPerPrincipal = builder.maxInFlightPerPrincipal;
    this.tasks = new Tasks(builder.maxTasksPerPrincipal, builder.maxTasks, builder.clock::nanoTime);
    this.serverName = builder.serverName;
    this.serverVersion = builder.serverVersion;
    this.clock = builder.clock;
    if (builder.executor != null) {
      this.executor = builder.executor;
      this.ownsExecutor = false;
    } else {
      AtomicInteger threads = new AtomicInteger();
      this.executor = new ThreadPoolExecutor(0, Math.max(256, maxPendingRequests * 4), 30, TimeUnit.SECONDS,
          new SynchronousQueue<>(), runnable -> {
            Thread thread = new Thread(runnable, "sentinel-mcp-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
          });
      this.ownsExecutor = true;
    }
    this.ticker = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "sentinel-mcp-ticker");
      thread.setDaemon(true);
      return thread;
    });
    this.pins = new ToolPins(builder.pinStore != null ? builder.pinStore : PinStore.inMemory(), clock,
        builder.notifier);
    this.requestStates = builder.requestStateLedger != null
        ? new RequestStates(builder.requestStateKey != null ? builder.requestStateKey : builder.requestStateLedger.key(),
            clock, builder.requestStateLedger)
        : builder.requestStateKey != null ? new RequestStates(builder.requestStateKey, clock)
        : RequestStates.random(clock);
    this.router = new Router(this, sentinel, backends, naming);
  }

  /** A builder; {@link Builder#sentinel} and at least one {@link Builder#backend} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Connects and initializes every backend concurrently and waits up to the start timeout. A
   * backend that fails or does not answer in time is marked down and retried with backoff; the
   * others serve. Calling it again does nothing.
   *
   * @throws IllegalStateException if the gateway is closed
   */
  public void start() {
    List<CompletableFuture<Void>> attempts = launch();
    if (attempts.isEmpty()) {
      return;
    }
    CompletableFuture<Void> all = CompletableFuture.allOf(attempts.toArray(new CompletableFuture<?>[0]));
    long deadline = clock.nanoTime() + startTimeout.toNanos();
    while (!all.isDone() && clock.nanoTime() - deadline < 0) {
      try {
        all.get(TICK_MILLIS, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
        // keep waiting until the clock's deadline
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Connects and initializes every backend in the background and returns at once: a client's
   * {@code initialize} is answered before they are up (declaring tools, prompts and resources
   * with {@code listChanged} while any has not come up), each backend that comes up is announced
   * to the sessions by its {@code list_changed} notifications, and a request for a backend that
   * has never come up is answered at once with the retryable {@code -32019} ({@link
   * dev.sentinel.mcp.jsonrpc.ErrorCode#BACKEND_STARTING}), never held. For {@code sentinel
   * stdio}, whose client times its {@code initialize}. Calling it (or {@link #start()}) again
   * does nothing.
   *
   * @throws IllegalStateException if the gateway is closed
   */
  public void startInBackground() {
    background = true;
    List<CompletableFuture<Void>> attempts = launch();
    if (!attempts.isEmpty()) {
      firstStarts = CompletableFuture.allOf(attempts.toArray(new CompletableFuture<?>[0]));
    }
  }

  /** How long a list waits for backends still making their first start, when started in the background. */
  static final Duration FIRST_LIST_WAIT = Duration.ofSeconds(5);

  /**
   * Waits, at most {@link #FIRST_LIST_WAIT} in all, for the backends' first start attempts, when
   * the gateway started in the background and they have not all ended: a client that lists once
   * right after {@code initialize} (a one-shot client such as the MCP Inspector's CLI) sees the
   * backends that come up quickly, while {@code initialize} itself was answered at once. A
   * backend that takes longer is left out, and announced by {@code list_changed} when it is up.
   */
  void awaitFirstStarts() {
    CompletableFuture<Void> pending = firstStarts;
    if (!background || pending.isDone()) {
      return;
    }
    try {
      pending.get(FIRST_LIST_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException | ExecutionException e) {
      // Listed as they are: the slow or failed ones are left out.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts the ticker and every backend's first connection; none when already started. */
  private List<CompletableFuture<Void>> launch() {
    if (closed.get()) {
      throw new IllegalStateException("the gateway is closed");
    }
    if (!started.compareAndSet(false, true)) {
      return List.of();
    }
    ticker.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    List<CompletableFuture<Void>> attempts = new ArrayList<>();
    for (Backend backend : backends) {
      attempts.add(backend.start());
    }
    return attempts;
  }

  /** Whether the gateway was started by {@link #startInBackground()}. */
  boolean startsInBackground() {
    return background;
  }

  /**
   * Serves one MCP client over a transport until either side closes it. The transport is started
   * here.
   *
   * @param client the client's transport, not yet started
   * @param credentials what the client presented; every governed request carries them, and the
   *     principal they authenticate as owns the session ({@link ClientSession})
   * @param clientLabel the client as recorded in the audit trail, or {@code null} to use the
   *     name and version it announces in {@code initialize}
   * @throws IllegalStateException if the gateway is closed
   */
  public ClientSession serve(Transport client, Credentials credentials, @Nullable String clientLabel) {
    return serve(client, credentials, null, clientLabel);
  }

  /**
   * Serves one MCP client like {@link #serve(Transport, Credentials, String)}, over a transport
   * that authenticated the credentials already, with the gateway's authenticator: the session
   * belongs to that principal, and messages the transport delivers as {@link
   * Transport.Exchange exchanges} are taken as their exchange's principal's without being
   * authenticated again.
   *
   * @param authenticated the principal the credentials authenticated as, or {@code null} to
   *     authenticate them here
   */
  public ClientSession serve(Transport client, Credentials credentials, @Nullable Principal authenticated,
      @Nullable String clientLabel) {
    return serve(client, credentials, authenticated, clientLabel, null);
  }

  /**
   * Serves one MCP client like {@link #serve(Transport, Credentials, Principal, String)}, whose
   * {@code initialize} request was answered before this gateway existed, by {@link
   * InitializeAnswer#ahead}: the session starts initialized with that request, and the client's next
   * message is its first.
   *
   * @param answeredAhead the client's {@code initialize} request that {@link
   *     InitializeAnswer#ahead} answered, or {@code null} when none was
   * @throws IllegalArgumentException if {@code answeredAhead} is not a request {@link
   *     InitializeAnswer#ahead} answers
   */
  public ClientSession serve(Transport client, Credentials credentials, @Nullable Principal authenticated,
      @Nullable String clientLabel, @Nullable JsonNode answeredAhead) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(credentials, "credentials");
    if (closed.get()) {
      throw new IllegalStateException("the gateway is closed");
    }
    ClientSession session = new ClientSession(this, client, credentials, clientLabel);
    if (answeredAhead != null) {
      session.answeredAhead(JsonRpc.classify(answeredAhead));
    }
    session.bindOwner(authenticated);
    sessions.add(session);
    session.start();
    return session;
  }

  /**
   * Serves one stateless (MCP 2026-07-28) exchange: a session for the one request the transport
   * delivers, which the transport closes once it has sent the answer. Its backend connections are
   * its principal's (shared with the principal's other exchanges, whatever the backend's isolation
   * says for sessions), so a stateless client costs no backend connection per request.
   *
   * @param client the exchange's transport, not yet started
   * @param credentials what the request presented
   * @param clientLabel the client as recorded in the audit trail, or {@code null} for the
   *     request's {@code clientInfo}
   * @throws IllegalStateException if the gateway is closed
   */
  public ClientSession serveExchange(Transport client, Credentials credentials, @Nullable String clientLabel) {
    return serveExchange(client, credentials, null, clientLabel, null);
  }

  /**
   * Serves one stateless exchange over HTTP, like {@link #serveExchange(Transport, Credentials,
   * String)}, with the principal the transport authenticated and the request's {@code
   * Mcp-Param-*} headers: a {@code tools/call} whose tool's schema mirrors arguments in such
   * headers ({@code x-mcp-header}) is refused with {@code -32020} unless they agree with the body.
   *
   * @param authenticated the principal the credentials authenticated as, with the gateway's
   *     authenticator, or {@code null} to authenticate them here
   * @param paramHeaders every {@code Mcp-Param-*} header's values, by lower-case name; {@code
   *     null} when the transport has no headers (then nothing is checked)
   */
  public ClientSession serveExchange(Transport client, Credentials credentials, @Nullable Principal authenticated,
      @Nullable String clientLabel, @Nullable Map<String, List<String>> paramHeaders) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(credentials, "credentials");
    if (closed.get()) {
      throw new IllegalStateException("the gateway is closed");
    }
    Map<String, List<String>> copied = null;
    if (paramHeaders != null) {
      copied = new LinkedHashMap<>();
      for (Map.Entry<String, List<String>> header : paramHeaders.entrySet()) {
        copied.put(header.getKey().toLowerCase(java.util.Locale.ROOT), List.copyOf(header.getValue()));
      }
    }
    ClientSession session = new ClientSession(this, client, credentials, clientLabel, true, copied);
    session.bindOwner(authenticated);
    sessions.add(session);
    session.start();
    return session;
  }

  /** Each backend's status, by name, in configuration order. */
  public Map<String, BackendStatus> backends() {
    Map<String, BackendStatus> statuses = new LinkedHashMap<>();
    for (Backend backend : backends) {
      statuses.put(backend.name, backend.status());
    }
    return statuses;
  }

  /**
   * Whether a backend listed a tool of this name (as clients see it, with its backend prefix) to
   * any client since the gateway started. Metrics count calls by tool name only for listed tools,
   * so client-chosen names cannot grow them. Remembers at most {@value #MAX_LISTED_TOOLS} names.
   */
  public boolean listedTool(String name) {
    return name != null && listedTools.contains(name);
  }

  /**
   * One tool a backend lists, for checks outside any client session ({@link #listTools}).
   *
   * @param backend the backend's name
   * @param name the tool's name as clients see it (with its backend prefix)
   * @param inputSchema its input schema as the backend listed it (a missing node if none)
   * @param annotations its annotations as the backend listed them ({@code readOnlyHint},
   *     {@code destructiveHint}, ...; a missing node if none): the server's own claims
   */
  public record ListedTool(String backend, String name, JsonNode inputSchema, JsonNode annotations) {
    /** Validates. */
    public ListedTool {
      Objects.requireNonNull(backend, "backend");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(inputSchema, "inputSchema");
      Objects.requireNonNull(annotations, "annotations");
    }

    /** A tool listed without annotations. */
    public ListedTool(String backend, String name, JsonNode inputSchema) {
      this(backend, name, inputSchema, tools.jackson.databind.node.MissingNode.getInstance());
    }
  }

  /**
   * What listing each backend's tools found, outside any client session: every page of each
   * backend's {@code tools/list} on one of its connections that is up (not governed, not
   * audited). For {@code sentinel config check --start} and {@code sentinel policy explain
   * --config}; call {@link #start()} first.
   *
   * @param tools every tool listed, backends in configuration order
   * @param problems by backend name, why a backend's tools could not be listed (down, an error)
   */
  public record ToolListings(List<ListedTool> tools, Map<String, String> problems) {
    /** Copies. */
    public ToolListings {
      tools = List.copyOf(tools);
      problems = Map.copyOf(problems);
    }
  }

  /** Lists every backend's tools on a connection that is up; see {@link ToolListings}. */
  public ToolListings listTools() {
    List<ListedTool> tools = new ArrayList<>();
    Map<String, String> problems = new LinkedHashMap<>();
    for (Backend backend : backends) {
      Upstream upstream = backend.anyUp();
      if (upstream == null) {
        String error = backend.status().lastError();
        problems.put(backend.name, "not up" + (error == null ? "" : ": " + error));
        continue;
      }
      if (!backend.has("tools")) {
        continue;
      }
      String cursor = null;
      for (int page = 0; page < 64; page++) {
        ObjectNode params = NODES.objectNode();
        if (cursor != null) {
          params.put("cursor", cursor);
        }
        JsonRpcMessage answer;
        try {
          answer = upstream.request("tools/list", params, requestTimeout).response()
              .get(requestTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          problems.put(backend.name, "interrupted");
          break;
        } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
          problems.put(backend.name, "tools/list failed: " + Upstream.unwrap(e).getMessage());
          break;
        }
        if (answer.kind() == JsonRpcMessage.Kind.ERROR) {
          problems.put(backend.name, "tools/list failed: " + answer.error().path("message").asString(""));
          break;
        }
        for (JsonNode item : answer.result().path("tools")) {
          if (item.path("name").isString()) {
            tools.add(new ListedTool(backend.name, naming.expose(backend, item.get("name").stringValue()),
                item.path("inputSchema"), item.path("annotations")));
          }
        }
        JsonNode next = answer.result().path("nextCursor");
        if (!next.isString() || next.stringValue().isEmpty()) {
          break;
        }
        cursor = next.stringValue();
      }
    }
    return new ToolListings(tools, problems);
  }

  /**
   * The tool-definition pins as operators change them through this gateway (the operator
   * service's {@code PinOperations}): the store given to {@link Builder#pinStore}, whose changes
   * this gateway applies at once; other gateways on a shared store see them within a second.
   */
  public PinStore pinStore() {
    return pins.store();
  }

  /** How many listed tool definitions carrying hidden instructions this gateway has seen. */
  public long hiddenInstructionsSeen() {
    return pins.hiddenInstructionsSeen();
  }

  /** The pins, for the router. */
  ToolPins pins() {
    return pins;
  }

  /** The most tool names {@link #listedTool} remembers. */
  public static final int MAX_LISTED_TOOLS = 10_000;

  /** Remembers a tool name a backend listed (called by the router). */
  void listed(String tool) {
    if (listedTools.size() < MAX_LISTED_TOOLS) {
      listedTools.add(tool);
    }
  }

  /**
   * Ends every client session and backend connection; the gateway cannot be started again. The
   * {@link Sentinel} is not closed: its owner closes it.
   *
   * <p>Returns only when every backend transport the gateway opened is closed, whichever thread
   * began to close it: a stdio backend's child process (and its descendants) has then ended,
   * after its stdin was closed, its stop grace, a terminate and, if need be, a kill. A gateway
   * closed from a JVM shutdown hook therefore leaves no backend process behind.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      for (RoundTrip trip : List.copyOf(parked.values())) {
        endRoundTrip(trip, "the gateway is closing");
      }
      for (ClientSession session : List.copyOf(sessions)) {
        try {
          session.close();
        } catch (RuntimeException e) {
          log.warn("closing a client session failed; stopping the backends anyway", e);
        }
      }
      // In parallel: each stdio backend may take its stop grace, and a client that kills the
      // gateway soon after closing it would otherwise orphan the backends still waiting their turn.
      List<Thread> stopping = new ArrayList<>();
      for (Backend backend : backends) {
        Thread stopper = new Thread(backend::close, "sentinel-stop-" + backend.name);
        stopper.start();
        stopping.add(stopper);
      }
      for (Thread stopper : stopping) {
        try {
          stopper.join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    } finally {
      try {
        // What the backends did not close themselves, or are closing on other threads (a
        // session's own connections, stopped on the thread that saw the session end): close it
        // here and wait, or the JVM may halt with those children still running.
        transports.closeAll();
      } finally {
        ticker.shutdownNow();
        if (ownsExecutor) {
          executor.shutdownNow();
        }
      }
    }
  }

  /** How many backend transports are open: for tests. */
  int openTransports() {
    return transports.size();
  }

  /**
   * How many log messages each backend sent on shared connections, which the gateway writes to
   * its own log instead of relaying them to clients; by backend name.
   */
  public Map<String, Long> backendLogMessages() {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (Backend backend : backends) {
      AtomicLong count = backendLogMessages.get(backend.name);
      counts.put(backend.name, count == null ? 0 : count.get());
    }
    return counts;
  }

  // ---- for the engine's parts -------------------------------------------------------------

  Sentinel sentinel() {
    return sentinel;
  }

  List<Backend> backendList() {
    return backends;
  }

  int maxInFlightPerPrincipal() {
    return maxInFlightPerPrincipal;
  }

  /** Counts a request against its principal's in-flight bound; false (and not counted) when over it. */
  boolean acquireInFlight(String key) {
    boolean[] admitted = new boolean[1];
    inFlightByPrincipal.compute(key, (k, count) -> {
      int now = count == null ? 0 : count;
      admitted[0] = now < maxInFlightPerPrincipal;
      return admitted[0] ? Integer.valueOf(now + 1) : count;
    });
    return admitted[0];
  }

  void releaseInFlight(String key) {
    inFlightByPrincipal.compute(key, (k, count) -> count == null || count <= 1 ? null : count - 1);
  }

  /** Whether a session of this principal is open. */
  boolean hasSessionOf(String principalId) {
    for (ClientSession session : sessions) {
      if (principalId.equals(session.ownerId())) {
        return true;
      }
    }
    return false;
  }

  /** Whether the session with this id is open. */
  boolean hasSession(String sessionId) {
    for (ClientSession session : sessions) {
      if (session.id().equals(sessionId)) {
        return true;
      }
    }
    return false;
  }

  Clock clock() {
    return clock;
  }

  ExecutorService executor() {
    return executor;
  }

  Router router() {
    return router;
  }

  Duration requestTimeout() {
    return requestTimeout;
  }

  /** The signer of the gateway's own {@code input_required} states. */
  RequestStates requestStates() {
    return requestStates;
  }

  Duration startTimeout() {
    return startTimeout;
  }

  /** How long a backend's {@code server/discover} probe is waited on before {@code initialize} is sent anyway. */
  Duration probePatience() {
    return probePatience;
  }

  Duration restartMin() {
    return restartMin;
  }

  Duration restartMax() {
    return restartMax;
  }

  /** The tasks of the Tasks extension that backends created for this gateway's clients. */
  Tasks tasks() {
    return tasks;
  }

  int maxPendingRequests() {
    return maxPendingRequests;
  }

  String serverName() {
    return serverName;
  }

  String serverVersion() {
    return serverVersion;
  }

  /** A fresh id for a request the gateway sends; unique across backends and clients. */
  long nextId() {
    return ids.incrementAndGet();
  }

  /** A fresh, increasing sequence number for ordering requests and sessions. */
  long nextSequence() {
    return sequences.incrementAndGet();
  }

  /** For tests: how many times the ticker has run to the end. */
  long ticks() {
    return ticks.get();
  }

  private void tick() {
    try {
      long now = clock.nanoTime();
      for (Backend backend : backends) {
        backend.tick(now);
      }
      for (ClientSession session : sessions) {
        session.tick(now);
      }
      for (RoundTrip trip : parked.values()) {
        if (trip.expired(now)) {
          endRoundTrip(trip, "the client did not send the call again with its answers in time");
        }
      }
      ticks.incrementAndGet();
    } catch (RuntimeException e) {
      log.warn("the gateway's ticker failed", e);
    }
  }

  /** The result of a client's {@code initialize}, for the negotiated revision. */
  ObjectNode initializeResult(McpRevision revision) {
    InitializeAnswer.Declared declared = InitializeAnswer.Declared.NONE;
    List<String> instructions = new ArrayList<>();
    for (Backend backend : backends) {
      // Capabilities of a backend that is down now but was up before stay declared: it is
      // being restarted, and clients only look at capabilities once.
      if (!backend.everStarted()) {
        // Started in the background and not up yet: it may bring any list, announced later.
        declared = background ? declared.or(InitializeAnswer.Declared.LISTS) : declared;
        continue;
      }
      declared = declared.or(new InitializeAnswer.Declared(backend.has("tools"), backend.has("prompts"), backend.has("resources"),
          backend.has("resources", "subscribe"), backend.has("logging"), backend.has("completions")));
      String text = backend.instructions();
      if (text != null && !text.isBlank()) {
        instructions.add(backends.size() == 1 ? text : backend.name + ": " + text);
      }
    }
    return InitializeAnswer.result(revision, declared, serverName, serverVersion, instructions);
  }

  void sessionEnded(ClientSession session) {
    sessions.remove(session);
    router.forget(session);
    for (Backend backend : backends) {
      backend.sessionEnded(session);
    }
  }

  void onBackendUp(Upstream upstream, boolean restarted) {
    // A connection a session just made for itself is news to no one; a restarted one, or the
    // first connection of a backend that came up late, changes what its clients can list.
    if (restarted || upstream.owner() == null) {
      // Started in the background (sentinel stdio: one client, answered before its backends
      // were up): a backend's first coming up is news to every session, whose lists all lacked
      // it. Only that the lists changed: what they show stays the policy's.
      listsChanged(upstream, background && !restarted);
    }
    if (restarted && !upstream.modern()) {
      // A 2026-07-28 connection listens again with its subscriptions itself (Upstream#listen).
      router.resubscribe(upstream);
    }
  }

  void onBackendDown(Upstream upstream) {
    upstream.tools.invalidate();
    listsChanged(upstream, false);
  }

  private void listsChanged(Upstream upstream, boolean everyone) {
    Backend backend = upstream.backend;
    for (Router.Listing listing : Router.Listing.values()) {
      if (listing != Router.Listing.TEMPLATES && backend.has(listing.capability)) {
        notifyEntitled(upstream, JsonRpc.notification(listing.changed, null), listing, everyone);
      }
    }
  }

  /**
   * Sends a notification about a connection's lists: to the sessions it belongs to, or, from a
   * connection that belongs to no one, to the sessions whose principal may use something of that
   * kind on the backend (with {@code everyone}: to every session with a principal).
   */
  private void notifyEntitled(Upstream upstream, JsonNode message, Router.Listing listing, boolean everyone) {
    Upstream.Owner owner = upstream.owner();
    for (ClientSession session : sessions) {
      boolean subscribed = !session.initialized() && session.stateless() && session.listens(listing);
      if (!session.initialized() && !subscribed) {
        continue;
      }
      boolean entitled = owner != null ? belongsTo(session, owner)
          : session.owner() != null && (everyone || sentinel.visible(session.owner(),
              new Request(listing.useMethod, upstream.backend.name, null, Router.NO_ARGUMENTS)));
      if (entitled && subscribed) {
        session.notifySubscriptions(listing, message);
      } else if (entitled) {
        session.send(message);
      }
    }
  }

  /** Whether a session is (one of) those a connection belongs to. */
  static boolean belongsTo(ClientSession session, Upstream.Owner owner) {
    return owner.sessionId() != null ? owner.sessionId().equals(session.id())
        : Objects.requireNonNull(owner.principalId(), "an owner that is no session is a principal")
            .equals(session.ownerId());
  }

  /** Sends a message to the sessions an owned connection belongs to. */
  private void toOwners(Upstream upstream, JsonNode message) {
    Upstream.Owner owner = upstream.owner();
    if (owner == null) {
      return;
    }
    for (ClientSession session : sessions) {
      if (session.initialized() && belongsTo(session, owner)) {
        session.send(message);
      }
    }
  }

  /**
   * Sends a log message from an owned connection to the stateless sessions it belongs to that
   * have a request in flight on it asking for that level (MCP 2026-07-28: a request without
   * {@code io.modelcontextprotocol/logLevel} gets no log messages).
   */
  private void toStatelessLoggers(Upstream upstream, String level, JsonNode message) {
    Upstream.Owner owner = upstream.owner();
    if (owner == null) {
      return; // shared: its log messages go to the gateway's log
    }
    for (ClientSession session : sessions) {
      if (session.stateless() && belongsTo(session, owner) && session.wantsLog(upstream, level)) {
        session.send(message);
      }
    }
  }

  /**
   * Sends a client's notification on to the connections that serve that session alone (or its
   * principal alone); a shared connection never hears one client's roots, since it never asks.
   */
  void toBackends(ClientSession session, JsonNode message) {
    for (Backend backend : backends) {
      Upstream upstream = backend.isolated() ? backend.existingFor(session) : null;
      // An MCP 2026-07-28 backend takes no client notifications: each request carries what it needs.
      if (upstream != null && upstream.isUp() && !upstream.modern()) {
        upstream.send(message);
      }
    }
  }

  // ---- messages from backends -------------------------------------------------------------

  /** A notification from a backend connection; called on its transport's delivery thread. */
  void onBackendNotification(Upstream upstream, JsonRpcMessage notification) {
    JsonNode params = notification.params();
    String method = notification.requiredMethod();
    switch (method) {
      case "notifications/progress":
        router.progress(upstream, notification);
        break;
      case "notifications/cancelled":
        JsonNode requestId = params.path("requestId");
        RelayRef ref = JsonRpc.validId(requestId)
            ? relaysByBackendId.get(relayKey(upstream, requestId)) : null;
        if (ref != null) {
          ref.session().cancelRelay(ref.relayId(), params.path("reason").asString("cancelled by the backend"));
        }
        break;
      case "notifications/tools/list_changed":
        // Before anything else: no call may be checked against the old definitions from now on.
        upstream.tools.invalidate();
        if (upstream.isUp()) {
          notifyEntitled(upstream, notification.raw(), Router.Listing.TOOLS, false);
        }
        break;
      case "notifications/prompts/list_changed":
      case "notifications/resources/list_changed":
        // Before its initialize answer a connection is not listed yet; going up announces it.
        if (upstream.isUp()) {
          notifyEntitled(upstream, notification.raw(), Router.Listing.changedBy(method), false);
        }
        break;
      case "notifications/resources/updated":
        router.resourceUpdated(upstream, params.path("uri").asString(""), notification.raw());
        break;
      case "notifications/message":
        if (upstream.owner() == null) {
          logFromShared(upstream, params);
        } else {
          toOwners(upstream, notification.raw());
          toStatelessLoggers(upstream, params.path("level").asString(""), notification.raw());
        }
        break;
      case "notifications/tasks":
        // The Tasks extension's status notifications name tasks by the backend's ids, which no
        // client may see: not relayed (clients poll tasks/get, which the extension allows).
        log.debug("dropped {} from backend {}", method, upstream.label());
        break;
      default:
        // Notifications Sentinel does not know: to the sessions the connection belongs to only.
        if (upstream.owner() == null) {
          log.debug("dropped {} from shared backend {}", method, upstream.label());
        } else {
          toOwners(upstream, notification.raw());
        }
    }
  }

  /** A log message from a shared connection: to the gateway's log, redacted and bounded, never to a client. */
  private void logFromShared(Upstream upstream, JsonNode params) {
    backendLogMessages.computeIfAbsent(upstream.backend.name, name -> new AtomicLong()).incrementAndGet();
    Logger backendLog = LoggerFactory.getLogger("dev.sentinel.backend." + upstream.backend.name);
    String level = params.path("level").asString("info");
    if (!backendLog.isInfoEnabled() && !"error".equals(level) && !"warning".equals(level)) {
      return;
    }
    String logger = params.path("logger").asString("");
    String data = Objects.requireNonNull(logRedactor.redactText(params.path("data").toString()),
        "a redacted text is a text");
    if (data.length() > MAX_LOGGED_CHARS) {
      data = data.substring(0, MAX_LOGGED_CHARS) + "…";
    }
    switch (level) {
      case "debug":
        backendLog.debug("{}{}", logger.isEmpty() ? "" : logger + ": ", data);
        break;
      case "warning":
        backendLog.warn("{}{}", logger.isEmpty() ? "" : logger + ": ", data);
        break;
      case "error":
      case "critical":
      case "alert":
      case "emergency":
        backendLog.error("{}{}", logger.isEmpty() ? "" : logger + ": ", data);
        break;
      default:
        backendLog.info("{}{}", logger.isEmpty() ? "" : logger + ": ", data);
    }
  }

  private static final int MAX_LOGGED_CHARS = 2048;

  /** A request from a backend connection to the client side; called on its transport's delivery thread. */
  void onBackendRequest(Upstream upstream, JsonRpcMessage request) {
    String method = request.requiredMethod();
    String capability;
    switch (method) {
      case "ping":
        upstream.send(JsonRpc.result(request.requiredId(), NODES.objectNode()));
        return;
      case "sampling/createMessage":
        capability = "sampling";
        break;
      case "elicitation/create":
        capability = "elicitation";
        break;
      case "roots/list":
        capability = "roots";
        break;
      default:
        upstream.send(JsonRpc.methodNotFound(request.requiredId(), method));
        return;
    }
    Upstream.Owner owner = upstream.owner();
    if (owner == null) {
      log.info("refused {} from backend {}: its connection is shared, so no client's call can be told to have"
          + " caused it (isolation per_session or per_principal relays it)", method, upstream.label());
      upstream.send(JsonRpc.error(request.id(), ErrorCode.METHOD_NOT_FOUND, "method not found: " + method
          + " is not relayed on a connection the gateway shares between clients"));
      return;
    }
    RoundTrip trip = roundTripAsking(upstream, owner);
    if (trip != null) {
      askRoundTrip(upstream, trip, capability, request);
      return;
    }
    ClientSession target = requester(upstream, owner);
    if (target == null) {
      upstream.send(JsonRpc.error(request.id(), ErrorCode.METHOD_NOT_FOUND, "method not found: no client session"
          + " of this connection can be told to have caused " + method));
      return;
    }
    if (target.stateless()) {
      // A 2026-07-28 client takes no server requests: they reach it as input_required results
      // (multi round-trip requests), which Sentinel does not relay yet. A client that did not
      // even declare the capability gets -32021 for the request that needed it: a tool call,
      // prompt or resource read (the requests 2026-07-28 lets need input) asking for sampling or
      // elicitation. Not for roots: servers ask for them on their own (server-everything does
      // once initialized), so a roots/list is no sign that the request in flight needs them,
      // and failing that request would break a call the backend can serve.
      InFlight cause = target.statelessRequestOn(upstream);
      if (cause != null && !"roots".equals(capability) && NEEDS_INPUT.contains(cause.method)
          && cause.stateless != null && !cause.stateless.supports(capability)) {
        cause.missingCapability = capability;
      }
      upstream.send(JsonRpc.error(request.id(), ErrorCode.METHOD_NOT_FOUND, "method not found: " + method
          + " does not reach an MCP 2026-07-28 client through Sentinel"));
      return;
    }
    if (!target.supports(capability)
        || ("elicitation".equals(capability)
            && !Objects.requireNonNull(target.revision(), "a session that is not stateless is initialized")
                .supportsElicitation())) {
      upstream.send(JsonRpc.error(request.id(), ErrorCode.METHOD_NOT_FOUND,
          "method not found: the client does not support " + method));
      return;
    }
    try {
      executor.execute(() -> relay(upstream, target, request));
    } catch (RejectedExecutionException e) {
      upstream.send(JsonRpc.error(request.id(), ErrorCode.TOO_MANY_PENDING, "too many pending requests: the gateway is busy"));
    }
  }

  // ---- multi round-trip requests of stateless clients to older backends -------------------

  /**
   * The stateless client's call that a connection's request (a question) comes from: the one
   * round trip on the connection with an attempt waiting on it, else the one parked there (a
   * backend asks its next question once it has its answers, which only an attempt brings); and
   * only when no other request of the connection's sessions in flight could have caused the
   * question. Else {@code null}: never a guess. The connection is one principal's, so a question
   * can at worst be shown with another call of the same principal.
   */
  private @Nullable RoundTrip roundTripAsking(Upstream upstream, Upstream.Owner owner) {
    @Nullable RoundTrip waitedOn = null;
    @Nullable RoundTrip parkedOne = null;
    int waiting = 0;
    int parkedCount = 0;
    for (RoundTrip trip : upstream.roundTrips) {
      if (trip.attached()) {
        waiting++;
        waitedOn = trip;
      } else {
        parkedCount++;
        parkedOne = trip;
      }
    }
    RoundTrip trip = waiting == 1 ? waitedOn : waiting == 0 && parkedCount == 1 ? parkedOne : null;
    if (trip == null) {
      return null;
    }
    for (ClientSession session : sessions) {
      if (belongsTo(session, owner) && session.mayHaveAsked(upstream, trip)) {
        return null;
      }
    }
    return trip;
  }

  /**
   * Takes a backend's question for a stateless client's call: governed and asked in the call's
   * next {@code input_required} result when the client declared the capability; else refused
   * (and the client's request answered {@code -32021}, except for roots, which servers ask for on
   * their own).
   */
  private void askRoundTrip(Upstream upstream, RoundTrip trip, String capability, JsonRpcMessage request) {
    InFlight attempt = trip.work();
    if (!Objects.requireNonNull(attempt.stateless, "a round trip is a stateless request's").supports(capability)) {
      if (!"roots".equals(capability)) {
        attempt.missingCapability = capability;
      }
      upstream.send(JsonRpc.error(request.id(), ErrorCode.METHOD_NOT_FOUND, "method not found: "
          + request.method() + " does not reach this MCP 2026-07-28 client: it did not declare " + capability));
      return;
    }
    try {
      executor.execute(() -> relayRoundTrip(upstream, trip, request));
    } catch (RejectedExecutionException e) {
      upstream.send(JsonRpc.error(request.id(), ErrorCode.TOO_MANY_PENDING, "too many pending requests: the gateway is busy"));
    }
  }

  /**
   * A backend's question for a stateless client's call, governed as the call's session's request
   * (the pipeline decides it; the client's answer is its result), asked in the call's next
   * {@code input_required} result and answered to the backend when a retry brings the answer.
   */
  private void relayRoundTrip(Upstream upstream, RoundTrip trip, JsonRpcMessage request) {
    ClientSession session = trip.session();
    InFlight attempt = trip.work();
    Request governed = new Request(request.requiredMethod(), upstream.backend.name, null, request.params());
    CallResult<JsonNode> result = sentinel.call(
        session.call(attempt, governed, request.idText()),
        ignored -> {
          RoundTrip.Question question = trip.ask(request.requiredMethod(), request.params());
          if (question == null && !trip.ended()) {
            throw new RefusedException(new Refusal(Outcome.LIMITED, List.of("questions_per_call"),
                "too many questions of one call wait for answers (at most " + RoundTrip.MAX_OPEN_QUESTIONS + ")",
                Duration.ofSeconds(1)));
          }
          if (question == null) {
            throw new CancellationException("the call the question is for has ended");
          }
          try {
            return question.answer.get();
          } catch (ExecutionException e) {
            // A refusal (too many parked calls) is recorded as one.
            Throwable cause = Upstream.unwrap(e);
            throw cause instanceof Exception ? (Exception) cause : e;
          }
        });
    ObjectNode answered = result.value() == null ? null : JsonRpc.result(request.requiredId(), result.value());
    ObjectNode reply = Router.reply(result, request.requiredId(), answered, "the client");
    if (reply != null) {
      upstream.send(reply);
    }
  }

  /**
   * Parks a stateless client's call whose backend asked {@code questions}: the attempt's answer
   * is an {@code input_required} result with them and a state that continues the call. A parked
   * call holds a slot of its principal's parked calls (at most {@code maxInFlightPerPrincipal},
   * beside as many in flight) until a retry continues it or it ends; over that bound its
   * questions are refused to the backend. Returns {@code null} when the call is not parked
   * (over the bound, ended, or past its deadline): the attempt then waits on.
   */
  @Nullable ObjectNode park(RoundTrip trip, InFlight work, List<RoundTrip.Question> questions) {
    long left = trip.deadlineNanos - clock.nanoTime();
    if (left <= 0) {
      return null;
    }
    String slot = work.quotaKey == null ? null : PARKED_SLOT + work.quotaKey;
    if (slot != null && !acquireInFlight(slot)) {
      Refusal refusal = new Refusal(Outcome.LIMITED, List.of("max_in_flight_per_principal"), "too many calls of"
          + " this principal wait for its answers to their backends' questions (max_in_flight_per_principal: "
          + maxInFlightPerPrincipal + ")", Duration.ofSeconds(1));
      for (RoundTrip.Question question : questions) {
        question.answer.completeExceptionally(new RefusedException(refusal));
      }
      return null;
    }
    String nonce = requestStates.nonce();
    if (!trip.park(nonce, slot)) {
      if (slot != null) {
        releaseInFlight(slot);
      }
      return null;
    }
    work.detached();
    parked.put(nonce, trip);
    ObjectNode result = NODES.objectNode().put("resultType", "input_required");
    result.set("inputRequests", RoundTrip.inputRequests(questions));
    result.put("requestState", requestStates.issue(trip.binding, Duration.ofNanos(left), nonce));
    return JsonRpc.result(work.clientId, result);
  }

  /**
   * The parked call a retry's {@code requestState} continues, redeemed for it, or why none is:
   * the state must be this gateway's, for this call ({@code binding}: principal, request and
   * policy revision), in time, unused, and its call still parked here.
   */
  @Nullable RoundTrip redeemRoundTrip(String state, String binding, StringBuilder why) {
    String nonce = requestStates.nonceOf(state);
    String bound = RoundTrip.BINDING_PREFIX + binding;
    // A state of a call that does not run here is refused before it is redeemed: the gateway
    // where the call runs still takes it.
    RequestStates.Check check = requestStates.check(state, bound, false);
    if (check == RequestStates.Check.REDEEMED) {
      check = nonce == null || !parked.containsKey(nonce) ? null : requestStates.redeem(state, bound);
    }
    if (check == null) {
      why.append("the call that this request's requestState continues is no longer running here: it ended,"
          + " timed out, or runs on another gateway; send the request there, or without requestState");
      return null;
    }
    switch (check) {
      case REDEEMED:
        RoundTrip trip = parked.remove(nonce);
        if (trip == null) {
          why.append("the call that this request's requestState continues ended meanwhile; send the request"
              + " without requestState");
        }
        return trip;
      case EXPIRED:
        why.append("the requestState sent with this request has expired; send the request without it");
        return null;
      case USED:
        why.append("the requestState sent with this request was used before; each is accepted once");
        return null;
      case UNVERIFIABLE:
        why.append("the requestState sent with this request could not be checked: the store the gateways"
            + " share is unavailable; try again later");
        return null;
      default:
        why.append("the requestState sent with this request was not issued by this gateway for this call"
            + " (altered, another principal's or another call's, or from before a policy change); nothing"
            + " was forwarded: send the request without it");
        return null;
    }
  }

  /** Whether a retry's state would continue a call parked here under {@code binding}, without redeeming it. */
  boolean continuable(String state, String binding) {
    if (state.startsWith(RequestStates.RELAY_PREFIX)) {
      // The retry of a call whose MCP 2026-07-28 backend asked questions: decided and confirmed
      // when first forwarded; its state is accepted once.
      return requestStates.open(state, Router.RELAY_BINDING_PREFIX + binding, false).check()
          == RequestStates.Check.REDEEMED;
    }
    String nonce = requestStates.nonceOf(state);
    return nonce != null && parked.containsKey(nonce)
        && requestStates.check(state, RoundTrip.BINDING_PREFIX + binding, false) == RequestStates.Check.REDEEMED;
  }

  /** Ends a round trip: its backend call is cancelled if it still runs, its slot and questions released. */
  void endRoundTrip(RoundTrip trip, @Nullable String reason) {
    String nonce = trip.nonce();
    if (nonce != null) {
      parked.remove(nonce, trip);
    }
    String slot = trip.end();
    trip.upstream.roundTrips.remove(trip);
    if (slot != null) {
      releaseInFlight(slot);
    }
    Upstream.Outgoing call = trip.outgoing();
    if (reason != null && call != null && !call.response().isDone()) {
      trip.upstream.cancel(call.id(), reason);
    }
  }

  /** The calls parked now (for tests and metrics). */
  int parkedRoundTrips() {
    return parked.size();
  }

  /**
   * The session a connection's request goes to: the session it belongs to; for a principal's
   * connection, the principal's one session with a request in flight on it (none when there are
   * none, or several: never a guess).
   */
  private @Nullable ClientSession requester(Upstream upstream, Upstream.Owner owner) {
    @Nullable ClientSession found = null;
    for (ClientSession session : sessions) {
      // Stateless sessions count too: a request of theirs is never relayed to another session.
      if (!(session.initialized() || session.stateless()) || !belongsTo(session, owner)) {
        continue;
      }
      if (owner.sessionId() != null) {
        return session;
      }
      if (session.latestRequestTo(upstream) >= 0) {
        if (found != null) {
          return null;
        }
        found = session;
      }
    }
    return found;
  }

  private static String relayKey(Upstream upstream, JsonNode backendId) {
    return upstream.serial + "\u0000" + JsonRpc.idKey(backendId);
  }

  private void relay(Upstream upstream, ClientSession session, JsonRpcMessage request) {
    long relayId = nextId();
    String key = relayKey(upstream, request.requiredId());
    relaysByBackendId.put(key, new RelayRef(session, relayId));
    AtomicReference<ObjectNode> answer = new AtomicReference<>();
    CallResult<JsonNode> result;
    // The request is taken to be about the client's latest request on the connection: it goes
    // where that request's answer goes, and is decided as that request's principal's. About
    // none, it is decided by the client's latest credentials, authenticated now: a principal
    // taken from an earlier exchange could have been revoked or expired since.
    InFlight about = session.latestOn(upstream);
    try {
      Request governed = new Request(request.requiredMethod(), upstream.backend.name, null, request.params());
      Call call = about != null ? session.call(about, governed, request.idText())
          : new Call(session.credentials(), governed, session.id(), session.clientLabel(), request.idText(),
              session.ownerId());
      result = sentinel.call(call,
          ignored -> {
            JsonRpcMessage response =
                session.relay(relayId, request.requiredMethod(), request.params(), about).response();
            answer.set(response.object());
            return response.result();
          });
    } finally {
      relaysByBackendId.remove(key);
    }
    ObjectNode reply = Router.reply(result, request.requiredId(), answer.get(), "the client");
    if (reply != null) {
      upstream.send(reply);
    }
  }

  /**
   * Assembles a {@link McpGateway}. Setters validate at once. Not thread-safe; the gateway is.
   */
  public static final class Builder {
    private @Nullable Sentinel sentinel;
    private final Map<String, Supplier<Transport>> connectors = new LinkedHashMap<>();
    private final Map<String, BackendOptions> options = new LinkedHashMap<>();
    private String separator = "__";
    private boolean prefixSingleBackend = true;
    private Duration requestTimeout = Duration.ofSeconds(60);
    private Duration startTimeout = Duration.ofSeconds(30);
    private Duration probePatience = Upstream.PROBE_PATIENCE;
    private int maxPendingRequests = 256;
    private int maxTasksPerPrincipal = Tasks.DEFAULT_PER_PRINCIPAL;
    private int maxTasks = Tasks.DEFAULT_MAX;
    private int maxInFlightPerPrincipal = 32;
    private Duration restartMin = Duration.ofMillis(500);
    private Duration restartMax = Duration.ofSeconds(30);
    private String serverName = "sentinel";
    private String serverVersion = InitializeAnswer.version();
    private Clock clock = Clock.system();
    private @Nullable ExecutorService executor;
    private @Nullable PinStore pinStore;
    private Notifier notifier = Notifier.none();
    private byte @Nullable [] requestStateKey;
    private dev.sentinel.core.state.@Nullable RequestStateLedger requestStateLedger;

    private Builder() {}

    /**
     * What the gateways behind one address share for the {@code requestState} of their MCP
     * 2026-07-28 clients: its key signs the states (unless {@link #requestStateKey} gives one), and
     * a state is redeemed once on any of them. By default, this process's key and memory.
     */
    public Builder requestStateLedger(dev.sentinel.core.state.RequestStateLedger ledger) {
      this.requestStateLedger = Objects.requireNonNull(ledger, "ledger");
      return this;
    }

    /**
     * Where the tool-definition pins of backends with {@code pinning} on are kept: a database's
     * store that every gateway on it shares. By default, this gateway's memory.
     */
    public Builder pinStore(PinStore store) {
      this.pinStore = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * Where operators' events of this engine go: a backend listing a changed tool definition
     * ({@code tool.changed}). None by default.
     */
    public Builder notifier(Notifier notifier) {
      this.notifier = Objects.requireNonNull(notifier, "notifier");
      return this;
    }

    /**
     * The key that signs the {@code requestState} of the gateway's own questions to MCP
     * 2026-07-28 clients (a confirmation asked as {@code input_required}), at least 32 bytes:
     * gateways behind one address need the same key, so that a client's answer can reach any of
     * them. By default a random key of this process.
     */
    public Builder requestStateKey(byte[] key) {
      if (Objects.requireNonNull(key, "key").length < 32) {
        throw new IllegalArgumentException("the request state key must have at least 32 bytes");
      }
      this.requestStateKey = key.clone();
      return this;
    }

    /** The governance pipeline every routed request passes; required. */
    public Builder sentinel(Sentinel sentinel) {
      this.sentinel = Objects.requireNonNull(sentinel, "sentinel");
      return this;
    }

    /**
     * Adds a backend with the default options ({@link BackendOptions#DEFAULTS}: a connection per
     * client session). Lists show backends in the order they were added. The connector is called
     * for every (re)connection and returns a new, unstarted transport.
     *
     * @param name the backend's name, the prefix of its tools and prompts; letters, digits,
     *     {@code -} and {@code _}
     */
    public Builder backend(String name, Supplier<Transport> connector) {
      return backend(name, connector, BackendOptions.DEFAULTS);
    }

    /**
     * Adds a backend with its connection options: its isolation, the bounds of its connection
     * pool, the resource URI prefixes it serves.
     */
    public Builder backend(String name, Supplier<Transport> connector, BackendOptions backendOptions) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(connector, "connector");
      Objects.requireNonNull(backendOptions, "backendOptions");
      if (!name.matches("[A-Za-z0-9_-]+")) {
        throw new IllegalArgumentException(
            "backend name '" + name + "' must be letters, digits, '-' or '_'");
      }
      if (connectors.containsKey(name)) {
        throw new IllegalArgumentException("backend '" + name + "' is already defined");
      }
      connectors.put(name, connector);
      options.put(name, backendOptions);
      return this;
    }

    /**
     * How tool and prompt names are namespaced: {@code <backend><separator><name>}, by default
     * with {@code "__"}; with a single backend and {@code prefixSingleBackend} false, names are
     * shown as the backend has them.
     */
    public Builder namespacing(String separator, boolean prefixSingleBackend) {
      Objects.requireNonNull(separator, "separator");
      if (separator.isEmpty()) {
        throw new IllegalArgumentException("separator must not be empty");
      }
      this.separator = separator;
      this.prefixSingleBackend = prefixSingleBackend;
      return this;
    }

    /** How long a backend (or a client answering a backend) has to answer; 60 s by default. */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "requestTimeout");
      return this;
    }

    /** How long {@link #start()} waits for backends to initialize; 30 s by default. */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = positive(timeout, "startTimeout");
      return this;
    }

    /** How long the {@code server/discover} probe is waited on before {@code initialize} is sent too (tests). */
    Builder probePatience(Duration patience) {
      this.probePatience = positive(patience, "probePatience");
      return this;
    }

    /**
     * Live tasks of the Tasks extension ({@code io.modelcontextprotocol/tasks}) one principal may
     * hold: created through the gateway and not yet seen to end nor expired. A call that could
     * create one more is sent without the extension (a tool that needs a task is then refused
     * with {@code -32014}, naming the bound). 32 by default.
     */
    public Builder maxTasksPerPrincipal(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxTasksPerPrincipal must be at least 1, was " + max);
      }
      this.maxTasksPerPrincipal = max;
      return this;
    }

    /**
     * Tasks of the Tasks extension the gateway holds at most, of every principal together: live,
     * ended and reserved (the oldest ended ones make room first). At least {@link
     * #maxTasksPerPrincipal}; 10,000 by default.
     */
    public Builder maxTasks(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxTasks must be at least 1, was " + max);
      }
      this.maxTasks = max;
      return this;
    }

    /** Requests one client may have in flight; more are refused with -32000. 256 by default. */
    public Builder maxPendingRequests(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxPendingRequests must be at least 1, was " + max);
      }
      this.maxPendingRequests = max;
      return this;
    }

    /**
     * Requests one principal may have in flight across all its sessions; more are refused with
     * {@code -32014} (and recorded), so that one principal cannot take every worker. 32 by
     * default, an eighth of the default worker pool.
     */
    public Builder maxInFlightPerPrincipal(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxInFlightPerPrincipal must be at least 1, was " + max);
      }
      this.maxInFlightPerPrincipal = max;
      return this;
    }

    /** The reconnection backoff of a failed backend: doubling from min up to max. 0.5 s to 30 s by default. */
    public Builder restartBackoff(Duration min, Duration max) {
      positive(min, "min");
      positive(max, "max");
      if (max.compareTo(min) < 0) {
        throw new IllegalArgumentException("restart backoff max " + max + " must not be less than min " + min);
      }
      this.restartMin = min;
      this.restartMax = max;
      return this;
    }

    /** The name and version announced to clients (and to backends as clientInfo). */
    public Builder serverInfo(String name, String version) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(version, "version");
      if (name.isBlank()) {
        throw new IllegalArgumentException("server name must not be blank");
      }
      this.serverName = name;
      this.serverVersion = version;
      return this;
    }

    /** The clock for timeouts and backoff; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Where requests are handled; the caller keeps ownership (the gateway does not shut it
     * down). By default a bounded pool of daemon threads owned by the gateway. A request the
     * executor rejects is answered with -32000.
     */
    public Builder executor(ExecutorService executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Builds the gateway; call {@link McpGateway#start()} next.
     *
     * @throws IllegalArgumentException if two backend names make namespaced names ambiguous
     */
    public McpGateway build() {
      if (connectors.size() > 1 || prefixSingleBackend) {
        String ambiguity = Naming.ambiguity(List.copyOf(connectors.keySet()), separator);
        if (ambiguity != null) {
          throw new IllegalArgumentException(ambiguity);
        }
      }
      return new McpGateway(this);
    }

    private static Duration positive(Duration duration, String name) {
      Objects.requireNonNull(duration, name);
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + duration);
      }
      return duration;
    }
  }

  /** For tests and diagnostics: the sessions being served. */
  Set<ClientSession> sessions() {
    return new LinkedHashSet<>(sessions);
  }
}
