package dev.sentinel.core.pinning;

import dev.sentinel.core.notify.Notification;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The notifications of tool-definition pinning: {@code tool.changed} when a backend lists a
 * definition other than the approved one (sent once per new definition, by the gateway that
 * recorded it first), and {@code tool.approved} and {@code tool.rejected} when an operator
 * decides. They name the backend, the tool and the digests, never the definitions (operators
 * read those with {@code sentinel tools diff}). Stateless.
 */
public final class PinEvents {
  private PinEvents() {}

  /**
   * A backend lists a changed definition.
   *
   * @param held whether calls and lists wait for an operator ({@code pinning: enforce}, or
   *     hidden instructions the config blocks); else it is forwarded ({@code pinning: warn})
   * @param hidden whether the definition carries hidden instructions
   */
  public static Notification changed(ToolPin pin, boolean held, boolean hidden, Instant time) {
    String what = pin.digest() == null ? "a first definition" : "a changed definition";
    ObjectNode data = fields(pin).put("held", held).put("hidden_instructions", hidden);
    return new Notification("tool.changed", time,
        "backend " + pin.backend() + " lists " + what + " of tool " + pin.tool()
            + (hidden ? " carrying hidden instructions" : "") + "; "
            + (held ? "held until an operator approves it" : "forwarded (pinning: warn)")
            + ": review with 'sentinel tools diff " + pin.backend() + " " + pin.tool() + "'",
        data);
  }

  /** An operator approved the held definition ({@code rejected} false) or rejected it. */
  public static Notification decided(ToolPin before, ToolPin after, String by, Instant time) {
    boolean rejected = after.rejected();
    ObjectNode data = fields(after).put("by", by)
        .put("decided_digest", before.pendingDigest());
    return new Notification(rejected ? "tool.rejected" : "tool.approved", time,
        by + (rejected ? " rejected" : " approved") + " the new definition of tool "
            + after.tool() + " of backend " + after.backend() + " ("
            + shortDigest(before.pendingDigest()) + ")",
        data);
  }

  private static ObjectNode fields(ToolPin pin) {
    ObjectNode data = JsonNodeFactory.instance.objectNode()
        .put("backend", pin.backend())
        .put("tool", pin.tool());
    data.put("approved_digest", pin.digest());
    data.put("pending_digest", pin.pendingDigest());
    return data;
  }

  private static String shortDigest(@Nullable String digest) {
    return digest == null ? "none" : digest.substring(0, Math.min(digest.length(), 19));
  }
}
