package dev.sentinel.core.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A minimal MCP server over stdio, run as a child process of a gateway under test, that shows
 * what numbers look like on its side of the gateway, byte for byte. Its one tool, {@code
 * numbers}, answers with the exact line it received as its text content, and with {@link
 * #NUMBERS} (written by hand, never through a JSON library) as its structured content, under
 * {@code "back"}. Answers {@code initialize} and {@code ping} too; exits at the end of its input.
 */
public final class NumbersServer {
  /** Numbers a {@code double} would change, as a JSON array's members. */
  public static final String NUMBERS = "12345678901234567.89,0.1000000000000000000001,1e999999,-0.0,"
      + "1.10,123456789012345678901234567890,1.5e1,1E+2";

  // only to find the method and the id (an integer the gateway chose), never to write numbers
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private NumbersServer() {}

  /** Serves until stdin ends. */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode message = JSON.readTree(line);
      if (!message.has("id") || !message.has("method")) {
        continue;
      }
      String id = message.get("id").toString();
      String result;
      switch (message.get("method").asString()) {
        case "initialize":
          result = "{\"protocolVersion\":" + message.path("params").path("protocolVersion")
              + ",\"capabilities\":{\"tools\":{}},\"serverInfo\":{\"name\":\"numbers\",\"version\":\"1\"}}";
          break;
        case "tools/list":
          result = "{\"tools\":[{\"name\":\"numbers\",\"description\":\"Shows the numbers it got\","
              + "\"inputSchema\":{\"type\":\"object\"}}]}";
          break;
        case "tools/call":
          result = "{\"content\":[{\"type\":\"text\",\"text\":" + JSON.writeValueAsString(line)
              + "}],\"structuredContent\":{\"back\":[" + NUMBERS + "]},\"isError\":false}";
          break;
        default:
          result = "{}";
      }
      out.println("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" + result + "}");
    }
  }
}
