package dev.sentinel.mcp.streamable;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Transport;
import dev.sentinel.mcp.engine.ClientSession;
import dev.sentinel.mcp.engine.McpExchange;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * One stateless (MCP 2026-07-28) POST: the {@link Transport} of the engine session that serves
 * its one request ({@link dev.sentinel.mcp.engine.McpGateway#serveExchange}), answering on that
 * POST's response alone. Nothing is matched across requests: the answer is the first response
 * the engine sends, and the session ends with it.
 *
 * <p>The answer is {@code application/json} unless a notification for the request (progress, a
 * log message the request asked for) comes before it and the client accepts
 * {@code text/event-stream}: then the answer becomes an SSE stream of those notifications and the
 * response, without event ids (2026-07-28 streams are not resumable), on one of the principal's
 * stream slots; without a free slot the notifications are dropped and the answer stays JSON. A
 * client that goes away mid-stream cancels the request.
 *
 * <p>Thread-safe.
 */
public final class StatelessExchange implements Transport {
  private static final Logger log = LoggerFactory.getLogger(StatelessExchange.class);

  private final StreamableHub hub;
  private final String principalId;
  private final ResponseChannel channel;
  private final boolean acceptsJson;
  private final boolean acceptsSse;
  /** A {@code subscriptions/listen}: long-lived, so it does not hold up a drain; its stream slot is taken already. */
  private final boolean listen;
  private boolean holdsSlot;
  private @Nullable Receiver receiver;
  private @Nullable ClientSession session;
  private @Nullable SseWriter writer;
  private boolean answered;
  private boolean noSlot;

  public StatelessExchange(StreamableHub hub, String principalId, ResponseChannel channel, boolean acceptsJson,
      boolean acceptsSse) {
    this(hub, principalId, channel, acceptsJson, acceptsSse, false);
  }

  /**
   * An exchange; with {@code listen}, a {@code subscriptions/listen} whose stream slot the caller
   * took ({@link StreamableHub#streamOpened}): the exchange gives it back.
   */
  public StatelessExchange(StreamableHub hub, String principalId, ResponseChannel channel, boolean acceptsJson,
      boolean acceptsSse, boolean listen) {
    this.hub = hub;
    this.principalId = principalId;
    this.channel = channel;
    this.acceptsJson = acceptsJson;
    this.acceptsSse = acceptsSse;
    this.listen = listen;
    this.holdsSlot = listen;
  }

  @Override
  public synchronized void start(Receiver receiver) {
    this.receiver = Objects.requireNonNull(receiver, "receiver");
  }

  /**
   * Hands the request, as the handler classified it and with the principal it authenticated, to
   * the engine session that {@code serveExchange} returned. A {@code null} principal: the engine
   * authenticates the credentials itself.
   */
  public void deliver(ClientSession served, JsonRpcMessage request, Credentials credentials,
      @Nullable Principal principal) {
    Receiver target;
    synchronized (this) {
      session = served;
      target = receiver;
    }
    if (listen) {
      hub.listenOpened(this);
    } else {
      hub.exchangeStarted();
    }
    Objects.requireNonNull(target, "the engine serves this exchange (serveExchange) before it is delivered")
        .exchange(new Delivered(request, credentials, principal, this));
  }

  /** The request as the engine takes it: whatever answers it is this POST's. */
  private record Delivered(JsonRpcMessage classified, Credentials credentials,
      @Nullable Principal principal,
      StatelessExchange to) implements McpExchange {
    @Override
    public void reply(JsonNode message) {
      to.send(message);
    }
  }

  /** Ends a {@code subscriptions/listen} gracefully (the gateway is stopping): its session answers it, then ends. */
  public void end() {
    ClientSession served;
    synchronized (this) {
      served = session;
    }
    if (served != null) {
      served.close();
    }
  }

  /** The exchange is done: a drain no longer waits for it, and a slot it still holds goes back. Holds the lock. */
  private void done() {
    if (holdsSlot) {
      holdsSlot = false;
      hub.streamClosed(principalId);
    }
    if (listen) {
      hub.listenClosed(this);
    } else {
      hub.exchangeDone();
    }
  }

  @Override
  public void send(JsonNode message) {
    byte[] json = StreamableHub.bytes(message);
    boolean last = !message.has("method");
    ClientSession ended = null;
    synchronized (this) {
      if (answered) {
        return;
      }
      if (!last) {
        // A notification for this request (server requests never reach a stateless session).
        SseWriter events = stream();
        if (events != null) {
          events.write("data: " + new String(json, StandardCharsets.UTF_8) + "\n\n");
        }
        return;
      }
      answered = true;
      SseWriter events = writer != null || !acceptsJson ? stream() : null;
      if (events != null) {
        events.write("data: " + new String(json, StandardCharsets.UTF_8) + "\n\n");
        events.end();
      } else {
        channel.json(status(message), json);
      }
      ended = session;
      done();
    }
    if (ended != null) {
      ended.close();
    }
  }

  /**
   * The status of a JSON answer: 400 for the errors 2026-07-28 answers so over HTTP (headers that
   * disagree with the body, a client capability missing), found by the engine only once it knew
   * the tool; else 200.
   */
  private static int status(JsonNode message) {
    int code = message.path("error").path("code").asInt(0);
    return code == ErrorCode.HEADER_MISMATCH.code() || code == ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY.code()
        ? 400 : 200;
  }

  /**
   * Switches the answer to SSE if it is not yet: its writer, or {@code null} when the client or
   * the principal's slots forbid it. Holds the lock.
   */
  private @Nullable SseWriter stream() {
    if (writer != null) {
      return writer;
    }
    if (!acceptsSse || noSlot) {
      return null;
    }
    if (holdsSlot) {
      holdsSlot = false; // the writer gives it back when its connection ends
    } else if (!hub.streamOpened(principalId, false)) {
      noSlot = true;
      log.debug("{} open streams already for {}: a stateless request is answered in JSON",
          Cap.MAX_STREAMS_PER_PRINCIPAL.key(), principalId);
      return null;
    }
    channel.openEventStream();
    OutputBudget budget = new OutputBudget(hub.bounds().sessionEvents(), hub.bounds().sessionBytes());
    SseWriter opened = new SseWriter(channel, this::gone, budget, hub.bounds().connection(), (dropped, reason) -> {
      log.warn("dropped the SSE answer of a stateless request of {} ({}): its client does not read it",
          principalId, reason);
      hub.streamDropped(reason);
    });
    writer = opened;
    hub.writerOpened(opened);
    opened.open();
    return opened;
  }

  /** The stream ended: a client that went away before the answer cancels its request. */
  private void gone(SseWriter gone, Throwable failure) {
    hub.writerClosed(gone);
    hub.streamClosed(principalId);
    ClientSession cancelled;
    synchronized (this) {
      if (answered) {
        return;
      }
      answered = true;
      cancelled = session;
      done();
    }
    if (cancelled != null) {
      cancelled.close();
    }
  }

  /** The engine ended the session without answering (it closed, or the gateway is stopping). */
  @Override
  public void close() {
    synchronized (this) {
      if (answered || session == null) {
        return;
      }
      answered = true;
      String text = StreamableHub.text(JsonRpc.error(null, ErrorCode.INTERNAL_ERROR, "the request ended unanswered"));
      SseWriter events = writer;
      if (events != null) {
        events.write("data: " + text + "\n\n");
        events.end();
      } else {
        channel.json(200, text.getBytes(StandardCharsets.UTF_8));
      }
      done();
    }
  }
}
