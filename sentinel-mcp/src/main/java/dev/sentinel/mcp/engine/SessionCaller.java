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
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The client of one request in one session, as a confirmer reaches it: {@link #confirm} sends the
 * session's client an {@code elicitation/create} form question under a fresh gateway id and takes
 * the answer to that id only, from that session only; {@link #waiting} sends progress under the
 * request's own progress token.
 *
 * <p>A stateless request (MCP 2026-07-28) takes no requests from the gateway: its question goes
 * back as the request's {@code input_required} result, with the elicitation under {@value
 * #INPUT_KEY} and a signed {@code requestState} bound to the call ({@link RequestStates}). The
 * client sends the request again with its answer in {@code inputResponses} and the state
 * unchanged; the answer counts only if the state was signed here, for this very call, has not
 * expired and was not used before.
 *
 * <p>The question has no fields: accepting it is the confirmation. Anything but an {@code
 * accept} action (a decline, a cancel, an error, a malformed answer, no answer before the
 * deadline, the request cancelled, the session gone) is not one. Thread-safe.
 */
final class SessionCaller implements Caller {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** How often a waiting confirmation looks whether its request was cancelled. */
  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** The key of the gateway's question in an {@code input_required} result's {@code inputRequests}. */
  static final String INPUT_KEY = "sentinel_confirm";

  private final McpGateway gateway;
  private final ClientSession session;
  private final InFlight work;
  private final JsonNode request;
  private final @Nullable JsonNode progressToken;
  private final AtomicLong progress = new AtomicLong();

  /**
   * @param request the request's params: its {@code _meta.progressToken} (without one, {@link
   *     #waiting} says nothing) and, from a stateless client, its {@code inputResponses} and
   *     {@code requestState}
   */
  SessionCaller(McpGateway gateway, ClientSession session, InFlight work, JsonNode request) {
    this.gateway = gateway;
    this.session = session;
    this.work = work;
    this.request = request;
    JsonNode token = request.path("_meta").get("progressToken");
    this.progressToken = token != null && JsonRpc.validToken(token) ? token : null;
  }

  @Override
  public boolean askable() {
    if (work.stateless != null) {
      return work.stateless.asksForms();
    }
    return session.asksForms() && !session.stateless();
  }

  @Override
  public Answer confirm(String question, String binding, Duration timeout) {
    if (!askable()) {
      return Answer.UNREACHABLE;
    }
    ObjectNode params = NODES.objectNode().put("message", question);
    // No fields: the question is yes or no, and accept is yes (MCP allows an empty form).
    params.putObject("requestedSchema").put("type", "object").putObject("properties");
    if (work.stateless != null) {
      return confirmStateless(params, binding, timeout);
    }
    long id = gateway.nextId();
    long deadline = gateway.clock().nanoTime() + timeout.toNanos();
    ClientSession.Relay relay = session.request(id, "elicitation/create", params, deadline, work);
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
    return action(answer.result());
  }

  /**
   * A stateless request's confirmation: the answer it carries, if its state holds for this call;
   * else the question, as the {@code input_required} result this request gets instead of running.
   */
  private Answer confirmStateless(ObjectNode question, String binding, Duration timeout) {
    JsonNode state = request.get("requestState");
    JsonNode answer = request.path("inputResponses").get(INPUT_KEY);
    if (state != null && answer != null) {
      if (!state.isString()) {
        return Answer.STALE;
      }
      switch (gateway.requestStates().redeem(state.stringValue(), binding)) {
        case REDEEMED:
          work.stateRedeemed = true;
          return answer.isObject() ? action(answer) : Answer.UNREACHABLE;
        default:
          return Answer.STALE;
      }
    }
    question.put("mode", "form");
    ObjectNode result = NODES.objectNode().put("resultType", "input_required");
    result.putObject("inputRequests").putObject(INPUT_KEY)
        .put("method", "elicitation/create")
        .set("params", question);
    result.put("requestState", gateway.requestStates().issue(binding, timeout));
    work.inputRequired = result;
    return Answer.INPUT_REQUIRED;
  }

  private static Answer action(JsonNode result) {
    switch (result.path("action").asString("")) {
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

  /**
   * Whether a stateless request's {@code requestState} continues a backend call parked here for
   * this very call ({@link RoundTrip}): the call was decided and confirmed when it was forwarded.
   */
  @Override
  public boolean continues(String binding) {
    JsonNode state = request.get("requestState");
    return work.stateless != null && state != null && state.isString()
        && gateway.continuable(state.stringValue(), binding);
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
    session.send(JsonRpc.notification("notifications/progress", params), work);
  }

  @Override
  public boolean cancelled() {
    return work.cancelled();
  }
}
