package dev.sentinel.benchmarks;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CountDownLatch;
import tools.jackson.databind.json.JsonMapper;

/**
 * A minimal MCP server over stdio on the official MCP Java SDK (2.1.0) with one tool, {@code echo},
 * which answers its {@code text} argument. It is the Java backend of {@link StdioGatewayBench},
 * run as a child process both directly and behind {@code sentinel stdio}.
 *
 * <p>{@code java -cp benchmarks/target/benchmarks.jar dev.sentinel.benchmarks.EchoMcpServer}
 * serves until its input ends (then it exits at once, as most MCP servers do) or it is killed.
 */
public final class EchoMcpServer {
  private EchoMcpServer() {}

  /** Serves MCP on stdin/stdout until killed. */
  public static void main(String[] args) throws InterruptedException {
    McpJsonMapper mapper = new JacksonMcpJsonMapper(JsonMapper.builder().build());
    McpSchema.Tool echo = McpSchema.Tool.builder("echo", mapper,
            "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},"
                + "\"required\":[\"text\"]}")
        .description("Answers its text argument")
        .build();
    McpSyncServer server =
        McpServer.sync(new StdioServerTransportProvider(mapper, new ExitAtEnd(System.in),
                System.out))
            .serverInfo("bench-echo", "1.0.0")
            .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
            .toolCall(echo, (exchange, request) -> McpSchema.CallToolResult.builder()
                .addTextContent(String.valueOf(request.arguments().get("text")))
                .isError(false)
                .build())
            .build();
    System.err.println("bench-echo ready: " + server.getServerInfo().name());
    new CountDownLatch(1).await();
  }

  /** Ends the process when its input ends: the SDK's transport alone would keep it alive. */
  private static final class ExitAtEnd extends FilterInputStream {
    ExitAtEnd(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      return atEnd(super.read());
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return atEnd(super.read(b, off, len));
    }

    private static int atEnd(int n) {
      if (n < 0) {
        System.out.flush();
        Runtime.getRuntime().halt(0);
      }
      return n;
    }
  }
}
