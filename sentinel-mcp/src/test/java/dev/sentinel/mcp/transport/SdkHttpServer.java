package dev.sentinel.mcp.transport;

import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.URI;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A real MCP server over Streamable HTTP: the official MCP Java SDK's servlet transport on an
 * embedded Jetty, bound to 127.0.0.1 on an ephemeral port, with the {@code echo} tool.
 */
final class SdkHttpServer {
  private final Server jetty;
  private final McpSyncServer mcp;
  private final URI url;

  SdkHttpServer() throws Exception {
    McpJsonMapper mapper = EchoMcpServer.mapper();
    HttpServletStreamableServerTransportProvider provider =
        HttpServletStreamableServerTransportProvider.builder()
            .jsonMapper(mapper)
            .mcpEndpoint("/mcp")
            // the SDK sends a GET stream's headers only with its first event: pings make one
            .keepAliveInterval(java.time.Duration.ofMillis(200))
            .build();
    mcp = McpServer.sync(provider)
        .serverInfo("echo-http", "1.0.0")
        .capabilities(McpSchema.ServerCapabilities.builder().tools(true).build())
        .toolCall(EchoMcpServer.echoTool(mapper), (exchange, request) -> EchoMcpServer.echo(request))
        .build();
    jetty = new Server();
    ServerConnector connector = new ServerConnector(jetty);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    ServletHolder holder = new ServletHolder(provider);
    holder.setAsyncSupported(true);
    context.addServlet(holder, "/mcp");
    jetty.setHandler(context);
    jetty.start();
    url = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/mcp");
  }

  URI url() {
    return url;
  }

  McpSyncServer mcp() {
    return mcp;
  }

  /** Stops the MCP server and Jetty. */
  void stop() throws Exception {
    try {
      mcp.closeGracefully();
    } finally {
      jetty.stop();
    }
  }
}
