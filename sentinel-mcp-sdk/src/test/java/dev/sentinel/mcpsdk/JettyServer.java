package dev.sentinel.mcpsdk;

import jakarta.servlet.http.HttpServlet;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/** An embedded Jetty serving one servlet (an SDK transport) at {@code /mcp} on 127.0.0.1. */
@SuppressWarnings("try") // close() throws what Jetty's stop does
final class JettyServer implements AutoCloseable {
  private final Server jetty = new Server();
  private final String url;

  JettyServer(HttpServlet servlet) throws Exception {
    ServerConnector connector = new ServerConnector(jetty);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    ServletHolder holder = new ServletHolder(servlet);
    holder.setAsyncSupported(true);
    context.addServlet(holder, "/mcp");
    jetty.setHandler(context);
    jetty.start();
    url = "http://127.0.0.1:" + connector.getLocalPort();
  }

  /** The base URL; the endpoint is {@code /mcp}. */
  String url() {
    return url;
  }

  @Override
  public void close() throws Exception {
    jetty.stop();
  }
}
