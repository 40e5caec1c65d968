package dev.sentinel.mcp.engine;

import dev.sentinel.api.Caller;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The client of one request in one session, as a confirmer reaches it: {@link #confirm} sends the
 * session's client an {@code elicitation/create} form question under a fresh gateway id and takes
 * the answer to that id only, from that session only; {@link #waiting} sends progress under the
 * request's own progress token.
 *
 * <p>The question has no fields: accepting it is the confirmation. Anything but an {@code
 * accept} action (a decline, a cancel, an error, a malformed answer, no answer before the
 * deadline, the request cancelled, the session gone) is not one. Thread-safe.
 */
final class SessionCaller implements Caller {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** How often a waiting confirmation looks whether its request was cancelled. */
  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final McpGateway gateway;
  private final ClientSession session;
  private final InFlight work;
  private final JsonNode progressToken;
  private final AtomicLong progress = new AtomicLong();

  /**
   * @param progressToken the token the client sent with the request ({@code _meta.progressToken}),
   *     or {@code null}: then {@link #waiting} says nothing
   */
  SessionCaller(McpGateway gateway, ClientSession session, InFlight work, JsonNode progressToken) {
    this.gateway = gateway;
    this.session = session;
    this.work = work;
    this.progressToken = progressToken != null && JsonRpc.validToken(progressToken) ? progressToken : null;
  }

  @Override
  public boolean askable() {
    return session.asksForms() && !session.stateless();
  }

  @Override
  public Answer confirm(String question, Duration timeout) {
    if (!askable()) {
      return Answer.UNREACHABLE;
    }
    ObjectNode params = NODES.objectNode().put("message", question);
    // No fields: the question is yes or no, and accept is yes (MCP allows an empty form).
    params.putObject("requestedSchema").put("type", "object").putObject("properties");
    long id = gateway.nextId();
    long deadline = gateway.clock().nanoTime() + timeout.toNanos();
    ClientSession.Relay relay = session.request(id, "elicitation/create", params, deadline);
    JsonRpcMessage answer;
    try {
      answer = await(relay, id, deadline);
    } catch (TimeoutException | CancellationException e) {
      return Answer.TIMED_OUT;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      return cause instanceof TimeoutException || cause instanceof CancellationException
          ? Answer.TIMED_OUT : Answer.UNREACHABLE;
    }
    if (answer.kind() != JsonRpcMessage.Kind.RESULT) {
      return Answer.UNREACHABLE;
    }
    switch (answer.result().path("action").asString("")) {
      case "accept":
        return Answer.ACCEPTED;
      case "decline":
        return Answer.DECLINED;
      case "cancel":
        return Answer.CANCELLED;
      default:
        return Answer.UNREACHABLE;
    }
  }

  /**
   * The client's answer; gives up (telling the client) at the deadline, when the request is
   * cancelled, or when the thread is interrupted.
   */
  private JsonRpcMessage await(ClientSession.Relay relay, long id, long deadline)
      throws TimeoutException, ExecutionException {
    while (true) {
      long left = deadline - gateway.clock().nanoTime();
      if (left <= 0 || work.cancelled() || Thread.currentThread().isInterrupted()) {
        session.cancelRelay(id, left <= 0 ? "the confirmation timed out" : "the call was cancelled");
        throw new TimeoutException("no answer");
      }
      try {
        return relay.answer.get(Math.min(left, SLICE_NANOS), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        // Look at the deadline and the request again.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void waiting(Duration waited, String message) {
    if (progressToken == null || work.cancelled()) {
      return;
    }
    ObjectNode params = NODES.objectNode();
    params.set("progressToken", progressToken);
    params.put("progress", progress.incrementAndGet());
    params.put("message", message + " (" + waited.toSeconds() + " s so far)");
    session.send(JsonRpc.notification("notifications/progress", params));
  }

  @Override
  public boolean cancelled() {
    return work.cancelled();
  }
}
