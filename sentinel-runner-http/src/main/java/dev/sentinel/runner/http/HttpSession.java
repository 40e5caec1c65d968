package dev.sentinel.runner.http;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Transport;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.mcp.engine.ClientSession;
import dev.sentinel.mcp.engine.McpRevision;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * One MCP session over Streamable HTTP, and the {@link Transport} the engine serves it on.
 *
 * <p>Client messages arrive in POST bodies and are delivered to the engine one at a time, in
 * the order their bodies were read, on the session's serial delivery. The engine's messages are
 * routed as they are sent: a response to the POST exchange waiting for its id (as JSON, or as
 * the last event of that exchange's SSE stream); a progress notification to the exchange whose
 * request carried that progress token; a server request (sampling, elicitation, roots) to the
 * most recent exchange still waiting, and a cancellation of such a request after it; everything
 * else (list changes, logging, resource updates, requests while nothing waits) to the
 * standalone stream that GET opens, buffered (bounded) while none is open.
 *
 * <p>An exchange answers with {@code application/json} unless a message for it comes before its
 * response: then it switches to {@code text/event-stream} (if the client accepts it), sends that
 * message and the later ones as events, and ends after the response.
 *
 * <p>Every SSE stream takes one of the principal's stream slots ({@link Hub#streamOpened}) for
 * as long as its connection is open. A client that accepts only SSE has its slot taken when its
 * request arrives (and is refused without one); one that also accepts JSON is answered in JSON
 * when no slot is free, its request's messages going to the standalone stream instead.
 *
 * <p>What the session holds for its client (events kept by its streams, writes queued to its
 * connections) counts in its {@link OutputBudget}. Before each new event it makes room within
 * the session's bound: it forgets events already written (kept only for a resumption), then
 * undelivered events of streams nobody listens to, then drops the connection holding the most
 * unwritten output. Each connection is also bounded on its own ({@link SseWriter}). So a client
 * that stops reading costs the gateway at most its session's bound, whatever the backends send.
 *
 * <p>Thread-safe: routing state is guarded by the session's lock; writes are asynchronous.
 */
final class HttpSession implements Transport {
  private static final Logger log = LoggerFactory.getLogger(HttpSession.class);
  private static final int MAX_RESUMABLE_STREAMS = 16;

  /** A POST request waiting for its response. Guarded by the session's lock. */
  private static final class Exchange {
    final String requestKey;
    final String progressKey;
    final boolean acceptsJson;
    final boolean acceptsSse;
    final boolean initialize;
    final Response response;
    final Callback callback;
    EventStream stream;
    /** Whether a stream slot was taken for this exchange and not yet handed to a writer. */
    boolean holdsSlot;
    /** Whether no stream slot was free when one was wanted: the answer stays JSON. */
    boolean jsonOnly;

    Exchange(String requestKey, String progressKey, boolean acceptsJson, boolean acceptsSse,
        boolean initialize, Response response, Callback callback) {
      this.requestKey = requestKey;
      this.progressKey = progressKey;
      this.acceptsJson = acceptsJson;
      this.acceptsSse = acceptsSse;
      this.initialize = initialize;
      this.response = response;
      this.callback = callback;
    }
  }

  /** What came of a request to open an exchange or a stream. */
  enum Admission {
    /** Taken. */
    ACCEPTED,
    /** The session is closed. */
    CLOSED,
    /** The principal holds {@code max_streams_per_principal} streams already. */
    AT_STREAM_CAP
  }

  final String id;
  final String principalId;
  private final Hub hub;
  private final SerialExecutor delivery;
  private final Map<String, Exchange> waiting = new LinkedHashMap<>();
  private final Map<String, Exchange> byProgressToken = new LinkedHashMap<>();
  private final Map<String, Exchange> byServerRequest = new LinkedHashMap<>();
  private final LinkedHashMap<Integer, EventStream> resumable = new LinkedHashMap<>();
  private final Set<SseWriter> writers = new LinkedHashSet<>();
  private final EventStream standalone;
  /** What the session holds for its client, against its bound. */
  final OutputBudget budget;
  private int nextStream = 1;
  private Receiver receiver;
  private ClientSession client;
  private boolean closed;
  private long lastUsed;

  HttpSession(Hub hub, String id, String principalId) {
    this.hub = hub;
    this.id = id;
    this.principalId = principalId;
    this.delivery = new SerialExecutor(hub.pool());
    this.budget = new OutputBudget(hub.bounds().sessionEvents(), hub.bounds().sessionBytes());
    this.standalone = stream(0);
    this.lastUsed = hub.clock().nanoTime();
  }

  // ---- Transport, for the engine ----------------------------------------------------------

  @Override
  public void start(Receiver receiver) {
    Objects.requireNonNull(receiver, "receiver");
    synchronized (this) {
      if (this.receiver != null) {
        throw new IllegalStateException("session transport already started");
      }
      this.receiver = receiver;
    }
  }

  @Override
  public void send(JsonNode message) throws IOException {
    String text = hub.json().text(message);
    synchronized (this) {
      if (closed) {
        throw new IOException("the HTTP session is closed");
      }
      JsonNode method = message.get("method");
      if (method == null) {
        respond(message, text);
        return;
      }
      Exchange target = null;
      JsonNode id = message.get("id");
      String name = method.asString("");
      if (id != null && JsonRpc.validId(id)) {
        target = latestStreamable();
        if (target != null) {
          byServerRequest.put(JsonRpc.idKey(id), target);
        }
      } else if ("notifications/progress".equals(name)) {
        JsonNode token = message.path("params").path("progressToken");
        target = JsonRpc.validToken(token) ? byProgressToken.get(JsonRpc.idKey(token)) : null;
      } else if ("notifications/cancelled".equals(name)) {
        JsonNode requestId = message.path("params").path("requestId");
        target = JsonRpc.validId(requestId) ? byServerRequest.remove(JsonRpc.idKey(requestId)) : null;
      }
      makeRoom(text);
      if (target != null && target.acceptsSse && !target.jsonOnly
          && waiting.get(target.requestKey) == target && event(target, text)) {
        return;
      }
      standalone.append(text);
    }
  }

  /** Called when the engine ends the session, or by {@link #terminate}. */
  @Override
  public void close() {
    List<Exchange> unanswered;
    Receiver told;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      unanswered = new ArrayList<>(waiting.values());
      waiting.clear();
      byProgressToken.clear();
      byServerRequest.clear();
      told = receiver;
    }
    hub.removed(this);
    String ended = hub.json().text(JsonRpc.error(null, ErrorCode.INTERNAL_ERROR, "the session ended"));
    synchronized (this) {
      for (Exchange exchange : unanswered) {
        hub.exchangeDone();
        releaseSlot(exchange);
        if (exchange.stream != null) {
          exchange.stream.finish();
          exchange.stream.release();
        } else if (exchange.acceptsJson) {
          Replies.json(exchange.response, exchange.callback, 200, ended.getBytes(StandardCharsets.UTF_8));
        } else {
          Replies.empty(exchange.response, exchange.callback, 404);
        }
      }
      standalone.close();
      for (EventStream stream : resumable.values()) {
        stream.close();
      }
      resumable.clear();
    }
    if (told != null) {
      delivery.execute(() -> told.closed(null));
    }
  }

  // ---- for the handler --------------------------------------------------------------------

  /** The engine's session, once served. */
  synchronized void served(ClientSession session) {
    this.client = session;
  }

  /** Ends the session at the client's request (DELETE), or because it expired. */
  void terminate() {
    ClientSession session;
    synchronized (this) {
      session = client;
    }
    if (session != null) {
      session.close();
    }
    close();
  }

  /** Records use, for idle expiry. */
  synchronized void touch() {
    lastUsed = hub.clock().nanoTime();
  }

  /** Whether the session has been idle (no request waiting, no stream open) since before the limit. */
  synchronized boolean idleLongerThan(long nanos, long now) {
    return !closed && waiting.isEmpty() && !standalone.listening() && !anyResumableListening()
        && now - lastUsed >= nanos;
  }

  synchronized boolean isClosed() {
    return closed;
  }

  /**
   * Takes a client request: registers the exchange that waits for its response, then delivers it.
   * Answers without writing anything when the session is closed, or when the client accepts
   * only SSE and the principal has no stream slot free.
   */
  Admission request(JsonRpcMessage request, Credentials credentials, Response response, Callback callback,
      boolean acceptsJson, boolean acceptsSse, boolean initialize) {
    String key = JsonRpc.idKey(request.id());
    JsonNode token = request.params().path("_meta").path("progressToken");
    String progressKey = JsonRpc.validToken(token) ? JsonRpc.idKey(token) : null;
    synchronized (this) {
      if (closed) {
        return Admission.CLOSED;
      }
      if (waiting.containsKey(key)) {
        Replies.error(hub.json(), response, callback, 400, ErrorCode.INVALID_REQUEST,
            "invalid request: request id " + request.idText() + " is already in flight");
        return Admission.ACCEPTED;
      }
      // An answer that can only be SSE needs its stream slot before the request goes anywhere.
      boolean slot = !acceptsJson;
      if (slot && !hub.streamOpened(principalId, false)) {
        return Admission.AT_STREAM_CAP;
      }
      Exchange exchange = new Exchange(key, progressKey, acceptsJson, acceptsSse, initialize, response, callback);
      exchange.holdsSlot = slot;
      waiting.put(key, exchange);
      if (progressKey != null) {
        byProgressToken.putIfAbsent(progressKey, exchange);
      }
      hub.exchangeStarted();
      lastUsed = hub.clock().nanoTime();
    }
    deliver(request.raw(), credentials);
    return Admission.ACCEPTED;
  }

  /** Delivers a client notification or response (answered 202 by the caller). */
  boolean accept(JsonRpcMessage message, Credentials credentials) {
    synchronized (this) {
      if (closed) {
        return false;
      }
      if (message.isResponse() && message.id() != null) {
        byServerRequest.remove(JsonRpc.idKey(message.id()));
      }
      lastUsed = hub.clock().nanoTime();
    }
    deliver(message.raw(), credentials);
    return true;
  }

  /**
   * Opens a GET stream: the standalone stream, or with a {@code Last-Event-ID} of a POST stream
   * still kept, that stream's remaining events. Answers without writing anything when the
   * session is closed, or when the principal has no stream slot free (a GET that replaces this
   * session's open one needs none).
   */
  Admission listen(Response response, Callback callback, String lastEventId) {
    synchronized (this) {
      if (closed) {
        return Admission.CLOSED;
      }
      lastUsed = hub.clock().nanoTime();
      long[] position = EventStream.parseEventId(lastEventId);
      EventStream stream = standalone;
      long after = -1;
      if (position != null) {
        EventStream named = position[0] == 0 ? standalone : resumable.get((int) position[0]);
        if (named != null) {
          stream = named;
          after = position[1];
        }
      }
      if (!hub.streamOpened(principalId, stream.listening())) {
        return Admission.AT_STREAM_CAP;
      }
      Replies.sseHeaders(response);
      EventStream chosen = stream;
      chosen.attach(writer(response, callback, chosen), after, primes());
      return Admission.ACCEPTED;
    }
  }

  // ---- internals --------------------------------------------------------------------------

  /**
   * Delivers a message in order on the delivery thread, with the credentials of the HTTP request
   * that carried it: the engine authenticates the message's calls with them, so a client that
   * refreshes an expiring token keeps its session.
   */
  private void deliver(JsonNode message, Credentials credentials) {
    delivery.execute(() -> {
      Receiver target;
      ClientSession engine;
      synchronized (this) {
        target = closed ? null : receiver;
        engine = client;
      }
      if (target != null) {
        if (engine != null) {
          engine.present(credentials);
        }
        target.message(message);
      }
    });
  }

  /** A response from the engine: to the exchange waiting for its id. Holds the lock. */
  private void respond(JsonNode message, String text) {
    JsonNode id = message.get("id");
    Exchange exchange = id == null ? null : waiting.remove(JsonRpc.idKey(id));
    if (exchange == null) {
      log.debug("session {}: no exchange waits for the response to id {}", shortId(), JsonRpc.idText(id));
      return;
    }
    forget(exchange);
    hub.exchangeDone();
    if (exchange.stream != null || !exchange.acceptsJson) {
      makeRoom(text);
    }
    if (exchange.stream == null && exchange.acceptsJson) {
      releaseSlot(exchange);
      Replies.json(exchange.response, exchange.callback, 200, text.getBytes(StandardCharsets.UTF_8));
    } else if (exchange.stream != null || openStream(exchange)) {
      exchange.stream.append(text);
      exchange.stream.finish();
      if (!resumable.containsKey(exchange.stream.number)) {
        // Pushed out of the resumable streams while it waited: nothing can resume it now.
        exchange.stream.release();
      }
    } else {
      // Not reached: an answer that can only be SSE holds its slot from the start. Should it
      // happen, an answer the client may not parse beats one that never comes.
      Replies.json(exchange.response, exchange.callback, 200, text.getBytes(StandardCharsets.UTF_8));
    }
    if (exchange.initialize && message.has("error")) {
      // A failed initialize leaves no session behind.
      hub.pool().execute(this::terminate);
    }
  }

  /**
   * Sends a message for an exchange as an event of its stream, opening the stream first if need
   * be; answers {@code false} (the exchange stays JSON) when no stream slot is free.
   */
  private boolean event(Exchange exchange, String text) {
    if (exchange.stream == null && !openStream(exchange)) {
      exchange.jsonOnly = true;
      log.debug("session {}: {} open streams already; request {} is answered in JSON", shortId(),
          Cap.MAX_STREAMS_PER_PRINCIPAL.key(), exchange.requestKey);
      return false;
    }
    exchange.stream.append(text);
    return true;
  }

  /**
   * Switches an exchange's answer to SSE, with the slot taken for it or a new one; answers
   * {@code false} when no slot is free (never for an exchange that holds one).
   */
  private boolean openStream(Exchange exchange) {
    if (!exchange.holdsSlot && !hub.streamOpened(principalId, false)) {
      return false;
    }
    // The slot now belongs to the writer, which gives it back when its connection ends.
    exchange.holdsSlot = false;
    int number = nextStream++;
    EventStream stream = stream(number);
    resumable.put(number, stream);
    if (resumable.size() > MAX_RESUMABLE_STREAMS) {
      Iterator<Map.Entry<Integer, EventStream>> oldest = resumable.entrySet().iterator();
      while (resumable.size() > MAX_RESUMABLE_STREAMS && oldest.hasNext()) {
        EventStream candidate = oldest.next().getValue();
        if (!candidate.listening() && candidate != stream) {
          oldest.remove();
          if (candidate.finished()) {
            // Its request was answered: nothing reaches it any more.
            candidate.release();
          }
        }
      }
    }
    exchange.stream = stream;
    Replies.sseHeaders(exchange.response);
    stream.attach(writer(exchange.response, exchange.callback, stream), -1, primes());
    return true;
  }

  private EventStream stream(int number) {
    return new EventStream(number, hub.bounds().streamEvents(), hub.bounds().streamBytes(), budget,
        hub::eventDropped);
  }

  /** A writer for a stream's new connection (a stream slot is already taken for it). Holds the lock. */
  private SseWriter writer(Response response, Callback callback, EventStream stream) {
    SseWriter writer = new SseWriter(response, callback, (gone, failure) -> writerGone(stream, gone, failure),
        budget, hub.bounds().connection(), (dropped, reason) -> {
          log.warn("session {}...: dropped the connection of SSE stream {} ({}): its client does not"
              + " read what it is sent", shortId(), stream.number, reason);
          hub.streamDropped(reason);
          audit(reason);
        });
    writers.add(writer);
    hub.writerOpened(writer);
    return writer;
  }

  /** Records a dropped stream in the audit trail, off the caller's thread (which may hold locks). */
  private void audit(String reason) {
    ClientSession engine = client;
    if (engine == null) {
      return;
    }
    try {
      hub.pool().execute(() -> engine.recordRefusal("sentinel/stream_dropped", Refusal.of(Outcome.LIMITED,
          List.of(reason), "dropped an SSE stream of this session: its client does not read what it is sent")));
    } catch (RejectedExecutionException e) {
      log.warn("session {}...: could not record the dropped stream: the gateway is stopping", shortId());
    }
  }

  /**
   * Makes room for one more event within the session's bound: forgets events already written
   * (kept only for a resumption), then undelivered events of streams no connection reads, then
   * drops the connection that holds the most unwritten output. What is left over the bound then
   * is this event alone (a message larger than the bound is still delivered). Holds the lock.
   */
  private void makeRoom(String json) {
    long size = json.length() + 32L;
    if (budget.fits(size)) {
      return;
    }
    List<EventStream> streams = liveStreams();
    for (EventStream stream : streams) {
      while (!budget.fits(size) && stream.forgetWritten()) {
        // forgets the oldest
      }
    }
    for (EventStream stream : streams) {
      while (!budget.fits(size) && stream.forgetUnwritten()) {
        // forgets the oldest
      }
    }
    while (!budget.fits(size)) {
      SseWriter largest = null;
      for (SseWriter writer : writers) {
        if (writer.live() && writer.queuedBytes() > 0
            && (largest == null || writer.queuedBytes() > largest.queuedBytes())) {
          largest = writer;
        }
      }
      if (largest == null) {
        return;
      }
      largest.drop("session_buffer");
    }
  }

  /** The streams that can still hold events: the resumable ones (oldest first), those of waiting requests, the standalone one. */
  private List<EventStream> liveStreams() {
    List<EventStream> streams = new ArrayList<>(resumable.values());
    for (Exchange exchange : waiting.values()) {
      if (exchange.stream != null && !streams.contains(exchange.stream)) {
        streams.add(exchange.stream);
      }
    }
    streams.add(standalone);
    return streams;
  }

  /** Gives back the stream slot an exchange took and never used. Holds the lock. */
  private void releaseSlot(Exchange exchange) {
    if (exchange.holdsSlot) {
      exchange.holdsSlot = false;
      hub.streamClosed(principalId);
    }
  }

  private void writerGone(EventStream stream, SseWriter writer, Throwable failure) {
    hub.writerClosed(writer);
    hub.streamClosed(principalId);
    synchronized (this) {
      writers.remove(writer);
      if (stream.detached(writer, failure) && stream.number != 0 && resumable.remove(stream.number) != null) {
        // Delivered whole: no resumption needs it.
        stream.release();
      }
    }
  }

  private void forget(Exchange exchange) {
    if (exchange.progressKey != null) {
      byProgressToken.remove(exchange.progressKey, exchange);
    }
    byServerRequest.values().removeIf(target -> target == exchange);
  }

  /** The most recent exchange that still waits and can take events. */
  private Exchange latestStreamable() {
    Exchange latest = null;
    for (Exchange exchange : waiting.values()) {
      if (exchange.acceptsSse && !exchange.initialize) {
        latest = exchange;
      }
    }
    return latest;
  }

  private boolean anyResumableListening() {
    for (EventStream stream : resumable.values()) {
      if (stream.listening()) {
        return true;
      }
    }
    return false;
  }

  /** Whether to prime new streams: revision 2025-11-25 and later expect it. */
  private boolean primes() {
    String version = client == null ? null : client.protocolVersion();
    return version != null && McpRevision.of(version)
        .map(revision -> revision.compareTo(McpRevision.V2025_11_25) >= 0)
        .orElse(false);
  }

  /** The first characters of the id, for logs; the whole id is a bearer secret. */
  String shortId() {
    return id.substring(0, 6);
  }

  /** Sets the session id header on a response. */
  void identify(Response response) {
    response.getHeaders().put(HttpHeaders.SESSION_ID, id);
  }

  @Override
  public String toString() {
    return "HttpSession[" + shortId() + "..., principal=" + principalId + "]";
  }
}
