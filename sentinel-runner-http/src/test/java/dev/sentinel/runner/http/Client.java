package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A raw Streamable HTTP client for the tests, on the JDK HttpClient (and a socket for what it refuses to send). */
final class Client {
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final String BOTH = "application/json, text/event-stream";

  final HttpClient http;
  final URI endpoint;
  final String key;
  String session;

  Client(URI endpoint, String key) {
    this(endpoint, key, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build());
  }

  /** A client on an HTTP client of the test's own (one that trusts a test certificate, say). */
  Client(URI endpoint, String key, HttpClient http) {
    this.endpoint = endpoint;
    this.key = key;
    this.http = http;
  }

  /** A POST with the usual headers: JSON body, both types accepted, the key and the session. */
  /** Asserts that this client's session still answers a call: what every hostile case must leave. */
  void assertStillServed() {
    HttpResponse<String> echo = post(call(99, "fx__echo", "still here"));
    assertThat(echo.statusCode()).isEqualTo(200);
    assertThat(echo.body()).contains("still here");
  }

  HttpResponse<String> post(String body, String... extraHeaders) {
    HttpRequest.Builder request = base(extraHeaders)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (!has(extraHeaders, "Content-Type")) {
      request.header("Content-Type", "application/json");
    }
    if (!has(extraHeaders, "Accept")) {
      request.header("Accept", BOTH);
    }
    return send(request.build());
  }

  /** A POST whose body is read as it arrives (an SSE stream the test answers). */
  HttpResponse<InputStream> postStreaming(String body) {
    HttpRequest request = base().POST(HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json").header("Accept", BOTH).build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A GET of the session's stream, read as it arrives. */
  HttpResponse<InputStream> listen(String... extraHeaders) {
    HttpRequest request = withAccept(base(extraHeaders).GET(), extraHeaders).build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  HttpResponse<String> get(String... extraHeaders) {
    return send(withAccept(base(extraHeaders).GET(), extraHeaders).build());
  }

  HttpResponse<String> delete(String... extraHeaders) {
    return send(base(extraHeaders).DELETE().build());
  }

  /** GET of another path on the same server, without credentials. */
  HttpResponse<String> plain(String path) {
    return send(HttpRequest.newBuilder(endpoint.resolve(path)).GET().build());
  }

  /** Initializes a session and says initialized; answers the initialize result. */
  JsonNode initialize(String capabilities) {
    HttpResponse<String> response = post(initializeBody(capabilities));
    if (response.statusCode() != 200) {
      throw new AssertionError("initialize answered " + response.statusCode() + ": " + response.body());
    }
    session = response.headers().firstValue("Mcp-Session-Id").orElseThrow();
    JsonNode answer = JSON.readTree(response.body());
    HttpResponse<String> initialized = post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
    if (initialized.statusCode() != 202) {
      throw new AssertionError("initialized answered " + initialized.statusCode());
    }
    return answer.get("result");
  }

  JsonNode initialize() {
    return initialize("{}");
  }

  static String initializeBody(String capabilities) {
    return "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\","
        + "\"capabilities\":" + capabilities + ",\"clientInfo\":{\"name\":\"test\",\"version\":\"1\"}}}";
  }

  static String call(int id, String tool, String text) {
    return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":{\"name\":\"" + tool
        + "\",\"arguments\":{\"text\":\"" + text + "\"}}}";
  }

  /** The JSON messages (data lines) of a complete SSE body, skipping priming events. */
  static List<JsonNode> events(String body) {
    List<JsonNode> events = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      for (String line : block.split("\n")) {
        if (line.startsWith("data:") && !line.substring(5).isBlank()) {
          events.add(JSON.readTree(line.substring(5).trim()));
        }
      }
    }
    return events;
  }

  /** Reads one SSE event (id and data) with data from a stream; {@code null} at its end. */
  static String[] nextEvent(InputStream in) throws IOException {
    String id = null;
    StringBuilder data = new StringBuilder();
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c != '\n') {
        line.append((char) c);
        continue;
      }
      String text = line.toString();
      line.setLength(0);
      if (text.isEmpty()) {
        if (data.length() > 0 && !data.toString().isBlank()) {
          return new String[] {id, data.toString()};
        }
        data.setLength(0);
        continue;
      }
      if (text.startsWith("id:")) {
        id = text.substring(3).trim();
      } else if (text.startsWith("data:")) {
        data.append(text.substring(5).trim());
      }
    }
    return null;
  }

  /** Reads raw lines until one equals the given text; false at the end of the stream. */
  static boolean readUntilLine(InputStream in, String wanted) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        if (line.toString().equals(wanted)) {
          return true;
        }
        line.setLength(0);
      } else {
        line.append((char) c);
      }
    }
    return false;
  }

  /**
   * Sends raw bytes over a socket and answers what the server sent back (status line, headers
   * and body), reading until the server closes or {@code Content-Length} is satisfied.
   */
  static String raw(int port, String head, byte[] body, boolean stopAfterStatus) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      if (body != null) {
        out.write(body);
      }
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder answer = new StringBuilder();
      int c;
      int contentLength = -1;
      while ((c = in.read()) >= 0) {
        answer.append((char) c);
        int end = answer.indexOf("\r\n\r\n");
        if (end >= 0) {
          String headers = answer.substring(0, end).toLowerCase(java.util.Locale.ROOT);
          int at = headers.indexOf("content-length:");
          if (at >= 0) {
            contentLength = Integer.parseInt(headers.substring(at + 15, headers.indexOf("\r\n", at) < 0
                ? headers.length() : headers.indexOf("\r\n", at)).trim());
          }
          if (stopAfterStatus || contentLength == 0) {
            return answer.toString();
          }
          if (contentLength > 0 && answer.length() - end - 4 >= contentLength) {
            return answer.toString();
          }
        }
      }
      return answer.toString();
    }
  }

  private HttpRequest.Builder base(String... extraHeaders) {
    HttpRequest.Builder request = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(20));
    if (key != null && !has(extraHeaders, "X-API-Key") && !has(extraHeaders, "Authorization")) {
      request.header("X-API-Key", key);
    }
    if (session != null && !has(extraHeaders, "Mcp-Session-Id")) {
      request.header("Mcp-Session-Id", session);
    }
    for (int i = 0; i + 1 < extraHeaders.length; i += 2) {
      if (extraHeaders[i + 1] != null) {
        request.header(extraHeaders[i], extraHeaders[i + 1]);
      }
    }
    return request;
  }

  private static HttpRequest.Builder withAccept(HttpRequest.Builder request, String[] extraHeaders) {
    return has(extraHeaders, "Accept") ? request : request.header("Accept", "text/event-stream");
  }

  private static boolean has(String[] headers, String name) {
    for (int i = 0; i < headers.length; i += 2) {
      if (headers[i].equalsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  private HttpResponse<String> send(HttpRequest request) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
