package dev.sentinel.mcp.jsonrpc;

import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One classified JSON-RPC message. The raw tree is kept as received, so fields Sentinel does not
 * know survive forwarding; do not change it (copy it with {@code deepCopy()} first).
 *
 * @param kind what the message is
 * @param raw the received tree; an {@link ObjectNode} for every kind but some {@link Kind#INVALID}
 *     messages
 * @param id the request or response id (a string or 64-bit integer node, type preserved), {@code
 *     null} for notifications and for invalid messages whose id could not be recovered
 * @param method the method of requests and notifications, else {@code null}
 * @param problem for {@link Kind#INVALID}, what is wrong; else {@code null}
 */
public record JsonRpcMessage(Kind kind, JsonNode raw, @Nullable JsonNode id,
    @Nullable String method, @Nullable String problem) {

  /** What a JSON-RPC message is. */
  public enum Kind {
    /** A request: a method and an id; expects a response. */
    REQUEST,
    /** A notification: a method and no id. */
    NOTIFICATION,
    /** A successful response: an id and a {@code result}. */
    RESULT,
    /** An error response: an id (possibly null) and an {@code error}. */
    ERROR,
    /** Valid JSON that is not a valid JSON-RPC 2.0 message, or a batch. */
    INVALID
  }

  /** Validates. */
  public JsonRpcMessage {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(raw, "raw");
    if ((kind == Kind.INVALID) != (problem != null)) {
      throw new IllegalArgumentException("a problem is required exactly for invalid messages");
    }
  }

  /** Whether this is a result or error response. */
  public boolean isResponse() {
    return kind == Kind.RESULT || kind == Kind.ERROR;
  }

  /** The raw message as an object; {@code null} for invalid messages that are not objects. */
  public @Nullable ObjectNode object() {
    return raw instanceof ObjectNode ? (ObjectNode) raw : null;
  }

  /**
   * The raw message as an object, for a message known to be one: every kind but {@link
   * Kind#INVALID} is.
   *
   * @throws IllegalStateException if the message is not an object (an invalid message)
   */
  public ObjectNode requiredObject() {
    if (!(raw instanceof ObjectNode object)) {
      throw new IllegalStateException("a JSON-RPC " + kind + " message is not an object");
    }
    return object;
  }

  /**
   * The id, for a message known to carry one: {@link JsonRpc#classify} gives one to every
   * {@link Kind#REQUEST} and {@link Kind#RESULT}; an {@link Kind#ERROR} has none when it answered
   * with id {@code null}, and a {@link Kind#NOTIFICATION} never has one.
   *
   * @throws IllegalStateException naming the kind if the message has no id
   */
  public JsonNode requiredId() {
    if (id == null) {
      throw new IllegalStateException("a JSON-RPC " + kind + " message has no id");
    }
    return id;
  }

  /**
   * The method, for a message known to carry one: {@link JsonRpc#classify} gives one to every
   * {@link Kind#REQUEST} and {@link Kind#NOTIFICATION}, and to no other kind.
   *
   * @throws IllegalStateException naming the kind if the message has no method
   */
  public String requiredMethod() {
    if (method == null) {
      throw new IllegalStateException("a JSON-RPC " + kind + " message has no method");
    }
    return method;
  }

  /** The params (an object or array), or a missing node when absent. */
  public JsonNode params() {
    return raw.path("params");
  }

  /** The result of a {@link Kind#RESULT} response, or a missing node. */
  public JsonNode result() {
    return raw.path("result");
  }

  /** The error object of a {@link Kind#ERROR} response, or a missing node. */
  public JsonNode error() {
    return raw.path("error");
  }

  /** The id as text for logs and audit events, or {@code null}. */
  public @Nullable String idText() {
    return JsonRpc.idText(id);
  }
}
