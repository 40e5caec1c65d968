package dev.sentinel.benchmarks;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * An OpenAI-compatible upstream for the LLM benchmark: {@code POST /v1/chat/completions}
 * answers a fixed, non-streamed chat completion with {@code usage} at once, or, when the body
 * asks for a stream ({@code "stream":true}), a fixed event stream: the first chunk written and
 * flushed on its own, then the other chunks, the {@code usage} chunk and {@code [DONE]} (it reads
 * the body, so the cost of receiving it is counted). On 127.0.0.1.
 *
 * <p>{@code java -cp benchmarks.jar dev.sentinel.benchmarks.LlmEchoServer PORT}
 */
public final class LlmEchoServer {
  private static final byte[] ANSWER = ("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\","
      + "\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"message\":"
      + "{\"role\":\"assistant\",\"content\":\"Hello from the benchmark upstream\"},"
      + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":6,"
      + "\"total_tokens\":18}}").getBytes(StandardCharsets.UTF_8);

  private static final String CHUNK = "data: {\"id\":\"chatcmpl-bench\",\"object\":"
      + "\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\","
      + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"},\"finish_reason\":null}]}\n\n";
  private static final byte[] FIRST = String.format(CHUNK, "Hello")
      .getBytes(StandardCharsets.UTF_8);
  private static final byte[] REST = (String.format(CHUNK, " from") + String.format(CHUNK, " the")
      + String.format(CHUNK, " benchmark") + "data: {\"id\":\"chatcmpl-bench\",\"object\":"
      + "\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\","
      + "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":4,"
      + "\"total_tokens\":16}}\n\ndata: [DONE]\n\n").getBytes(StandardCharsets.UTF_8);
  private static final byte[] STREAM = "\"stream\":true".getBytes(StandardCharsets.UTF_8);

  private LlmEchoServer() {}

  private static boolean asksForAStream(byte[] body) {
    outer:
    for (int i = 0; i + STREAM.length <= body.length; i++) {
      for (int j = 0; j < STREAM.length; j++) {
        if (body[i + j] != STREAM[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  /** Serves on the port given as the only argument until killed. */
  public static void main(String[] args) throws Exception {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(Integer.parseInt(args[0]));
    server.addConnector(connector);
    server.setHandler(new Handler.Abstract.NonBlocking() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        Content.Source.asByteArrayAsync(request, (int) Math.max(request.getLength(), 1 << 20))
            .whenComplete((body, failure) -> {
              if (failure != null) {
                callback.failed(failure);
                return;
              }
              response.setStatus(200);
              if (!asksForAStream(body)) {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, ANSWER.length);
                response.write(true, ByteBuffer.wrap(ANSWER), callback);
                return;
              }
              response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream");
              response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
              // The first chunk on its own (written and flushed), as a model's first token.
              response.write(false, ByteBuffer.wrap(FIRST), Callback.from(
                  () -> response.write(true, ByteBuffer.wrap(REST), callback), callback::failed));
            });
        return true;
      }
    });
    server.start();
    server.join();
  }
}
