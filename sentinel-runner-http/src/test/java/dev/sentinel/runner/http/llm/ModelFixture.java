package dev.sentinel.runner.http.llm;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An upstream model API for tests: speaks OpenAI's chat completions (streaming and not, with
 * {@code usage} and {@code stream_options.include_usage}), embeddings and models, and
 * Anthropic's messages (streaming and not, with its SSE event types) and count_tokens, on
 * 127.0.0.1. What it does is chosen by the requested model:
 *
 * <ul>
 *   <li>any other name: a normal answer, "Hello from the fixture" in {@link #PIECES} chunks;
 *   <li>{@code error-429}, {@code error-500}: that status, with {@code Retry-After: 7} on the 429,
 *       and the API's error body;
 *   <li>{@code silent}: a stream that sends its first chunk, then nothing until {@link #resume()};
 *   <li>{@code drip}: a stream that sends a chunk every few milliseconds until a write fails,
 *       which it counts as a cancel ({@link #cancels()});
 *   <li>{@code hang}: never answers (until {@link #close()});
 *   <li>{@code linger}: a whole (non-streamed) answer that never comes: the fixture waits, watching
 *       its connection, and counts a cancel when the caller closes it ({@link #lingering()});
 *   <li>{@code invalid-sse}: a stream whose second event is not JSON and whose end is not SSE;
 *   <li>{@code echo}: a whole chat answer whose content is the first message's content;
 *   <li>{@code huge}: a whole answer that never ends, a mebibyte at a time until a write fails,
 *       which it counts as a cancel;
 *   <li>{@code error-big}: a 500 whose JSON error body is over a mebibyte;
 *   <li>{@code stall}: a whole answer that sends its status and a first piece of its body, then
 *       nothing: it waits like {@code linger}, counting a cancel when the caller closes.
 * </ul>
 *
 * <p>Every request is recorded ({@link #requests()}), headers and body. Thread-safe.
 */
public final class ModelFixture implements AutoCloseable {
  /** Input tokens every answer reports. */
  public static final int INPUT_TOKENS = 12;
  /** Output tokens every answer reports. */
  public static final int OUTPUT_TOKENS = 5;
  /** The chunks of every answer. */
  public static final List<String> PIECES = List.of("Hello", " from", " the", " fixture");
  /** The whole answer. */
  public static final String ANSWER = String.join("", PIECES);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /**
   * A request the fixture received.
   *
   * @param target the request target exactly as it arrived: raw path and query
   */
  public record Seen(String method, String path, Map<String, String> headers, String body,
      String target) {
    /** The header's value (names lowercase), or {@code null}. */
    public String header(String name) {
      return headers.get(name);
    }
  }

  private final Server server;
  private final ServerConnector connector;
  private final List<Seen> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger cancels = new AtomicInteger();
  private final AtomicInteger silentWaiting = new AtomicInteger();
  private final AtomicInteger lingering = new AtomicInteger();
  private volatile CountDownLatch resume = new CountDownLatch(1);
  private final CountDownLatch closing = new CountDownLatch(1);

  private ModelFixture() {
    QueuedThreadPool threads = new QueuedThreadPool();
    threads.setName("model-fixture");
    threads.setDaemon(true);
    server = new Server(threads);
    connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        serve(request, response, callback);
        return true;
      }
    });
  }

  /** Starts a fixture on a free loopback port. */
  public static ModelFixture start() {
    ModelFixture fixture = new ModelFixture();
    try {
      fixture.server.start();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the model fixture", e);
    }
    return fixture;
  }

  /** The base URL of its {@code /v1}, such as {@code http://127.0.0.1:4321/v1}. */
  public URI v1() {
    return URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/v1");
  }

  /** The origin, such as {@code http://127.0.0.1:4321} (Anthropic's SDKs add {@code /v1}). */
  public URI origin() {
    return URI.create("http://127.0.0.1:" + connector.getLocalPort());
  }

  /** Every request received, in order. */
  public List<Seen> requests() {
    return List.copyOf(requests);
  }

  /** How many streams ended because the client went away. */
  public int cancels() {
    return cancels.get();
  }

  /** How many {@code silent} streams are waiting for {@link #resume()}. */
  public int silentWaiting() {
    return silentWaiting.get();
  }

  /** How many {@code linger} requests are waiting for their caller to go away. */
  public int lingering() {
    return lingering.get();
  }

  /** Lets every waiting {@code silent} stream finish. */
  public void resume() {
    CountDownLatch current = resume;
    resume = new CountDownLatch(1);
    current.countDown();
  }

  @Override
  public void close() {
    closing.countDown();
    resume.countDown();
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop the model fixture", e);
    }
  }

  // ---- serving ---------------------------------------------------------------------------

  private void serve(Request request, Response response, Callback callback) throws Exception {
    String path = Request.getPathInContext(request);
    String body = Content.Source.asString(request, StandardCharsets.UTF_8);
    Map<String, String> headers = request.getHeaders().stream().collect(Collectors.toMap(
        f -> f.getLowerCaseName(), HttpField::getValue, (a, b) -> a + ", " + b));
    requests.add(new Seen(request.getMethod(), path, headers, body,
        request.getHttpURI().getPathQuery()));
    boolean anthropic = path.startsWith("/v1/messages");
    if (path.startsWith("/v1/responses") || path.startsWith("/v1/audio/")) {
      other(request, response, callback, path, body);
      return;
    }
    if (request.getMethod().equals("GET") && path.equals("/v1/models")) {
      json(response, callback, 200, models());
      return;
    }
    JsonNode in;
    try {
      in = JSON.readTree(body);
    } catch (RuntimeException e) {
      error(response, callback, anthropic, 400, "invalid_request_error", "the body is not JSON");
      return;
    }
    String model = in.path("model").asString("");
    boolean stream = in.path("stream").asBoolean(false);
    switch (model) {
      case "error-429":
        response.getHeaders().put(HttpHeader.RETRY_AFTER, "7");
        error(response, callback, anthropic, 429, "rate_limit_error", "slow down");
        return;
      case "error-500":
        error(response, callback, anthropic, 500, "api_error", "the fixture failed");
        return;
      case "hang":
        closing.await();
        callback.succeeded();
        return;
      case "linger":
        linger(request, response, callback);
        return;
      case "stall":
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        try {
          write(response, "{\"id\":\"chatcmpl-stall\",");
        } catch (IOException gone) {
          cancels.incrementAndGet();
          callback.failed(gone);
          return;
        }
        linger(request, response, callback);
        return;
      case "huge":
        huge(response, callback);
        return;
      case "error-big":
        ObjectNode big = JSON.createObjectNode();
        big.putObject("error").put("message", "x".repeat(2 << 20)).put("type", "api_error");
        json(response, callback, 500, big);
        return;
      case "echo":
        json(response, callback, 200, chatCompletion(model,
            in.path("messages").path(0).path("content").asString("")));
        return;
      default:
        break;
    }
    switch (path) {
      case "/v1/chat/completions":
        if (stream) {
          boolean usage = in.path("stream_options").path("include_usage").asBoolean(false);
          stream(response, callback, model, openAiChunks(model, usage));
        } else {
          json(response, callback, 200, chatCompletion(model));
        }
        return;
      case "/v1/embeddings":
        json(response, callback, 200, embeddings(model, in.path("input")));
        return;
      case "/v1/messages":
        if (stream) {
          stream(response, callback, model, anthropicEvents(model));
        } else {
          json(response, callback, 200, message(model));
        }
        return;
      case "/v1/messages/count_tokens":
        json(response, callback, 200, JSON.createObjectNode().put("input_tokens", INPUT_TOKENS));
        return;
      default:
        error(response, callback, anthropic, 404, "not_found_error", "no route " + path);
    }
  }

  private void stream(Response response, Callback callback, String model, List<String> events)
      throws Exception {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
    try {
      switch (model) {
        case "invalid-sse":
          write(response, events.get(0));
          write(response, "data: {not json at all\n\n");
          write(response, "this is not an event stream");
          break;
        case "drip":
          write(response, events.get(0));
          // Forever, until the client is gone: a failed write is the cancel.
          for (int i = 0; closing.getCount() > 0; i++) {
            write(response, events.get(1 + i % (events.size() - 2)));
            closing.await(20, TimeUnit.MILLISECONDS);
          }
          break;
        case "silent":
          CountDownLatch latch = resume;
          // Counted before the first event is written: a client that has it sees the wait.
          silentWaiting.incrementAndGet();
          try {
            write(response, events.get(0));
            latch.await();
          } finally {
            silentWaiting.decrementAndGet();
          }
          for (String event : events.subList(1, events.size())) {
            write(response, event);
          }
          break;
        default:
          for (String event : events) {
            write(response, event);
          }
      }
    } catch (IOException gone) {
      cancels.incrementAndGet();
      callback.failed(gone);
      return;
    }
    callback.succeeded();
  }

  /** Writes a JSON string a mebibyte at a time, until a write fails (or the fixture closes). */
  private void huge(Response response, Callback callback) {
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    byte[] piece = new byte[1 << 20];
    java.util.Arrays.fill(piece, (byte) 'a');
    try {
      write(response, "{\"pad\":\"");
      while (closing.getCount() > 0) {
        try (Blocker.Callback done = Blocker.callback()) {
          response.write(false, ByteBuffer.wrap(piece), done);
          done.block();
        }
      }
      write(response, "\"}");
    } catch (IOException gone) {
      cancels.incrementAndGet();
      callback.failed(gone);
      return;
    }
    callback.succeeded();
  }

  /**
   * Answers nothing until the caller closes the connection, which counts as a cancel. An HTTP/1.1
   * server reads nothing while it handles a request, so the fixture looks at the connection
   * itself: a read of -1 is the caller's close.
   */
  private void linger(Request request, Response response, Callback callback) throws Exception {
    org.eclipse.jetty.io.EndPoint endPoint =
        request.getConnectionMetaData().getConnection().getEndPoint();
    ByteBuffer probe = ByteBuffer.allocate(1);
    lingering.incrementAndGet();
    try {
      while (closing.getCount() > 0) {
        probe.clear().flip();
        int read;
        try {
          read = endPoint.fill(probe);
        } catch (IOException reset) {
          read = -1;
        }
        if (read < 0) {
          cancels.incrementAndGet();
          callback.failed(new IOException("the caller went away"));
          return;
        }
        closing.await(10, TimeUnit.MILLISECONDS);
      }
    } finally {
      lingering.decrementAndGet();
    }
    json(response, callback, 200, chatCompletion("linger"));
  }

  /**
   * The paths the tests pass through: {@code /v1/audio/slow} sends a first piece of audio, then
   * the rest after {@link #resume()}; {@code /v1/audio/fail} answers 500; others answer what they
 * received, with a cookie and a
   * request id (the gateway passes the id on, never the cookie).
   */
  private void other(Request request, Response response, Callback callback, String path,
      String body) throws Exception {
    response.getHeaders().put("x-request-id", "req_fixture");
    response.getHeaders().put(HttpHeader.SET_COOKIE, "session=fixture-secret");
    if (path.equals("/v1/audio/fail")) {
      error(response, callback, false, 500, "api_error", "the fixture failed");
      return;
    }
    if (path.equals("/v1/audio/slow")) {
      response.setStatus(200);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "audio/mpeg");
      CountDownLatch latch = resume;
      try {
        // Counted before the first piece is written, as for the silent stream.
        silentWaiting.incrementAndGet();
        try {
          write(response, "ID3-first-piece;");
          latch.await();
        } finally {
          silentWaiting.decrementAndGet();
        }
        write(response, "the-rest");
      } catch (IOException gone) {
        cancels.incrementAndGet();
        callback.failed(gone);
        return;
      }
      callback.succeeded();
      return;
    }
    json(response, callback, 200, JSON.createObjectNode().put("object", "passthrough")
        .put("method", request.getMethod()).put("target", request.getHttpURI().getPathQuery())
        .put("bytes", body.getBytes(StandardCharsets.UTF_8).length));
  }

  private static void write(Response response, String event) throws IOException {
    try (Blocker.Callback written = Blocker.callback()) {
      response.write(false, ByteBuffer.wrap(event.getBytes(StandardCharsets.UTF_8)), written);
      written.block();
    }
  }

  private static void json(Response response, Callback callback, int status, JsonNode body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, ByteBuffer.wrap(JSON.writeValueAsBytes(body)), callback);
  }

  private static void error(Response response, Callback callback, boolean anthropic, int status,
      String type, String message) {
    ObjectNode body = JSON.createObjectNode();
    if (anthropic) {
      body.put("type", "error");
      body.putObject("error").put("type", type).put("message", message);
    } else {
      body.putObject("error").put("message", message).put("type", type).putNull("param")
          .put("code", type);
    }
    json(response, callback, status, body);
  }

  // ---- the answers -------------------------------------------------------------------------

  private static ObjectNode models() {
    ObjectNode list = JSON.createObjectNode().put("object", "list");
    ArrayNode data = list.putArray("data");
    for (String id : List.of("gpt-4o", "gpt-4o-mini", "embed-small")) {
      data.addObject().put("id", id).put("object", "model").put("created", 1_700_000_000)
          .put("owned_by", "fixture");
    }
    return list;
  }

  private static ObjectNode openAiUsage() {
    return JSON.createObjectNode().put("prompt_tokens", INPUT_TOKENS)
        .put("completion_tokens", OUTPUT_TOKENS).put("total_tokens", INPUT_TOKENS + OUTPUT_TOKENS);
  }

  private static ObjectNode chatCompletion(String model) {
    return chatCompletion(model, ANSWER);
  }

  private static ObjectNode chatCompletion(String model, String content) {
    ObjectNode out = JSON.createObjectNode().put("id", "chatcmpl-fixture")
        .put("object", "chat.completion").put("created", 1_700_000_000).put("model", model);
    ObjectNode choice = out.putArray("choices").addObject().put("index", 0);
    choice.putObject("message").put("role", "assistant").put("content", content)
        .putNull("refusal");
    choice.putNull("logprobs");
    choice.put("finish_reason", "stop");
    out.set("usage", openAiUsage());
    return out;
  }

  private static List<String> openAiChunks(String model, boolean usage) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < PIECES.size(); i++) {
      ObjectNode chunk = chunk(model);
      ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
      ObjectNode delta = choice.putObject("delta").put("content", PIECES.get(i));
      if (i == 0) {
        delta.put("role", "assistant");
      }
      choice.putNull("finish_reason");
      out.add("data: " + chunk + "\n\n");
    }
    ObjectNode last = chunk(model);
    last.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop")
        .putObject("delta");
    out.add("data: " + last + "\n\n");
    if (usage) {
      ObjectNode counted = chunk(model);
      counted.putArray("choices");
      counted.set("usage", openAiUsage());
      out.add("data: " + counted + "\n\n");
    }
    out.add("data: [DONE]\n\n");
    return out;
  }

  private static ObjectNode chunk(String model) {
    return JSON.createObjectNode().put("id", "chatcmpl-fixture")
        .put("object", "chat.completion.chunk").put("created", 1_700_000_000).put("model", model);
  }

  private static ObjectNode embeddings(String model, JsonNode input) {
    ObjectNode out = JSON.createObjectNode().put("object", "list").put("model", model);
    ArrayNode data = out.putArray("data");
    int n = input.isArray() ? input.size() : 1;
    for (int i = 0; i < n; i++) {
      ObjectNode item = data.addObject().put("object", "embedding").put("index", i);
      item.putArray("embedding").add(0.25).add(-0.5).add(0.125);
    }
    out.putObject("usage").put("prompt_tokens", INPUT_TOKENS).put("total_tokens", INPUT_TOKENS);
    return out;
  }

  private static ObjectNode message(String model) {
    ObjectNode out = JSON.createObjectNode().put("id", "msg_fixture").put("type", "message")
        .put("role", "assistant").put("model", model);
    out.putArray("content").addObject().put("type", "text").put("text", ANSWER);
    out.put("stop_reason", "end_turn").putNull("stop_sequence");
    out.putObject("usage").put("input_tokens", INPUT_TOKENS).put("output_tokens", OUTPUT_TOKENS);
    return out;
  }

  private static List<String> anthropicEvents(String model) {
    List<String> out = new java.util.ArrayList<>();
    ObjectNode start = JSON.createObjectNode().put("type", "message_start");
    ObjectNode message = start.putObject("message").put("id", "msg_fixture").put("type", "message")
        .put("role", "assistant").put("model", model);
    message.putArray("content");
    message.putNull("stop_reason").putNull("stop_sequence");
    message.putObject("usage").put("input_tokens", INPUT_TOKENS).put("output_tokens", 1);
    out.add(event("message_start", start));
    ObjectNode blockStart = JSON.createObjectNode().put("type", "content_block_start").put("index", 0);
    blockStart.putObject("content_block").put("type", "text").put("text", "");
    out.add(event("content_block_start", blockStart));
    out.add(event("ping", JSON.createObjectNode().put("type", "ping")));
    for (String piece : PIECES) {
      ObjectNode delta = JSON.createObjectNode().put("type", "content_block_delta").put("index", 0);
      delta.putObject("delta").put("type", "text_delta").put("text", piece);
      out.add(event("content_block_delta", delta));
    }
    out.add(event("content_block_stop",
        JSON.createObjectNode().put("type", "content_block_stop").put("index", 0)));
    ObjectNode messageDelta = JSON.createObjectNode().put("type", "message_delta");
    messageDelta.putObject("delta").put("stop_reason", "end_turn").putNull("stop_sequence");
    messageDelta.putObject("usage").put("output_tokens", OUTPUT_TOKENS);
    out.add(event("message_delta", messageDelta));
    out.add(event("message_stop", JSON.createObjectNode().put("type", "message_stop")));
    return out;
  }

  private static String event(String type, JsonNode data) {
    return "event: " + type + "\ndata: " + data + "\n\n";
  }
}
