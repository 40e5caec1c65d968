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
 * answers a fixed, non-streamed chat completion with {@code usage} at once, whatever the request
 * (it reads the body, so the cost of receiving it is counted). On 127.0.0.1.
 *
 * <p>{@code java -cp benchmarks.jar dev.sentinel.benchmarks.LlmEchoServer PORT}
 */
public final class LlmEchoServer {
  private static final byte[] ANSWER = ("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\","
      + "\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"message\":"
      + "{\"role\":\"assistant\",\"content\":\"Hello from the benchmark upstream\"},"
      + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":6,"
      + "\"total_tokens\":18}}").getBytes(StandardCharsets.UTF_8);

  private LlmEchoServer() {}

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
        Content.Source.consumeAll(request, Callback.from(() -> {
          response.setStatus(200);
          response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
          response.getHeaders().put(HttpHeader.CONTENT_LENGTH, ANSWER.length);
          response.write(true, ByteBuffer.wrap(ANSWER), callback);
        }, callback::failed));
        return true;
      }
    });
    server.start();
    server.join();
  }
}
