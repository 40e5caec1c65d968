package dev.sentinel.mcp.streamable;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Transport;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.mcp.engine.ClientSession;
import dev.sentinel.mcp.engine.McpExchange;
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
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * One MCP session over Streamable HTTP, and the {@link Transport} the engine serves it on. It
 * knows no HTTP server: each request comes with its {@link ResponseChannel}.
 *
 * <p>Client messages arrive in POST bodies and are delivered to the engine one at a time, in
 * the order their bodies were read, on the session's serial delivery, each as an {@link
 * Exchange}: the message as the handler classified it, the principal the handler authenticated
 * the request as, and the POST's answer. The engine answers a request through its exchange (as
 * JSON, or as the last event of that exchange's SSE stream), and sends what belongs to the
 * request the same way before the answer: its progress, a question to the client about it
 * (sampling, elicitation, roots) and that question's cancellation. What belongs to no request
 * (list changes, logging, resource updates, a backend's question about nothing in flight) the
 * engine sends through {@link #send}: to the standalone stream that GET opens, buffered
 * (bounded) while none is open.
 *
 * <p>An exchange answers with {@code application/json} unless a message for it comes before its
 * response: then it switches to {@code text/event-stream} (if the client accepts it), sends that
 * message and the later ones as events, and ends after the response.
 *
 * <p>Every SSE stream takes one of the principal's stream slots ({@link StreamableHub#streamOpened}) for
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
public final class StreamableSession implements Transport {
  private static final Logger log = LoggerFactory.getLogger(StreamableSession.class);
  private static final int MAX_RESUMABLE_STREAMS = 16;

  /**
   * One client message and its POST: a request's answer, and what the engine sends about the
   * request before it, go to this exchange's HTTP response ({@code channel} is {@code null} for
   * a notification or an answer, which the handler answered 202: what the engine sends about
   * those goes to the standalone stream). Its routing state is guarded by the session's lock.
   */
  private final class Exchange implements McpExchange {
    final JsonRpcMessage message;
    final Credentials credentials;
    final @Nullable Principal principal;
    final boolean acceptsJson;
    final boolean acceptsSse;
    final boolean initialize;
    final @Nullable ResponseChannel channel;
    @Nullable EventStream stream;
    /** Whether a stream slot was taken for this exchange and not yet handed to a writer. */
    boolean holdsSlot;
    /** Whether no stream slot was free when one was wanted: the answer stays JSON. */
    boolean jsonOnly;

    Exchange(JsonRpcMessage message, Credentials credentials, @Nullable Principal principal,
        boolean acceptsJson,
        boolean acceptsSse, boolean initialize, @Nullable ResponseChannel channel) {
      this.message = message;
      this.credentials = credentials;
      this.principal = principal;
      this.acceptsJson = acceptsJson;
      this.acceptsSse = acceptsSse;
      this.initialize = initialize;
      this.channel = channel;
    }

    /** The response of a request (a notification's or an answer's exchange, answered 202, has none). */
    ResponseChannel response() {
      return Objects.requireNonNull(channel, "a request's exchange has a response");
    }

    @Override
    public JsonRpcMessage classified() {
      return message;
    }

    @Override
    public Credentials credentials() {
      return credentials;
    }

    @Override
    public @Nullable Principal principal() {
      return principal;
    }

    @Override
    public void reply(JsonNode message) throws IOException {
      answer(this, message);
    }

    @Override
    public void cancelled() {
      abandon(this);
    }
  }

  /** What came of a request to open an exchange or a stream. */
  public enum Admission {
    /** Taken. */
    ACCEPTED,
    /** The session is closed. */
    CLOSED,
    /** The principal holds {@code max_streams_per_principal} streams already. */
    AT_STREAM_CAP
  }

  private final String id;
  private final String principalId;
  private final StreamableHub hub;
  private final SerialExecutor delivery;
  /** The POST exchanges waiting for their answer, oldest first. */
  private final Set<Exchange> waiting = new LinkedHashSet<>();
  private final LinkedHashMap<Integer, EventStream> resumable = new LinkedHashMap<>();
  private final Set<SseWriter> writers = new LinkedHashSet<>();
  private final EventStream standalone;
  /** What the session holds for its client, against its bound. */
  private final OutputBudget budget;
  private int nextStream = 1;
  private @Nullable Receiver receiver;
  private @Nullable ClientSession client;
  private boolean closed;
  private long lastUsed;

  StreamableSession(StreamableHub hub, String id, String principalId) {
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

  /** A message that belongs to no exchange: to the standalone stream. */
  @Override
  public void send(JsonNode message) throws IOException {
    answer(null, message);
  }

  /**
   * A message from the engine for an exchange ({@code null}: for none): a response answers the
   * exchange; anything else is an event of the exchange's stream while it waits and can take
   * events, else of the standalone stream.
   */
  private void answer(@Nullable Exchange exchange, JsonNode message) throws IOException {
    // A response answered in JSON is written as these bytes; only an event needs the text.
    byte[] json = StreamableHub.bytes(message);
    synchronized (this) {
      if (closed) {
        throw new IOException("the HTTP session is closed");
      }
      if (!message.has("method")) {
        respond(exchange, message, json);
        return;
      }
      String text = new String(json, StandardCharsets.UTF_8);
      makeRoom(text.length());
      if (exchange != null && exchange.acceptsSse && !exchange.jsonOnly && waiting.contains(exchange)
          && event(exchange, text)) {
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
      unanswered = new ArrayList<>(waiting);
      waiting.clear();
      told = receiver;
    }
    hub.removed(this);
    String ended = StreamableHub.text(JsonRpc.error(null, ErrorCode.INTERNAL_ERROR, "the session ended"));
    synchronized (this) {
      for (Exchange exchange : unanswered) {
        hub.exchangeDone();
        releaseSlot(exchange);
        EventStream stream = exchange.stream;
        if (stream != null) {
          stream.finish();
          stream.release();
        } else if (exchange.acceptsJson) {
          exchange.response().json(200, ended.getBytes(StandardCharsets.UTF_8));
        } else {
          exchange.response().empty(404);
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

  // ---- for the HTTP server's adapter ---------------------------------------------------------

  /** The session id: a bearer secret, sent back by the client on every request. */
  public String id() {
    return id;
  }

  /** The principal the session belongs to: requests of anyone else are not its. */
  public String principalId() {
    return principalId;
  }

  /** What the session holds for its client, against its bound. */
  public OutputBudget budget() {
    return budget;
  }

  /** The engine's session, once served. */
  public synchronized void served(ClientSession session) {
    this.client = session;
  }

  /** Ends the session at the client's request (DELETE), or because it expired. */
  public void terminate() {
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
  public synchronized void touch() {
    lastUsed = hub.clock().nanoTime();
  }

  /** Whether the session has been idle (no request waiting, no stream open) since before the limit. */
  public synchronized boolean idleLongerThan(long nanos, long now) {
    return !closed && waiting.isEmpty() && !standalone.listening() && !anyResumableListening()
        && now - lastUsed >= nanos;
  }

  public synchronized boolean isClosed() {
    return closed;
  }

  /**
   * Takes a client request: registers the exchange that waits for its response, then delivers it.
   * Answers without writing anything when the session is closed, or when the client accepts
   * only SSE and the principal has no stream slot free. A {@code null} principal: the engine
   * authenticates the credentials itself.
   */
  public Admission request(JsonRpcMessage request, Credentials credentials,
      @Nullable Principal principal,
      ResponseChannel channel, boolean acceptsJson, boolean acceptsSse, boolean initialize) {
    Exchange exchange;
    synchronized (this) {
      if (closed) {
        return Admission.CLOSED;
      }
      // An answer that can only be SSE needs its stream slot before the request goes anywhere.
      boolean slot = !acceptsJson;
      if (slot && !hub.streamOpened(principalId, false)) {
        return Admission.AT_STREAM_CAP;
      }
      exchange = new Exchange(request, credentials, principal, acceptsJson, acceptsSse, initialize, channel);
      exchange.holdsSlot = slot;
      waiting.add(exchange);
      hub.exchangeStarted();
      lastUsed = hub.clock().nanoTime();
    }
    deliver(exchange);
    return Admission.ACCEPTED;
  }

  /**
   * Delivers a client notification or response (answered 202 by the caller), in order with the
   * session's requests, on the session's pool: never on the calling thread (see the comment within).
   * A {@code null} principal: the engine authenticates the credentials itself.
   */
  public boolean accept(JsonRpcMessage message, Credentials credentials,
      @Nullable Principal principal) {
    synchronized (this) {
      if (closed) {
        return false;
      }
      lastUsed = hub.clock().nanoTime();
    }
    // On the session's pool, never the reading thread: the engine forwards a notification or an
    // answer to a backend at once (a cancellation, roots/list_changed, a sampling answer), a write
    // that blocks while a stdio backend does not read; it would hold the server's thread and the 202.
    delivery.execute(delivery(new Exchange(message, credentials, principal, false, false, false, null)));
    return true;
  }

  /**
   * Opens a GET stream: the standalone stream, or with a {@code Last-Event-ID} of a POST stream
   * still kept, that stream's remaining events. Answers without writing anything when the
   * session is closed, or when the principal has no stream slot free (a GET that replaces this
   * session's open one needs none).
   */
  public Admission listen(ResponseChannel channel, String lastEventId) {
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
      channel.openEventStream();
      EventStream chosen = stream;
      chosen.attach(writer(channel, chosen), after, primes());
      return Admission.ACCEPTED;
    }
  }

  // ---- internals --------------------------------------------------------------------------

  /**
   * Delivers an exchange in order: on the calling thread (the server's, which read the request)
   * when the session delivers nothing else at the moment, else after what is being delivered. It
   * carries the credentials of the HTTP request and the principal the handler authenticated them
   * as: the engine takes its calls as that principal's, so a client that refreshes an expiring
   * token keeps its session, and the request is authenticated once.
   */
  private void deliver(Exchange exchange) {
    delivery.runOrQueue(delivery(exchange));
  }

  /** The delivery of an exchange to the engine, unless the session has closed meanwhile. */
  private Runnable delivery(Exchange exchange) {
    return () -> {
      Receiver target;
      synchronized (this) {
        target = closed ? null : receiver;
      }
      if (target != null) {
        target.exchange(exchange);
      }
    };
  }

  /** A response from the engine: to the exchange it answers. Holds the lock. */
  private void respond(@Nullable Exchange exchange, JsonNode message, byte[] json) {
    if (exchange == null || !waiting.remove(exchange)) {
      log.debug("session {}: no exchange waits for the response to id {}", shortId(),
          JsonRpc.idText(message.get("id")));
      return;
    }
    hub.exchangeDone();
    EventStream stream = exchange.stream;
    if (stream != null || !exchange.acceptsJson) {
      makeRoom(json.length);
    }
    if (stream == null && exchange.acceptsJson) {
      releaseSlot(exchange);
      exchange.response().json(200, json);
    } else if (stream != null || (stream = openStream(exchange)) != null) {
      stream.append(new String(json, StandardCharsets.UTF_8));
      finishStream(stream);
    } else {
      // Not reached: an answer that can only be SSE holds its slot from the start. Should it
      // happen, an answer the client may not parse beats one that never comes.
      exchange.response().json(200, json);
    }
    if (exchange.initialize && message.has("error")) {
      // A failed initialize leaves no session behind: ended off this thread, which holds the
      // session's lock and may hold the engine's.
      try {
        hub.pool().execute(this::terminate);
      } catch (RejectedExecutionException e) {
        // The gateway is stopping, and its stop ends every session; the answer is sent.
        log.debug("session {}...: not ended after its failed initialize: the gateway is stopping", shortId());
      }
    }
  }

  /** Ends an exchange's SSE stream after what it holds. Holds the lock. */
  private void finishStream(EventStream stream) {
    stream.finish();
    if (!resumable.containsKey(stream.number)) {
      // Pushed out of the resumable streams while it waited: nothing can resume it now.
      stream.release();
    }
  }

  /**
   * Ends an exchange whose request the client cancelled, which gets no answer: its SSE stream
   * ends after what it carried; a POST still waiting for JSON is answered {@code 204}. The
   * session then holds nothing for it (and can expire idle).
   */
  private synchronized void abandon(Exchange exchange) {
    if (!waiting.remove(exchange)) {
      return;
    }
    hub.exchangeDone();
    releaseSlot(exchange);
    EventStream stream = exchange.stream;
    if (stream != null) {
      finishStream(stream);
    } else if (exchange.channel != null) {
      exchange.channel.empty(204);
    }
  }

  /**
   * Sends a message for an exchange as an event of its stream, opening the stream first if need
   * be; answers {@code false} (the exchange stays JSON) when no stream slot is free.
   */
  private boolean event(Exchange exchange, String text) {
    EventStream stream = exchange.stream != null ? exchange.stream : openStream(exchange);
    if (stream == null) {
      exchange.jsonOnly = true;
      log.debug("session {}: {} open streams already; request {} is answered in JSON", shortId(),
          Cap.MAX_STREAMS_PER_PRINCIPAL.key(), exchange.message.idText());
      return false;
    }
    stream.append(text);
    return true;
  }

  /**
   * Switches an exchange's answer to SSE, with the slot taken for it or a new one: its stream, or
   * {@code null} when no slot is free (never for an exchange that holds one).
   */
  private @Nullable EventStream openStream(Exchange exchange) {
    if (!exchange.holdsSlot && !hub.streamOpened(principalId, false)) {
      return null;
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
    ResponseChannel response = exchange.response();
    response.openEventStream();
    stream.attach(writer(response, stream), -1, primes());
    return stream;
  }

  private EventStream stream(int number) {
    return new EventStream(number, hub.bounds().streamEvents(), hub.bounds().streamBytes(), budget,
        hub::eventDropped);
  }

  /** A writer for a stream's new connection (a stream slot is already taken for it). Holds the lock. */
  private SseWriter writer(ResponseChannel channel, EventStream stream) {
    SseWriter writer = new SseWriter(channel, (gone, failure) -> writerGone(stream, gone, failure),
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
  private void makeRoom(int length) {
    long size = length + 32L;
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
    for (Exchange exchange : waiting) {
      EventStream stream = exchange.stream;
      if (stream != null && !streams.contains(stream)) {
        streams.add(stream);
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
  public String shortId() {
    return id.substring(0, 6);
  }

  @Override
  public String toString() {
    return "StreamableSession[" + shortId() + "..., principal=" + principalId + "]";
  }
}
