package dev.sentinel.mcp.transport;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * The {@code Mcp-Param-{Name}} headers an MCP 2026-07-28 server over HTTP expects on a {@code
 * tools/call}: for each argument its tool's input schema marks with {@code x-mcp-header: Name},
 * the argument's value. The mirror learns the schemas from the {@code tools/list} results that
 * pass through the transport, and writes the headers for each call from its arguments.
 *
 * <p>Only annotations reachable from the schema's root through {@code properties} alone count,
 * as the specification says. A string value is sent as is when it is visible ASCII without
 * leading or trailing spaces, else in the {@code =?base64?...?=} form; numbers and booleans as
 * their JSON text; objects and arrays are not mirrored. Thread-safe.
 */
public final class ParamHeaderMirror {
  private static final int MAX_DEPTH = 32;
  /** What a header name may be made of (RFC 9110 token characters). */
  private static final java.util.regex.Pattern HEADER_NAME = java.util.regex.Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  /** The most tools remembered: far above any real server, a bound against a flood. */
  private static final int MAX_TOOLS = 10_000;

  /** Tool name to its annotations: header name (as the schema spells it) to property path. */
  private final Map<String, Map<String, List<String>>> tools = new ConcurrentHashMap<>();
  /** The ids of the {@code tools/list} requests in flight, by their text. */
  private final Map<String, Boolean> listings = new ConcurrentHashMap<>();

  /** The annotated properties of a tool's input schema: header name to property path, in order. */
  public static Map<String, List<String>> annotations(JsonNode inputSchema) {
    Map<String, List<String>> found = new LinkedHashMap<>();
    collect(inputSchema, new ArrayList<>(), found);
    return found;
  }

  private static void collect(JsonNode schema, List<String> path, Map<String, List<String>> found) {
    JsonNode properties = schema == null ? null : schema.get("properties");
    if (properties == null || !properties.isObject() || path.size() >= MAX_DEPTH) {
      return;
    }
    for (Map.Entry<String, JsonNode> property : properties.properties()) {
      List<String> at = new ArrayList<>(path);
      at.add(property.getKey());
      JsonNode header = property.getValue().get("x-mcp-header");
      if (header != null && header.isString() && !header.stringValue().isEmpty()) {
        boolean taken = found.keySet().stream().anyMatch(k -> k.equalsIgnoreCase(header.stringValue()));
        if (!taken) {
          found.put(header.stringValue(), List.copyOf(at));
        }
      }
      collect(property.getValue(), at, found);
    }
  }

  /** Notes a request going out: the answer to a {@code tools/list} is read for its schemas. */
  void sending(@Nullable JsonNode id, String method) {
    if (id != null && "tools/list".equals(method) && listings.size() < 1_000) {
      listings.put(id.toString(), Boolean.TRUE);
    }
  }

  /** Reads a message coming in: a {@code tools/list} result's schemas are learned. */
  void received(JsonNode message) {
    JsonNode id = message.get("id");
    if (id == null || listings.isEmpty() || listings.remove(id.toString()) == null) {
      return;
    }
    for (JsonNode tool : message.path("result").path("tools")) {
      String name = tool.path("name").asString("");
      if (name.isEmpty()) {
        continue;
      }
      Map<String, List<String>> found = annotations(tool.get("inputSchema"));
      if (found.isEmpty()) {
        tools.remove(name);
      } else if (tools.size() < MAX_TOOLS || tools.containsKey(name)) {
        tools.put(name, found);
      }
    }
  }

  /** The {@code Mcp-Param-*} headers of a {@code tools/call}'s params, by header name; empty when none. */
  Map<String, String> headers(JsonNode params) {
    Map<String, List<String>> annotated = tools.get(params.path("name").asString(""));
    if (annotated == null) {
      return Map.of();
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> annotation : annotated.entrySet()) {
      JsonNode value = params.path("arguments");
      for (String step : annotation.getValue()) {
        value = value == null || !value.isObject() ? null : value.get(step);
      }
      String text = value == null ? null : text(value);
      // A name that is not a header token (a backend's schema could say anything) is not sent.
      if (text != null && HEADER_NAME.matcher(annotation.getKey()).matches()) {
        headers.put("Mcp-Param-" + annotation.getKey(), text);
      }
    }
    return headers;
  }

  private static @Nullable String text(JsonNode value) {
    if (value.isBoolean() || value.isNumber()) {
      return value.toString();
    }
    if (!value.isString()) {
      return null;
    }
    String text = value.stringValue();
    boolean plain = !text.isEmpty() && text.equals(text.strip()) && !text.startsWith("=?")
        && text.chars().allMatch(c -> c >= 0x20 && c <= 0x7e);
    return plain ? text : base64Form(text);
  }

  /** A header value in the {@code =?base64?...?=} form: padded standard Base64 of its UTF-8. */
  static String base64Form(String text) {
    return "=?base64?" + Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8)) + "?=";
  }
}
