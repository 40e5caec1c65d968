package dev.sentinel.runner.http.admin;

import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.operator.FleetOperations;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.operator.Times;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jetty.util.Fields;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code GET /admin/api/fleet}: the gateways that follow a bundle channel of the database, over
 * the operator service's {@link FleetOperations}: each one's last heartbeat, the bundle it runs
 * against its channel's head, and its state ({@code in-sync}, {@code drift}, {@code stale};
 * {@code ?stale_after=2m}, default 1m).
 */
final class FleetRoute implements AdminExchange.Route {
  private static final Set<String> PARAMS = Set.of("stale_after");

  private final Operations operations;

  FleetRoute(Operations operations) {
    this.operations = operations;
  }

  @Override
  public Answer handle(AdminExchange x) {
    x.exact(1);
    x.allow("GET", "HEAD");
    FleetOperations fleet = operations.fleet();
    Fields params = x.params(PARAMS);
    String written = AdminExchange.param(params, "stale_after");
    Duration staleAfter = written == null ? FleetOperations.DEFAULT_STALE_AFTER
        : Times.duration("stale_after", written);
    ObjectNode body = AdminExchange.NODES.objectNode();
    ArrayNode gateways = body.putArray("gateways");
    for (FleetOperations.Member member : fleet.status(staleAfter)) {
      Heartbeat beat = member.heartbeat();
      ObjectNode node = gateways.addObject()
          .put("channel", beat.channel())
          .put("instance", beat.instance())
          .put("host", beat.host())
          .put("version", beat.version())
          .put("state", member.state().name().toLowerCase(Locale.ROOT).replace('_', '-'))
          .put("digest", beat.digest())
          .put("sequence", beat.sequence())
          .put("revision", beat.revision())
          .put("last_error", beat.lastError())
          .put("started", beat.startedAt().toString())
          .put("seen", beat.seenAt().toString());
      member.desired().ifPresentOrElse(d -> node.putObject("desired")
          .put("digest", d.digest())
          .put("sequence", d.sequence())
          .put("published", d.publishedAt().toString())
          .put("published_by", d.publishedBy()), () -> node.putNull("desired"));
    }
    return Answer.ok(body);
  }
}
