package dev.sentinel.benchmarks;

import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A minimal MCP server over stdio (newline-delimited JSON-RPC), written for the HTTP benchmark's
 * stdio phase: one tool, {@code echo}, answering its {@code text} argument; {@code initialize},
 * {@code tools/list} and {@code ping} are answered, other requests get {@code -32601},
 * notifications and responses are ignored. One thread reads and answers in order, so concurrent
 * requests multiplexed on one stdin (as {@code sentinel http} sends them) are all answered.
 *
 * <p>It exists because the MCP Java SDK's stdio server ({@link EchoMcpServer}, 2.1.0) drops
 * answers when requests overlap ({@code Sinks.EmissionException: ... signaled serially}), which
 * stalls any bridge that multiplexes sessions onto one server. It exits when stdin ends.
 */
public final class EchoStdioServer {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private EchoStdioServer() {}

  /** Serves MCP on stdin/stdout until stdin ends. */
  public static void main(String[] args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8),
        65536);
    OutputStream out = new BufferedOutputStream(System.out, 65536);
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      ObjectNode answer;
      try {
        answer = answer(JSON.readTree(line));
      } catch (RuntimeException e) {
        answer = error(NODES.nullNode(), -32700, "parse error");
      }
      if (answer != null) {
        out.write(JSON.writeValueAsBytes(answer));
        out.write('\n');
        if (!in.ready()) {
          out.flush();
        }
      }
    }
    out.flush();
  }

  /** The answer to one message, or null for a notification or a response. */
  static ObjectNode answer(JsonNode message) {
    String method = message.path("method").asString(null);
    JsonNode id = message.get("id");
    if (method == null || id == null) {
      return null;
    }
    ObjectNode result = NODES.objectNode();
    switch (method) {
      case "initialize":
        result.put("protocolVersion",
            message.path("params").path("protocolVersion").asString("2025-06-18"));
        result.putObject("capabilities").putObject("tools");
        result.putObject("serverInfo").put("name", "bench-echo-stdio").put("version", "1");
        break;
      case "tools/list": {
        ObjectNode tool = result.putArray("tools").addObject();
        tool.put("name", "echo").put("description", "Answers its text argument");
        ObjectNode schema = tool.putObject("inputSchema").put("type", "object");
        schema.putObject("properties").putObject("text").put("type", "string");
        schema.putArray("required").add("text");
        break;
      }
      case "tools/call": {
        JsonNode params = message.path("params");
        if (!"echo".equals(params.path("name").asString(""))) {
          return error(id, -32602, "unknown tool");
        }
        result.putArray("content").addObject().put("type", "text")
            .put("text", params.path("arguments").path("text").asString(""));
        result.put("isError", false);
        break;
      }
      case "ping":
        break;
      default:
        return error(id, -32601, "Method not found");
    }
    ObjectNode node = NODES.objectNode().put("jsonrpc", "2.0");
    node.set("id", id);
    node.set("result", result);
    return node;
  }

  private static ObjectNode error(JsonNode id, int code, String text) {
    ObjectNode node = NODES.objectNode().put("jsonrpc", "2.0");
    node.set("id", id);
    node.putObject("error").put("code", code).put("message", text);
    return node;
  }
}
