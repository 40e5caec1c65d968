package dev.sentinel.mcp.transport;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * {@link EchoMcpServer} that says so on stderr when its stdin ends ({@link #STDIN_CLOSED}) and
 * serves on until it is terminated, as many real servers do: tests use the line to know that
 * the gateway has begun to stop it and is waiting out its stop grace. With the argument
 * {@link #IGNORE_TERM} it ignores SIGTERM too, and only a kill ends it. Run as a child process.
 */
public final class StubbornMcpServer {
  /** The line written to stderr at end of input. */
  public static final String STDIN_CLOSED = "stubborn-server: stdin closed; serving on until killed";

  /** The argument that makes it ignore SIGTERM. */
  public static final String IGNORE_TERM = "--ignore-term";

  private StubbornMcpServer() {}

  /** Serves until killed, whatever happens to stdin (and, if asked, to SIGTERM). */
  public static void main(String[] args) throws InterruptedException {
    if (List.of(args).contains(IGNORE_TERM)) {
      Signal.handle(new Signal("TERM"), signal -> System.err.println("stubborn-server: ignored SIGTERM"));
    }
    McpJsonMapper mapper = EchoMcpServer.mapper();
    InputStream in = new FilterInputStream(System.in) {
      private boolean told;

      @Override
      public int read() throws IOException {
        return ended(super.read());
      }

      @Override
      public int read(byte[] buffer, int offset, int length) throws IOException {
        return ended(super.read(buffer, offset, length));
      }

      private int ended(int result) {
        if (result < 0 && !told) {
          told = true;
          System.err.println(STDIN_CLOSED);
          System.err.flush();
        }
        return result;
      }
    };
    McpSyncServer server =
        McpServer.sync(new StdioServerTransportProvider(mapper, in, System.out))
            .serverInfo("stubborn-server", "1.0.0")
            .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
            .toolCall(EchoMcpServer.echoTool(mapper), (exchange, request) -> EchoMcpServer.echo(request))
            .build();
    System.err.println("stubborn-server ready: " + server.getServerInfo().name());
    new CountDownLatch(1).await();
  }
}
