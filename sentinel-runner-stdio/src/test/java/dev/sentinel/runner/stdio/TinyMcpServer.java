package dev.sentinel.runner.stdio;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A minimal MCP server over stdio, run as a child process of the gateway under test: answers
 * {@code initialize}, {@code ping}, {@code tools/list} (one tool, {@code echo}) and {@code
 * tools/call} (echoes {@code text}); ignores notifications; exits at the end of its input.
 *
 * <p>With {@code -Dtiny.gate=FILE} it answers {@code initialize} only once that file exists: a
 * backend that takes as long to start as its test wants. With {@code -Dtiny.fail=true} it exits
 * at once with status 3: a backend that never starts.
 */
public final class TinyMcpServer {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private TinyMcpServer() {}

  /** Serves until stdin ends. */
  public static void main(String[] args) throws Exception {
    if (Boolean.getBoolean("tiny.fail")) {
      System.err.println("tiny: refusing to start (tiny.fail)");
      System.exit(3);
    }
    String gate = System.getProperty("tiny.gate");
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode message = JSON.readTree(line);
      if (!message.has("id") || !message.has("method")) {
        continue;
      }
      ObjectNode reply = JSON.createObjectNode().put("jsonrpc", "2.0");
      reply.set("id", message.get("id"));
      JsonNode params = message.path("params");
      switch (message.get("method").asString()) {
        case "initialize": {
          while (gate != null && !java.nio.file.Files.exists(java.nio.file.Path.of(gate))) {
            Thread.sleep(10); // the test opens the gate when it wants this server up
          }
          ObjectNode result = reply.putObject("result");
          result.put("protocolVersion", params.path("protocolVersion").asString("2025-06-18"));
          result.putObject("capabilities").putObject("tools");
          result.putObject("serverInfo").put("name", "tiny").put("version", "1.0.0");
          break;
        }
        case "ping":
          reply.putObject("result");
          break;
        case "tools/list": {
          ObjectNode tool = reply.putObject("result").putArray("tools").addObject();
          tool.put("name", "echo").put("description", "Answers its text argument");
          tool.putObject("inputSchema").put("type", "object");
          break;
        }
        case "tools/call": {
          ObjectNode result = reply.putObject("result");
          result.putArray("content").addObject().put("type", "text")
              .put("text", params.path("arguments").path("text").asString(""));
          result.put("isError", false);
          break;
        }
        default:
          reply.putObject("error").put("code", -32601).put("message", "method not found");
      }
      out.println(JSON.writeValueAsString(reply));
    }
  }
}
