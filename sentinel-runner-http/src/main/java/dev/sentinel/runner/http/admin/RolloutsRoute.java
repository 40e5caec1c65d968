package dev.sentinel.runner.http.admin;

import dev.sentinel.core.bundle.Heartbeat;
import dev.sentinel.core.bundle.Rollout;
import dev.sentinel.core.operator.Times;
import dev.sentinel.operator.FleetOperations;
import dev.sentinel.operator.Operations;
import dev.sentinel.operator.RolloutOperations;
import dev.sentinel.runner.http.admin.AdminExchange.Answer;
import dev.sentinel.runner.http.admin.AdminExchange.BadRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jetty.util.Fields;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /admin/api/rollouts/{channel}}: the channel's latest rollout with the canaries' rates
 * against the rest's ({@code GET}, {@code ?stale_after=2m}), starting one ({@code POST .../start}
 * with {@code bundle}, {@code canary} or {@code canaries}, optional {@code abort_on_error_rate},
 * {@code stale_after} and {@code by}), promoting ({@code POST .../promote}) and aborting it
 * ({@code POST .../abort}, optional {@code reason}), over the operator service's {@link
 * RolloutOperations}.
 */
final class RolloutsRoute implements AdminExchange.Route {
  private static final Logger log = LoggerFactory.getLogger(RolloutsRoute.class);
  private static final Set<String> STATUS_PARAMS = Set.of("stale_after");
  private static final Set<String> START_FIELDS =
      Set.of("bundle", "canary", "canaries", "abort_on_error_rate", "stale_after", "by");
  private static final Set<String> PROMOTE_FIELDS = Set.of("by");
  private static final Set<String> ABORT_FIELDS = Set.of("by", "reason");

  private final Operations operations;

  RolloutsRoute(Operations operations) {
    this.operations = operations;
  }

  @Override
  public Answer handle(AdminExchange x) {
    RolloutOperations rollouts = operations.rollouts();
    if (x.segments(2)) {
      x.allow("GET", "HEAD");
      String written = AdminExchange.param(x.params(STATUS_PARAMS), "stale_after");
      Duration staleAfter = written == null ? FleetOperations.DEFAULT_STALE_AFTER
          : Times.duration("stale_after", written);
      return Answer.ok(status(rollouts.status(x.parts()[1], staleAfter)));
    }
    if (!x.segments(3)) {
      throw AdminExchange.notFound();
    }
    String channel = x.parts()[1];
    switch (x.parts()[2]) {
      case "start": {
        x.allow("POST");
        ObjectNode body = x.body(START_FIELDS);
        String by = x.by(body, "operator");
        String stale = AdminExchange.text(body, "stale_after");
        RolloutOperations.Start start = new RolloutOperations.Start(channel,
            AdminExchange.requiredText(body, "bundle"), count(body), canaries(body),
            rate(body), stale == null ? FleetOperations.DEFAULT_STALE_AFTER
                : Times.duration("stale_after", stale));
        Rollout rollout = rollouts.start(start, by);
        log.info("operator {} started {}", by, rollout.describe());
        return Answer.ok(json(rollout));
      }
      case "promote": {
        x.allow("POST");
        String by = x.by(x.body(PROMOTE_FIELDS), "operator");
        Rollout rollout = rollouts.promote(channel, by);
        log.info("operator {} promoted {}", by, rollout.describe());
        return Answer.ok(json(rollout));
      }
      case "abort": {
        x.allow("POST");
        ObjectNode body = x.body(ABORT_FIELDS);
        String by = x.by(body, "operator");
        Rollout rollout = rollouts.abort(channel, by, AdminExchange.text(body, "reason"));
        log.info("operator {} aborted {}", by, rollout.describe());
        return Answer.ok(json(rollout));
      }
      default:
        throw AdminExchange.notFound();
    }
  }

  private static @Nullable String count(ObjectNode body) {
    JsonNode node = body.path("canary");
    if (node.isMissingNode() || node.isNull()) {
      return null;
    }
    if (node.isIntegralNumber()) {
      return node.asString();
    }
    if (node.isString()) {
      return node.stringValue();
    }
    throw new BadRequest(400, "'canary' must be a count such as 1 or a percentage such as \"25%\"");
  }

  private static List<String> canaries(ObjectNode body) {
    JsonNode node = body.path("canaries");
    if (node.isMissingNode() || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw new BadRequest(400, "'canaries' must be a list of instances");
    }
    List<String> instances = new ArrayList<>();
    for (JsonNode each : node) {
      if (!each.isString()) {
        throw new BadRequest(400, "'canaries' must be a list of instances");
      }
      instances.add(each.stringValue());
    }
    return instances;
  }

  private static @Nullable Double rate(ObjectNode body) {
    JsonNode node = body.path("abort_on_error_rate");
    if (node.isMissingNode() || node.isNull()) {
      return null;
    }
    if (!node.isNumber()) {
      throw new BadRequest(400, "'abort_on_error_rate' must be a number such as 0.05");
    }
    return node.doubleValue();
  }

  private static ObjectNode json(Rollout r) {
    ObjectNode node = AdminExchange.NODES.objectNode()
        .put("id", r.id())
        .put("channel", r.channel())
        .put("bundle", r.digest())
        .put("sequence", r.sequence())
        .put("state", r.state().name().toLowerCase(Locale.ROOT))
        .put("previous", r.previousDigest())
        .put("started", r.startedAt().toString())
        .put("started_by", r.startedBy())
        .put("ended", r.endedAt() == null ? null : r.endedAt().toString())
        .put("ended_by", r.endedBy())
        .put("reason", r.reason());
    if (r.abortOnErrorRate() == null) {
      node.putNull("abort_on_error_rate");
    } else {
      node.put("abort_on_error_rate", r.abortOnErrorRate());
    }
    ArrayNode canaries = node.putArray("canaries");
    r.canaries().forEach(canaries::add);
    return node;
  }

  private static ObjectNode status(RolloutOperations.Status status) {
    ObjectNode body = AdminExchange.NODES.objectNode();
    body.set("rollout", json(status.rollout()));
    body.set("canaries", rates(status.canaries()));
    body.set("rest", rates(status.rest()));
    ArrayNode gateways = body.putArray("gateways");
    for (RolloutOperations.Member member : status.members()) {
      Heartbeat beat = member.heartbeat();
      gateways.addObject()
          .put("instance", beat.instance())
          .put("canary", member.canary())
          .put("digest", beat.digest())
          .put("sequence", beat.sequence())
          .put("applied", member.applied())
          .put("stale", member.stale())
          .put("seen", beat.seenAt().toString());
    }
    return body;
  }

  private static ObjectNode rates(RolloutOperations.Rates rates) {
    return AdminExchange.NODES.objectNode()
        .put("gateways", rates.instances())
        .put("calls", rates.counters().calls())
        .put("denied", rates.counters().denied())
        .put("errors", rates.counters().errors())
        .put("error_rate", rates.errorRate())
        .put("denial_rate", rates.denialRate());
  }
}
