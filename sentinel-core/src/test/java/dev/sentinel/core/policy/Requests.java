package dev.sentinel.core.policy;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.RequestContext;
import java.time.Instant;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Builds request contexts for policy tests. */
final class Requests {
  /** Monday 6 January 2025, noon UTC. */
  static final Instant MONDAY_NOON = Instant.parse("2025-01-06T12:00:00Z");
  private static final JsonMapper JSON = new JsonMapper();
  /** Keeps every number exactly as written, as a gateway that forwards numbers unchanged does. */
  private static final JsonMapper EXACT = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
      .build();

  private Requests() {}

  static JsonNode json(String text) {
    return JSON.readTree(text);
  }

  /** Arguments with every number as a {@code BigDecimal} or {@code BigInteger} node. */
  static JsonNode exactJson(String text) {
    return EXACT.readTree(text);
  }

  static RequestContext tool(Principal principal, String tool) {
    return tool(principal, "b", tool, "{}");
  }

  static RequestContext tool(Principal principal, String tool, String arguments) {
    return tool(principal, "b", tool, arguments);
  }

  static RequestContext tool(Principal principal, String tool, JsonNode arguments) {
    return RequestContext.of(principal, Request.toolCall("b", tool, arguments), MONDAY_NOON);
  }

  static RequestContext tool(Principal principal, String backend, String tool, String arguments) {
    return RequestContext.of(principal, Request.toolCall(backend, tool, json(arguments)),
        MONDAY_NOON);
  }

  static RequestContext at(RequestContext context, Instant time) {
    return new RequestContext(context.principal(), context.request(), null, null, time);
  }

  static RequestContext request(Principal principal, String method, String backend, String name) {
    return RequestContext.of(principal, new Request(method, backend, name, null), MONDAY_NOON);
  }
}
