package dev.sentinel.core.transport;

import dev.sentinel.api.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A backend MCP server over Streamable HTTP (MCP revisions 2025-03-26 to 2025-11-25), on the
 * JDK {@link HttpClient}.
 *
 * <p>Each sent message is a POST to the endpoint ({@code Content-Type: application/json}, {@code
 * Accept: application/json, text/event-stream}, plus the spec's headers). The answer may be 202
 * (nothing to deliver), one JSON message, or a server-sent event stream whose {@code data}
 * events are delivered as messages, in order. The {@code Mcp-Session-Id} the server assigns in
 * its answer to {@code initialize} is sent on every later request, and so is {@code
 * MCP-Protocol-Version} once the initialize result has passed through (its {@code
 * protocolVersion} is read on the way). Once the client has sent {@code
 * notifications/initialized}, a GET event stream is opened for messages the server starts
 * itself (a 405 means the server offers none). A stream that drops is resumed with a GET
 * carrying {@code Last-Event-ID}, after the server's {@code retry} delay or an exponential
 * backoff.
 *
 * <p>Failures: a 404 to a request carrying the session id means the session expired, and the
 * transport ends with {@link SessionExpiredException} so the engine can start a new session.
 * Any other failure of a request (an HTTP error, a timeout, a refused connection, a stream that
 * ended without the response) is answered with a synthetic JSON-RPC error response for that
 * request's id ({@code -32001} for a timeout, {@code -32603} otherwise, with {@code data.backend}
 * and, for an HTTP status, {@code data.httpStatus}), so only that call fails; failures of
 * notifications and responses are logged. {@link #close()} ends the session with a DELETE (a 405
 * is fine).
 *
 * <p>Connections: a connect timeout and, per request, a timeout until the status and headers
 * arrive (a long event stream is not cut off). The JDK client sets {@code TCP_NODELAY} on its
 * sockets itself, so small JSON-RPC messages are not held back by Nagle's algorithm. Plain
 * {@code http} URLs use HTTP/1.1 (no {@code h2c} upgrade attempts); {@code https} negotiates
 * HTTP/2 where the server offers it.
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
  static final int INTERNAL_ERROR = -32603;
  static final int TIMEOUT_ERROR = -32001;

  private final HttpSpec spec;
  private final JsonFraming framing;
  private final ExecutorService executor;
  private final ScheduledExecutorService timer;
  private final HttpClient client;
  private final Delivery delivery;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean listening = new AtomicBoolean();
  private final AtomicBoolean listenOpen = new AtomicBoolean();
  private final Set<InputStream> openStreams = ConcurrentHashMap.newKeySet();
  private final Set<Future<?>> inFlight = ConcurrentHashMap.newKeySet();
  private volatile String sessionId;
  private volatile String protocolVersion;
  private volatile JsonNode initializeId;

  private StreamableHttpTransport(HttpSpec spec) {
    this.spec = spec;
    this.framing = new JsonFraming(spec.limits());
    this.executor = Executors.newCachedThreadPool(daemon("sentinel-http-" + spec.name()));
    this.timer =
        Executors.newSingleThreadScheduledExecutor(daemon("sentinel-http-retry-" + spec.name()));
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(spec.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(executor)
            .build();
    this.delivery = new Delivery("http-" + spec.name());
  }

  /**
   * A transport to the server at the spec's URL. Nothing is sent until the first {@link #send}:
   * Streamable HTTP has no connection of its own, the session starts with {@code initialize}.
   */
  public static StreamableHttpTransport connect(HttpSpec spec) {
    Objects.requireNonNull(spec, "spec");
    return new StreamableHttpTransport(spec);
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
    HttpRequest request =
        request(HttpRequest.BodyPublishers.ofByteArray(body), "POST")
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .build();
    // A blocking send on the transport's own executor, not sendAsync: the JDK's sendAsync hops
    // through CompletableFuture's default executor, which is a new thread per task when the
    // common pool has parallelism 1 (any machine with 2 CPUs): a thread started per request.
    FutureTask<Void> exchange = new FutureTask<>(() -> exchange(request, id, method, session), null);
    inFlight.add(exchange);
    try {
      executor.execute(() -> {
        try {
          exchange.run();
        } finally {
          inFlight.remove(exchange);
        }
      });
    } catch (RejectedExecutionException e) {
      inFlight.remove(exchange);
      throw new IOException("transport of backend '" + spec.name() + "' is closed", e);
    }
  }

  /** Sends one POST and handles its answer, on an executor thread. */
  private void exchange(HttpRequest request, JsonNode id, String method, String session) {
    HttpResponse<InputStream> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      answered(id, method, session, null, e);
      return;
    } catch (InterruptedException e) {
      // close() cancelled the exchange; the JDK client aborts the request when interrupted
      Thread.currentThread().interrupt();
      answered(id, method, session, null, e);
      return;
    }
    answered(id, method, session, response, null);
  }

  private HttpRequest.Builder request(HttpRequest.BodyPublisher body, String method) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(spec.url()).method(method, body);
    if (!method.equals("GET")) {
      // a GET stream may legitimately send its headers only with its first event
      builder.timeout(spec.requestTimeout());
    }
    if ("http".equalsIgnoreCase(spec.url().getScheme())) {
      builder.version(HttpClient.Version.HTTP_1_1);
    }
    for (Map.Entry<String, String> header : spec.headers().entrySet()) {
      builder.header(header.getKey(), header.getValue());
    }
    String session = sessionId;
    if (session != null) {
      builder.header("Mcp-Session-Id", session);
    }
    String version = protocolVersion;
    if (version != null) {
      builder.header("MCP-Protocol-Version", version);
    }
    return builder;
  }

  /** Handles the answer to one POST, on an executor thread. */
  private void answered(
      JsonNode id, String method, String session, HttpResponse<InputStream> response, Throwable failure) {
    if (failure != null) {
      failed(id, method, failure);
      return;
    }
    InputStream body = response.body();
    openStreams.add(body);
    try (body) {
      int status = response.statusCode();
      if (id != null && id.equals(initializeId)) {
        learnSession(response);
      }
      if (status == 404 && session != null) {
        expire(session);
        return;
      }
      if (status < 200 || status > 299) {
        httpError(id, method, status, response, body);
        return;
      }
      String type = contentType(response);
      if (type.startsWith("text/event-stream")) {
        readEvents(new SseReader(body, spec.limits().maxMessageBytes()), id);
      } else if (type.startsWith("application/json")) {
        readJson(body, id);
      } else if (status != 202 && status != 204 && id != null) {
        deliverError(id, INTERNAL_ERROR,
            "backend '" + spec.name() + "' answered with unexpected content type '" + type + "'",
            status);
      }
      if (method.equals("notifications/initialized") && listening.compareAndSet(false, true)) {
        listen(null, 0);
      }
    } catch (IOException | RuntimeException e) {
      failed(id, method, e);
    } finally {
      openStreams.remove(body);
    }
  }

  private void readJson(InputStream body, JsonNode id) throws IOException {
    byte[] bytes = body.readNBytes(spec.limits().maxMessageBytes() + 1);
    if (bytes.length == 0) {
      if (id != null) {
        deliverError(id, INTERNAL_ERROR, "backend '" + spec.name() + "' sent an empty answer", 200);
      }
      return;
    }
    JsonNode message;
    try {
      if (bytes.length > spec.limits().maxMessageBytes()) {
        throw framing.tooLong();
      }
      message = framing.parseMessage(bytes, 0, bytes.length);
    } catch (FrameException e) {
      LOG.warn("backend {}: refused an answer: {}", spec.name(), e.getMessage());
      if (id != null) {
        deliverError(id, INTERNAL_ERROR,
            "backend '" + spec.name() + "' sent an unusable answer: " + e.getMessage(), 200);
      }
      return;
    }
    observe(message);
    delivery.offer(message);
  }

  /**
   * Delivers the events of one stream in order. When the stream ends before the response to
   * {@code pendingId} came, it is resumed (if the server gave event ids) or the request fails.
   */
  private void readEvents(SseReader events, JsonNode pendingId) {
    boolean answered = false;
    IOException broken = null;
    try {
      SseReader.Event event;
      while ((event = events.next()) != null) {
        if (!event.type().equals("message")) {
          continue;
        }
        if (event.oversized()) {
          LOG.warn("backend {}: skipped an event over {} bytes",
              spec.name(), spec.limits().maxMessageBytes());
          continue;
        }
        if (event.length() == 0) {
          continue;
        }
        JsonNode message;
        try {
          message = framing.parseMessage(event.data(), 0, event.length());
        } catch (FrameException e) {
          LOG.warn("backend {}: skipped an event that is not a message: {}",
              spec.name(), e.getMessage());
          continue;
        }
        observe(message);
        if (pendingId != null && answers(message, pendingId)) {
          answered = true;
        }
        if (!delivery.offer(message)) {
          return;
        }
      }
    } catch (IOException e) {
      broken = e;
    }
    if (closing.get() || pendingId == null || answered) {
      return;
    }
    String lastId = events.lastEventId();
    if (lastId != null && !lastId.isEmpty()) {
      LOG.debug("backend {}: stream for request {} ended early; resuming after event {}",
          spec.name(), pendingId, lastId);
      schedule(() -> resume(lastId, pendingId, 0), delay(events.retryMillis(), 0));
    } else {
      deliverError(pendingId, INTERNAL_ERROR,
          "backend '" + spec.name() + "' ended the stream before answering"
              + (broken == null ? "" : ": " + broken.getMessage()),
          0);
    }
  }

  /** Resumes a dropped POST stream with a GET carrying Last-Event-ID. */
  private void resume(String lastEventId, JsonNode pendingId, int attempt) {
    if (closing.get()) {
      return;
    }
    HttpResponse<InputStream> response;
    try {
      response = client.send(getRequest(lastEventId), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      retryResume(lastEventId, pendingId, attempt, e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    InputStream body = response.body();
    openStreams.add(body);
    try (body) {
      int status = response.statusCode();
      String session = sessionId;
      if (status == 404 && session != null) {
        expire(session);
        return;
      }
      if (status == 200 && contentType(response).startsWith("text/event-stream")) {
        readEvents(new SseReader(body, spec.limits().maxMessageBytes()), pendingId);
        return;
      }
      retryResume(lastEventId, pendingId, attempt, "HTTP " + status);
    } catch (IOException e) {
      retryResume(lastEventId, pendingId, attempt, e.getMessage());
    } finally {
      openStreams.remove(body);
    }
  }

  private void retryResume(String lastEventId, JsonNode pendingId, int attempt, String why) {
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
  private void listen(String lastEventId, int attempt) {
    if (closing.get()) {
      return;
    }
    try {
      executor.execute(() -> listenOnce(lastEventId, attempt));
    } catch (RuntimeException e) {
      LOG.debug("backend {}: GET stream not opened: {}", spec.name(), e.getMessage());
    }
  }

  private void listenOnce(String lastEventId, int attempt) {
    HttpResponse<InputStream> response;
    try {
      response = client.send(getRequest(lastEventId), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      relisten(lastEventId, attempt, e.getMessage(), -1);
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    InputStream body = response.body();
    openStreams.add(body);
    SseReader events = null;
    try (body) {
      int status = response.statusCode();
      if (status == 405) {
        LOG.debug("backend {}: offers no GET stream (405)", spec.name());
        return;
      }
      String session = sessionId;
      if (status == 404 && session != null) {
        expire(session);
        return;
      }
      if (status != 200 || !contentType(response).startsWith("text/event-stream")) {
        relisten(lastEventId, attempt, "HTTP " + status + " " + contentType(response), -1);
        return;
      }
      listenOpen.set(true);
      events = new SseReader(body, spec.limits().maxMessageBytes());
      readEvents(events, null);
    } catch (IOException e) {
      LOG.debug("backend {}: GET stream broke: {}", spec.name(), e.getMessage());
    } finally {
      listenOpen.set(false);
      openStreams.remove(body);
    }
    if (events != null) {
      // the stream was up: reconnect, resuming after its last event
      String last = events.lastEventId() != null ? events.lastEventId() : lastEventId;
      relisten(last, -1, "stream ended", events.retryMillis());
    }
  }

  private void relisten(String lastEventId, int attempt, String why, long retryMillis) {
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

  private HttpRequest getRequest(String lastEventId) {
    HttpRequest.Builder builder =
        request(HttpRequest.BodyPublishers.noBody(), "GET").header("Accept", "text/event-stream");
    if (lastEventId != null && !lastEventId.isEmpty()) {
      builder.header("Last-Event-ID", lastEventId);
    }
    return builder.build();
  }

  private void httpError(
      JsonNode id, String method, int status, HttpResponse<InputStream> response, InputStream body)
      throws IOException {
    byte[] bytes = body.readNBytes(ERROR_BODY_BYTES);
    if (id != null && contentType(response).startsWith("application/json") && bytes.length > 0) {
      // a server may explain the failure with a JSON-RPC error for the request: pass it on
      try {
        JsonNode message = framing.parseMessage(bytes, 0, bytes.length);
        if (message.isObject() && message.has("error") && id.equals(message.get("id"))) {
          LOG.warn("backend {}: HTTP {} for {} request {}", spec.name(), status, method, id);
          delivery.offer(message);
          return;
        }
      } catch (FrameException e) {
        // not a JSON-RPC answer: fall through to the synthetic one
      }
    }
    String excerpt = new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.UTF_8).strip();
    LOG.warn("backend {}: HTTP {} for {}{}: {}",
        spec.name(), status, method.isEmpty() ? "a response" : method,
        id == null ? "" : " request " + id, excerpt);
    if (id != null) {
      deliverError(id, INTERNAL_ERROR,
          "backend '" + spec.name() + "' answered HTTP " + status, status);
    }
  }

  private void failed(JsonNode id, String method, Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (closing.get()) {
      return;
    }
    boolean timeout = cause instanceof HttpTimeoutException;
    LOG.warn("backend {}: {} failed: {}", spec.name(),
        method.isEmpty() ? "sending a response" : method, String.valueOf(cause));
    if (id != null) {
      String text = timeout
          ? "backend '" + spec.name() + "' did not answer within " + spec.requestTimeout()
          : "backend '" + spec.name() + "' is unreachable: " + cause.getClass().getSimpleName()
              + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
      deliverError(id, timeout ? TIMEOUT_ERROR : INTERNAL_ERROR, text, 0);
    }
  }

  private void deliverError(JsonNode id, int code, String text, int httpStatus) {
    ObjectNode error = JsonFraming.error(id, code, text);
    ObjectNode data = ((ObjectNode) error.get("error")).putObject("data");
    data.put("backend", spec.name());
    if (httpStatus > 0) {
      data.put("httpStatus", httpStatus);
    }
    delivery.offer(error);
  }

  private void learnSession(HttpResponse<?> response) {
    response.headers().firstValue("Mcp-Session-Id").ifPresent(id -> {
      if (id.isEmpty() || !id.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
        LOG.warn("backend {}: ignoring a session id with characters outside visible ASCII",
            spec.name());
      } else {
        sessionId = id;
      }
    });
  }

  /** Reads the negotiated protocol version as the initialize result passes. */
  private void observe(JsonNode message) {
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
   * ignored), stops every stream, and tells the receiver {@code closed(null)}. Idempotent.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    String session = sessionId;
    if (session != null && !delivery.ended()) {
      try {
        HttpResponse<Void> response =
            client.send(
                request(HttpRequest.BodyPublishers.noBody(), "DELETE").build(),
                HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() != 405 && response.statusCode() / 100 != 2) {
          LOG.debug("backend {}: DELETE of session answered HTTP {}",
              spec.name(), response.statusCode());
        }
      } catch (IOException e) {
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
    inFlight.forEach(f -> f.cancel(true));
    for (InputStream stream : openStreams) {
      try {
        stream.close();
      } catch (IOException ignored) {
        // closing is best effort; the stream's thread ends either way
      }
    }
    timer.shutdownNow();
    executor.shutdown();
  }

  private void schedule(Runnable task, long delayMillis) {
    if (closing.get()) {
      return;
    }
    try {
      timer.schedule(() -> {
        try {
          executor.execute(task);
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

  private static JsonNode requestId(JsonNode message) {
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
    return !message.has("method") && id.equals(message.get("id"));
  }

  private static String contentType(HttpResponse<?> response) {
    return response.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT).strip();
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** The session id the server assigned, or null; for tests. */
  String sessionId() {
    return sessionId;
  }

  /** The negotiated protocol version, or null; for tests. */
  String protocolVersion() {
    return protocolVersion;
  }

  /** Whether the GET stream is open now; for tests. */
  boolean listening() {
    return listenOpen.get();
  }

  /** The endpoint; for logs. */
  URI url() {
    return spec.url();
  }
}
