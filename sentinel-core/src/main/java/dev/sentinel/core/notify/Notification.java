package dev.sentinel.core.notify;

import java.time.Instant;
import java.util.Objects;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One event for operators.
 *
 * @param type what happened, such as {@code approval.pending} or {@code approval.decided}
 * @param time when
 * @param text one line for people: what Slack-compatible receivers show
 * @param data the event's fields (ids, principal, tool, ...); never secrets or raw arguments
 */
public record Notification(String type, Instant time, String text, ObjectNode data) {

  /** Validates and copies. */
  public Notification {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(text, "text");
    data = data == null ? JsonNodeFactory.instance.objectNode() : data.deepCopy();
  }

  /** The JSON body a webhook receives: {@code type}, {@code time}, {@code text} and the data. */
  public ObjectNode toJson() {
    ObjectNode body = JsonNodeFactory.instance.objectNode()
        .put("type", type)
        .put("time", time.toString())
        .put("text", text);
    body.setAll(data);
    // The three above win over a data field of the same name.
    body.put("type", type).put("time", time.toString()).put("text", text);
    return body;
  }
}
