package dev.sentinel.mcp.transport;

import dev.sentinel.api.Transport;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A backend MCP server over Streamable HTTP (MCP revisions 2025-03-26 to 2025-11-25), on Jetty's
 * asynchronous {@link HttpClient} (HTTP/1.1, a pool of keep-alive connections to the backend).
 *
 * <p>Each sent message is a POST to the endpoint ({@code Content-Type: application/json}, {@code
 * Accept: application/json, text/event-stream}, plus the spec's headers). The answer may be 202
 * (nothing to deliver), one JSON message, or a server-sent event stream whose {@code data}
 * events are delivered as messages, in order, as they arrive. The {@code Mcp-Session-Id} the
 * server assigns in its answer to {@code initialize} is sent on every later request, and so is
 * {@code MCP-Protocol-Version} once the initialize result has passed through (its {@code
 * protocolVersion} is read on the way). Once the client has sent {@code
 * notifications/initialized}, a GET event stream is opened for messages the server starts
 * itself (a 405 means the server offers none). A stream that drops is resumed with a GET
 * carrying {@code Last-Event-ID}, after the server's {@code retry} delay or an exponential
 * backoff. Only these headers and the spec's are sent: nothing from the gateway's clients (no
 * cookies are kept either).
 *
 * <p>Failures: a 404 to a request carrying the session id means the session expired, and the
 * transport ends with {@link SessionExpiredException} so the engine can start a new session.
 * Any other failure of a request (an HTTP error, a timeout, a refused connection, a stream that
 * ended without the response, an answer over the size bound) is answered with a synthetic
 * JSON-RPC error response for that request's id ({@code -32001} for a timeout, {@code -32603}
 * otherwise, with {@code data.backend} and, for an HTTP status, {@code data.httpStatus}), so only
 * that call fails; failures of notifications and responses are logged. {@link #close()} ends
 * the session with a DELETE (a 405 is fine) and stops the client and its threads, unless the
 * client is {@linkplain #connect(HttpSpec, Client) shared} by several transports.
 *
 * <p>Connections: a connect timeout and, per POST, a timeout until the status and headers arrive
 * (a long event stream is not cut off). Requests are asynchronous: no thread waits for an answer
 * (a few pool threads and one selector serve all of them), and each answer is parsed and
 * delivered on the thread that reads it. The client sets {@code TCP_NODELAY}, so small JSON-RPC
 * messages are not held back by Nagle's algorithm. HTTP/1.1 is used for {@code http} and {@code
 * https} alike.
 *
 * <p>Thread-safe: {@link #send} may be called from any thread and does not wait for the answer.
 * Messages from one response or event stream are delivered in the order they arrive; messages
 * from different streams may interleave.
 */
public final class StreamableHttpTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(StreamableHttpTransport.class);
  private static final int ERROR_BODY_BYTES = 64 * 1024;
  private static final long BACKOFF_START_MILLIS = 500;
  private static final long BACKOFF_MAX_MILLIS = 30_000;
  private static final int RESUME_ATTEMPTS = 5;
  private static final int LISTEN_ATTEMPTS = 10;
  private static final int MAX_THREADS = 16;
  private static final long STOP_MILLIS = 2_000;
  private static final long IDLE_CONNECTION_MILLIS = 60_000;
  private static final String ACCEPT = "application/json, text/event-stream";
  private static final byte[] NO_BYTES = new byte[0];
  static final int INTERNAL_ERROR = -32603;
  static final int TIMEOUT_ERROR = -32001;

  private final HttpSpec spec;
  private final JsonFraming framing;
  private final String threadPrefix;
  private final Client shared;
  private final boolean ownsClient;
  private final HttpClient client;
  private final Scheduler scheduler;
  private final Delivery delivery;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean listening = new AtomicBoolean();
  private final AtomicBoolean listenOpen = new AtomicBoolean();
  private final Set<Request> inFlight = ConcurrentHashMap.newKeySet();
  private volatile @Nullable String sessionId;
  private volatile @Nullable String protocolVersion;
  private volatile @Nullable JsonNode initializeId;
  /** What the {@code Mcp-Param-*} headers of MCP 2026-07-28 tool calls mirror, learned from tools/list. */
  private final ParamHeaderMirror mirror = new ParamHeaderMirror();

  private StreamableHttpTransport(HttpSpec spec, Client shared, boolean owns) {
    this.spec = spec;
    this.framing = new JsonFraming(spec.limits());
    this.shared = shared;
    this.ownsClient = owns;
    this.threadPrefix = shared.threadPrefix;
    this.client = shared.client;
    this.scheduler = shared.scheduler;
    this.delivery = new Delivery("http-" + spec.name());
  }

  /**
   * An HTTP client (a selector, a small thread pool and a timer) that several transports to one
   * backend share, so that a connection per client session costs a backend session, not a
   * client with threads of its own. Thread-safe; {@link #close()} stops it, after the
   * transports that use it are closed.
   */
  public static final class Client implements AutoCloseable {
    final String threadPrefix;
    final HttpClient client;
    final Scheduler scheduler;
    private final String name;
    private final AtomicBoolean stopped = new AtomicBoolean();

    private Client(String name, Duration connectTimeout) {
      this.name = name;
      this.threadPrefix = "sentinel-http-" + name + "@" + Integer.toHexString(System.identityHashCode(this));
      QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 2);
      threads.setName(threadPrefix);
      threads.setDaemon(true);
      threads.setReservedThreads(0);
      threads.setStopTimeout(STOP_MILLIS);
      this.scheduler = new ScheduledExecutorScheduler(threadPrefix + "-timer", true);
      this.client = new HttpClient();
      client.setName(threadPrefix);
      client.setExecutor(threads);
      client.setScheduler(scheduler);
      client.setConnectTimeout(connectTimeout.toMillis());
      client.setFollowRedirects(false);
      client.setHttpCookieStore(new HttpCookieStore.Empty());
      client.setUserAgentField(null);
      client.setIdleTimeout(IDLE_CONNECTION_MILLIS);
      client.setMaxConnectionsPerDestination(64);
      client.setMaxRequestsQueuedPerDestination(4096);
      client.getContentDecoderFactories().clear();
      try {
        client.start();
      } catch (Exception e) {
        close();
        throw new IllegalStateException("HTTP client for backend '" + name + "' did not start: " + e, e);
      }
    }

    /** A started client for the spec's backend (its name and connect timeout). */
    public static Client start(HttpSpec spec) {
      Objects.requireNonNull(spec, "spec");
      return new Client(spec.name(), spec.connectTimeout());
    }

    /** Stops the client and its threads. Idempotent. */
    @Override
    public void close() {
      synchronized (stopped) {
        if (stopped.get()) {
          return;
        }
        try {
          client.stop();
        } catch (Exception e) {
          LOG.debug("backend {}: stopping the HTTP client: {}", name, e.toString());
        }
        stopped.set(true);
      }
    }
  }

  /**
   * A transport to the server at the spec's URL. Nothing is sent until the first {@link #send}:
   * Streamable HTTP has no connection of its own, the session starts with {@code initialize}.
   * The transport's HTTP client (a selector and a small thread pool) runs until {@link #close}.
   */
  public static StreamableHttpTransport connect(HttpSpec spec, Client shared) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(shared, "shared");
    return new StreamableHttpTransport(spec, shared, false);
  }

  /**
   * A transport to the server at the spec's URL, with an HTTP client of its own that {@link
   * #close()} stops. See {@link #connect(HttpSpec, Client)} to share one between transports.
   */
  public static StreamableHttpTransport connect(HttpSpec spec) {
    Objects.requireNonNull(spec, "spec");
    return new StreamableHttpTransport(spec, Client.start(spec), true);
  }

  /** Starts delivering incoming messages. Called once. */
  @Override
  public void start(Receiver receiver) {
    Objects.requireNonNull(receiver, "receiver");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("transport of backend '" + spec.name() + "' already started");
    }
    delivery.start(receiver);
  }

  /**
   * POSTs the message and returns without waiting for the answer, which is delivered when it
   * comes (or replaced by a synthetic error response, see the class description).
   *
   * @throws IOException when the transport is closed
   */
  @Override
  public void send(JsonNode message) throws IOException {
    Objects.requireNonNull(message, "message");
    if (closing.get() || delivery.ended()) {
      throw new IOException("transport of backend '" + spec.name() + "' is closed");
    }
    JsonNode id = requestId(message);
    String method = message.path("method").asString("");
    if (id != null && method.equals("initialize")) {
      initializeId = id;
    }
    byte[] body = framing.bytes(message);
    String session = sessionId;
    Request request = request(HttpMethod.POST, ACCEPT)
        .body(new BytesRequestContent("application/json", body));
    String stateless = message.path("params").path("_meta").path(STATELESS_VERSION).asString("");
    if (!stateless.isEmpty()) {
      // An MCP 2026-07-28 request: no session; the headers mirror the body, as servers check.
      session = null;
      String name = mirroredName(method, message.path("params"));
      Map<String, String> params = "tools/call".equals(method) ? mirror.headers(message.path("params")) : Map.of();
      mirror.sending(id, method);
      request.headers(headers -> {
        headers.remove("Mcp-Session-Id");
        headers.put("MCP-Protocol-Version", stateless);
        headers.put("Mcp-Method", method);
        if (name != null) {
          headers.put("Mcp-Name", name);
        }
        params.forEach(headers::put);
      });
    }
    dispatch(request, new Stream(Kind.POST, request, id, method, session, null, 0), true);
  }

  /** The {@code _meta} key of an MCP 2026-07-28 request's protocol version. */
  private static final String STATELESS_VERSION = "io.modelcontextprotocol/protocolVersion";

  /**
   * The {@code Mcp-Name} header of an MCP 2026-07-28 request: the tool or prompt name, the
   * resource URI, or the task id of the Tasks extension's {@code tasks/*}, as is when it is visible ASCII, else in the {@code =?base64?...?=} form;
   * {@code null} for other methods.
   */
  static @Nullable String mirroredName(String method, JsonNode params) {
    JsonNode value;
    switch (method) {
      case "tools/call":
      case "prompts/get":
        value = params.path("name");
        break;
      case "resources/read":
        value = params.path("uri");
        break;
      case "tasks/get":
      case "tasks/update":
      case "tasks/cancel":
        value = params.path("taskId");
        break;
      default:
        return null;
    }
    if (!value.isString()) {
      return null;
    }
    String text = value.stringValue();
    boolean plain = !text.isEmpty() && text.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)
        && !text.startsWith("=?");
    return plain ? text : ParamHeaderMirror.base64Form(text);
  }

  private Request request(HttpMethod method, @Nullable String accept) {
    // no idle timeout during an exchange (a quiet event stream or a slow answer is bounded by
    // the request timeout, not cut off after Jetty's default 30 s); pooled idle connections
    // keep the client's idle timeout
    Request request = client.newRequest(spec.url()).method(method).version(HttpVersion.HTTP_1_1)
        .idleTimeout(0, TimeUnit.MILLISECONDS);
    String session = sessionId;
    String version = protocolVersion;
    request.headers(headers -> {
      for (Map.Entry<String, String> header : spec.headers().entrySet()) {
        headers.put(header.getKey(), header.getValue());
      }
      if (accept != null) {
        headers.put(HttpHeader.ACCEPT, accept);
      }
      if (session != null) {
        headers.put("Mcp-Session-Id", session);
      }
      if (version != null) {
        headers.put("MCP-Protocol-Version", version);
      }
    });
    return request;
  }

  /** Sends asynchronously; with a bound on waiting for the status and headers when asked. */
  private void dispatch(Request request, Stream stream, boolean headerTimeout) {
    inFlight.add(request);
    if (closing.get()) {
      // close() may have aborted what was in flight before this request was added
      inFlight.remove(request);
      stream.dropped();
      return;
    }
    if (headerTimeout) {
      long millis = spec.requestTimeout().toMillis();
      stream.timeout = scheduler.schedule(() -> {
        if (!stream.headersSeen) {
          request.abort(new TimeoutException(
              "no answer within " + spec.requestTimeout()));
        }
      }, millis, TimeUnit.MILLISECONDS);
    }
    request.send(stream);
  }

  private enum Kind { POST, RESUME, LISTEN }

  private enum Mode { NONE, JSON, SSE, ERROR, OTHER, RETRY }

  /**
   * One request's answer: status and headers, then content parsed as it arrives. Jetty calls one
   * exchange's listener methods one at a time.
   */
  private final class Stream implements Response.Listener {
    private final Kind kind;
    private final Request request;
    private final @Nullable JsonNode id;
    private final String method;
    private final @Nullable String session;
    private final @Nullable String lastEventIdSent;
    private final int attempt;
    volatile boolean headersSeen;
    volatile Scheduler.@Nullable Task timeout;
    private Mode mode = Mode.NONE;
    private int status;
    private String type = "";
    // grown for a JSON or error body, which onHeaders starts at 256 bytes
    private byte[] buffer = NO_BYTES;
    private int length;
    private boolean overflow;
    // set by onHeaders in Mode.SSE, the only mode that reads events
    private @Nullable SseParser events;
    private boolean answered;
    private boolean deliveryEnded;

    Stream(Kind kind, Request request, @Nullable JsonNode id, String method,
        @Nullable String session, @Nullable String lastEventIdSent, int attempt) {
      this.kind = kind;
      this.request = request;
      this.id = id;
      this.method = method;
      this.session = session;
      this.lastEventIdSent = lastEventIdSent;
      this.attempt = attempt;
    }

    @Override
    public void onHeaders(Response response) {
      headersSeen = true;
      cancelTimeout();
      status = response.getStatus();
      type = contentType(response.getHeaders());
      String current = kind == Kind.POST ? session : sessionId;
      if (kind == Kind.POST && id != null && id.equals(initializeId)) {
        learnSession(response.getHeaders());
      }
      if (status == 404 && current != null) {
        mode = Mode.OTHER;
        expire(current);
        return;
      }
      switch (kind) {
        case POST:
          if (status < 200 || status > 299) {
            mode = Mode.ERROR;
          } else if (type.startsWith("text/event-stream")) {
            mode = Mode.SSE;
          } else if (type.startsWith("application/json")) {
            mode = Mode.JSON;
          } else {
            mode = Mode.OTHER;
          }
          break;
        case RESUME:
          mode = status == 200 && type.startsWith("text/event-stream") ? Mode.SSE : Mode.RETRY;
          break;
        case LISTEN:
        default:
          if (status == 405) {
            LOG.debug("backend {}: offers no GET stream (405)", spec.name());
            mode = Mode.OTHER;
          } else if (status == 200 && type.startsWith("text/event-stream")) {
            listenOpen.set(true);
            mode = Mode.SSE;
          } else {
            mode = Mode.RETRY;
          }
          break;
      }
      if (mode == Mode.SSE) {
        events = new SseParser(spec.limits().maxMessageBytes());
      } else if (mode == Mode.JSON || mode == Mode.ERROR) {
        buffer = new byte[256];
      }
    }

    @Override
    public void onContent(Response response, ByteBuffer content) {
      switch (mode) {
        case JSON:
          if (!append(content, spec.limits().maxMessageBytes() + 1)) {
            overflow = true;
            request.abort(framing.tooLong());
          }
          break;
        case ERROR:
          append(content, ERROR_BODY_BYTES);
          break;
        case SSE:
          if (!deliveryEnded && !events().feed(content, this::event)) {
            deliveryEnded = true;
            request.abort(new IOException("delivery ended"));
          }
          break;
        default:
          content.position(content.limit()); // nothing to read in it
          break;
      }
    }

    /** Appends up to {@code max} bytes in all; false when the content did not fit. */
    private boolean append(ByteBuffer content, int max) {
      int n = content.remaining();
      int room = max - length;
      int take = Math.min(n, room);
      if (length + take > buffer.length) {
        buffer = Arrays.copyOf(buffer, Math.min(max, Math.max(length + take, buffer.length * 2)));
      }
      content.get(buffer, length, take);
      length += take;
      content.position(content.limit());
      return take == n;
    }

    private boolean event(SseReader.Event event) {
      if (!event.type().equals("message")) {
        return true;
      }
      if (event.oversized()) {
        LOG.warn("backend {}: skipped an event over {} bytes",
            spec.name(), spec.limits().maxMessageBytes());
        return true;
      }
      if (event.length() == 0) {
        return true;
      }
      JsonNode message;
      try {
        message = framing.parseMessage(event.data(), 0, event.length());
      } catch (FrameException e) {
        LOG.warn("backend {}: skipped an event that is not a message: {}",
            spec.name(), e.getMessage());
        return true;
      }
      observe(message);
      JsonNode pending = kind == Kind.LISTEN ? null : id;
      if (pending != null && answers(message, pending)) {
        answered = true;
      }
      return delivery.offer(message);
    }

    @Override
    public void onComplete(Result result) {
      cancelTimeout();
      inFlight.remove(request);
      Throwable failure = result.getFailure();
      try {
        if (!headersSeen) {
          notAnswered(failure);
          return;
        }
        switch (mode) {
          case JSON:
            if (overflow) {
              refuseAnswer(framing.tooLong());
            } else if (failure != null) {
              failed(id, method, failure);
            } else {
              json();
            }
            break;
          case ERROR:
            httpError(id, method, status, type, Arrays.copyOf(buffer, length));
            break;
          case SSE:
            streamEnded(failure);
            break;
          case RETRY:
            if (kind == Kind.RESUME) {
              retryResume(lastEventIdSent, id, attempt, "HTTP " + status);
            } else {
              relisten(lastEventIdSent, attempt, "HTTP " + status + " " + type, -1);
            }
            break;
          case OTHER:
            if (kind == Kind.POST && status != 202 && status != 204 && id != null
                && !(status == 404 && session != null)) {
              deliverError(id, INTERNAL_ERROR,
                  "backend '" + spec.name() + "' answered with unexpected content type '"
                      + type + "'", status);
            }
            break;
          default:
            break;
        }
        if (kind == Kind.POST && (mode == Mode.JSON || mode == Mode.SSE || mode == Mode.OTHER)
            && status >= 200 && status <= 299 && method.equals("notifications/initialized")
            && listening.compareAndSet(false, true)) {
          listen(null, 0);
        }
      } catch (RuntimeException e) {
        if (kind == Kind.POST) {
          failed(id, method, e);
        } else {
          LOG.warn("backend {}: stream failed: {}", spec.name(), String.valueOf(e));
        }
      }
    }

    /** The request failed before any status and headers came. */
    private void notAnswered(@Nullable Throwable failure) {
      String why = failure == null ? "no answer" : String.valueOf(failure.getMessage());
      switch (kind) {
        case POST:
          failed(id, method, failure == null ? new IOException("no answer") : failure);
          break;
        case RESUME:
          retryResume(lastEventIdSent, id, attempt, why);
          break;
        case LISTEN:
        default:
          relisten(lastEventIdSent, attempt, why, -1);
          break;
      }
    }

    /** Never sent: the transport was closing. */
    void dropped() {
      cancelTimeout();
    }

    private void json() {
      if (length == 0) {
        if (id != null) {
          deliverError(id, INTERNAL_ERROR, "backend '" + spec.name() + "' sent an empty answer",
              200);
        }
        return;
      }
      JsonNode message;
      try {
        message = framing.parseMessage(buffer, 0, length);
      } catch (FrameException e) {
        refuseAnswer(e);
        return;
      }
      observe(message);
      delivery.offer(message);
    }

    private void refuseAnswer(FrameException e) {
      LOG.warn("backend {}: refused an answer: {}", spec.name(), e.getMessage());
      if (id != null) {
        deliverError(id, INTERNAL_ERROR,
            "backend '" + spec.name() + "' sent an unusable answer: " + e.getMessage(), 200);
      }
    }

    /**
     * An event stream ended. A POST or resumed stream that ended before the response to its
     * request came is resumed (if the server gave event ids) or the request fails; the GET
     * stream is reopened, resuming after its last event.
     */
    private void streamEnded(@Nullable Throwable broken) {
      SseParser events = events();
      if (kind == Kind.LISTEN) {
        listenOpen.set(false);
        if (broken != null) {
          LOG.debug("backend {}: GET stream broke: {}", spec.name(), broken.getMessage());
        }
        String last = events.lastEventId() != null ? events.lastEventId() : lastEventIdSent;
        relisten(last, -1, "stream ended", events.retryMillis());
        return;
      }
      if (closing.get() || deliveryEnded || id == null || answered) {
        return;
      }
      String lastId = events.lastEventId();
      if (lastId != null && !lastId.isEmpty()) {
        LOG.debug("backend {}: stream for request {} ended early; resuming after event {}",
            spec.name(), id, lastId);
        schedule(() -> resume(lastId, id, 0), delay(events.retryMillis(), 0));
      } else {
        deliverError(id, INTERNAL_ERROR,
            "backend '" + spec.name() + "' ended the stream before answering"
                + (broken == null ? "" : ": " + broken.getMessage()),
            0);
      }
    }

    private SseParser events() {
      SseParser parser = events;
      if (parser == null) {
        throw new IllegalStateException("no event stream in mode " + mode);
      }
      return parser;
    }

    private void cancelTimeout() {
      Scheduler.Task task = timeout;
      if (task != null) {
        task.cancel();
      }
    }
  }

  /** Resumes a dropped POST stream with a GET carrying Last-Event-ID. */
  private void resume(@Nullable String lastEventId, @Nullable JsonNode pendingId, int attempt) {
    if (closing.get()) {
      return;
    }
    Request request = getRequest(lastEventId);
    dispatch(request, new Stream(Kind.RESUME, request, pendingId, "", null, lastEventId, attempt),
        false);
  }

  private void retryResume(
      @Nullable String lastEventId, @Nullable JsonNode pendingId, int attempt, String why) {
    if (closing.get()) {
      return;
    }
    if (attempt + 1 >= RESUME_ATTEMPTS) {
      deliverError(pendingId, INTERNAL_ERROR,
          "backend '" + spec.name() + "' stream could not be resumed: " + why, 0);
      return;
    }
    schedule(() -> resume(lastEventId, pendingId, attempt + 1), delay(-1, attempt + 1));
  }

  /** Opens (or reopens) the GET stream for messages the server starts. */
  private void listen(@Nullable String lastEventId, int attempt) {
    if (closing.get() || delivery.ended()) {
      return;
    }
    Request request = getRequest(lastEventId);
    dispatch(request, new Stream(Kind.LISTEN, request, null, "", null, lastEventId, attempt),
        false);
  }

  private void relisten(
      @Nullable String lastEventId, int attempt, String why, long retryMillis) {
    if (closing.get() || delivery.ended()) {
      return;
    }
    int next = attempt + 1;
    if (next >= LISTEN_ATTEMPTS) {
      LOG.warn("backend {}: giving up on the GET stream after {} attempts: {}",
          spec.name(), next, why);
      return;
    }
    schedule(() -> listen(lastEventId, next), delay(retryMillis, next));
  }

  private Request getRequest(@Nullable String lastEventId) {
    Request request = request(HttpMethod.GET, "text/event-stream");
    if (lastEventId != null && !lastEventId.isEmpty()) {
      request.headers(headers -> headers.put("Last-Event-ID", lastEventId));
    }
    return request;
  }

  private void httpError(
      @Nullable JsonNode id, String method, int status, String type, byte[] bytes) {
    if (id != null && type.startsWith("application/json") && bytes.length > 0) {
      // a server may explain the failure with a JSON-RPC error for the request: pass it on
      try {
        JsonNode message = framing.parseMessage(bytes, 0, bytes.length);
        if (message.isObject() && message.has("error") && sameId(id, message.get("id"))) {
          LOG.warn("backend {}: HTTP {} for {} request {}", spec.name(), status, method, id);
          delivery.offer(message);
          return;
        }
      } catch (FrameException e) {
        // not a JSON-RPC answer: fall through to the synthetic one
      }
    }
    String excerpt =
        new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.UTF_8).strip();
    LOG.warn("backend {}: HTTP {} for {}{}: {}",
        spec.name(), status, method.isEmpty() ? "a response" : method,
        id == null ? "" : " request " + id, excerpt);
    if (id != null) {
      deliverError(id, INTERNAL_ERROR,
          "backend '" + spec.name() + "' answered HTTP " + status, status);
    }
  }

  private void failed(@Nullable JsonNode id, String method, Throwable failure) {
    Throwable cause = failure instanceof ExecutionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (closing.get()) {
      return;
    }
    boolean timeout = cause instanceof TimeoutException;
    boolean connectTimeout = cause instanceof SocketTimeoutException;
    LOG.warn("backend {}: {} failed: {}", spec.name(),
        method.isEmpty() ? "sending a response" : method, String.valueOf(cause));
    if (id != null) {
      String text = timeout
          ? "backend '" + spec.name() + "' did not answer within " + spec.requestTimeout()
          : connectTimeout
              ? "backend '" + spec.name() + "' could not be reached within "
                  + spec.connectTimeout()
              : "backend '" + spec.name() + "' is unreachable: " + cause.getClass().getSimpleName()
                  + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
      deliverError(id, timeout || connectTimeout ? TIMEOUT_ERROR : INTERNAL_ERROR, text, 0);
    }
  }

  private void deliverError(@Nullable JsonNode id, int code, String text, int httpStatus) {
    ObjectNode error = JsonFraming.error(id, code, text);
    ObjectNode data = ((ObjectNode) error.get("error")).putObject("data");
    data.put("backend", spec.name());
    if (httpStatus > 0) {
      data.put("httpStatus", httpStatus);
    }
    delivery.offer(error);
  }

  private void learnSession(HttpFields headers) {
    String id = headers.get("Mcp-Session-Id");
    if (id == null) {
      return;
    }
    if (id.isEmpty() || !id.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
      LOG.warn("backend {}: ignoring a session id with characters outside visible ASCII",
          spec.name());
    } else {
      sessionId = id;
    }
  }

  /** Reads the negotiated protocol version as the initialize result passes. */
  private void observe(JsonNode message) {
    if (message.isObject()) {
      mirror.received(message);
    }
    JsonNode init = initializeId;
    if (init == null || protocolVersion != null || !message.isObject()) {
      return;
    }
    if (init.equals(message.get("id"))) {
      JsonNode version = message.path("result").path("protocolVersion");
      if (version.isString() && !version.asString().isEmpty()) {
        protocolVersion = version.asString();
      }
    }
  }

  private void expire(String session) {
    if (closing.get()) {
      return;
    }
    SessionExpiredException expired = new SessionExpiredException(spec.name(), session);
    LOG.warn("{}", expired.getMessage());
    if (delivery.end(expired, false)) {
      shutdown();
    }
  }

  /**
   * Ends the session with a DELETE (waiting at most the request timeout; a 405 or any failure is
   * ignored), stops every stream and the HTTP client with its threads, and tells the receiver
   * {@code closed(null)}. Idempotent.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      if (!onOwnThread()) {
        // a close after an expiry still waits until the client has stopped
        stopClient();
      }
      return;
    }
    String session = sessionId;
    if (session != null && !delivery.ended()) {
      try {
        ContentResponse response = request(HttpMethod.DELETE, null)
            .timeout(spec.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .send();
        if (response.getStatus() != 405 && response.getStatus() / 100 != 2) {
          LOG.debug("backend {}: DELETE of session answered HTTP {}",
              spec.name(), response.getStatus());
        }
      } catch (TimeoutException | ExecutionException e) {
        LOG.debug("backend {}: DELETE of session failed: {}", spec.name(), e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    delivery.end(null, true);
    shutdown();
  }

  private void shutdown() {
    closing.set(true);
    IOException closed = new IOException("transport of backend '" + spec.name() + "' closed");
    for (Request request : inFlight) {
      request.abort(closed);
    }
    if (!ownsClient) {
      return;
    }
    if (onOwnThread()) {
      // a pool thread cannot wait for its own pool to stop
      Thread stopper = new Thread(this::stopClient, threadPrefix + "-stop");
      stopper.setDaemon(true);
      stopper.start();
    } else {
      stopClient();
    }
  }

  private void stopClient() {
    if (ownsClient) {
      shared.close();
    }
  }

  private boolean onOwnThread() {
    return Thread.currentThread().getName().startsWith(threadPrefix);
  }

  private void schedule(Runnable task, long delayMillis) {
    if (closing.get()) {
      return;
    }
    try {
      scheduler.schedule(() -> {
        try {
          task.run();
        } catch (RuntimeException e) {
          LOG.debug("backend {}: retry dropped: {}", spec.name(), e.getMessage());
        }
      }, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      LOG.debug("backend {}: retry dropped: {}", spec.name(), e.getMessage());
    }
  }

  /** The server's retry delay, or an exponential backoff from 0.5 s to 30 s. */
  private static long delay(long retryMillis, int attempt) {
    if (retryMillis >= 0) {
      return retryMillis;
    }
    long backoff = BACKOFF_START_MILLIS << Math.min(Math.max(attempt - 1, 0), 10);
    return Math.min(backoff, BACKOFF_MAX_MILLIS);
  }

  private static @Nullable JsonNode requestId(JsonNode message) {
    if (!message.isObject() || !message.has("method")) {
      return null;
    }
    JsonNode id = message.get("id");
    return id == null || id.isNull() ? null : id;
  }

  private static boolean answers(JsonNode message, JsonNode id) {
    if (message.isArray()) {
      for (JsonNode element : message) {
        if (answers(element, id)) {
          return true;
        }
      }
      return false;
    }
    return !message.has("method") && sameId(id, message.get("id"));
  }

  /**
   * Whether a server's id is the request's: numbers by value, since the request's id (a long)
   * and the one parsed back (an int when small) are different node types.
   */
  static boolean sameId(JsonNode sent, @Nullable JsonNode answered) {
    if (answered == null) {
      return false;
    }
    if (sent.isIntegralNumber() && answered.isIntegralNumber()) {
      return sent.bigIntegerValue().equals(answered.bigIntegerValue());
    }
    return sent.equals(answered);
  }

  private static String contentType(HttpFields headers) {
    HttpField field = headers.getField(HttpHeader.CONTENT_TYPE);
    return field == null ? "" : field.getValue().toLowerCase(Locale.ROOT).strip();
  }

  /** The session id the server assigned, or null; for tests. */
  @Nullable String sessionId() {
    return sessionId;
  }

  /** The negotiated protocol version, or null; for tests. */
  @Nullable String protocolVersion() {
    return protocolVersion;
  }

  /** Whether the GET stream is open now; for tests. */
  boolean listening() {
    return listenOpen.get();
  }

  /** The prefix of the names of this transport's threads; for tests. */
  String threadPrefix() {
    return threadPrefix;
  }

  /** The endpoint; for logs. */
  URI url() {
    return spec.url();
  }
}
