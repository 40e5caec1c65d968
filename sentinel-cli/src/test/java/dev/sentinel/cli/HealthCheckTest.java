package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import org.junit.jupiter.api.Test;

class HealthCheckTest {
  @Test
  void check_isZeroFor200_andOneForAnotherStatusOrNoServer() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/livez", exchange -> {
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    server.createContext("/readyz", exchange -> {
      exchange.sendResponseHeaders(503, -1);
      exchange.close();
    });
    server.start();
    int port = server.getAddress().getPort();
    try {
      assertThat(HealthCheck.check(URI.create("http://127.0.0.1:" + port + "/livez"))).isZero();
      assertThat(HealthCheck.check(URI.create("http://127.0.0.1:" + port + "/readyz"))).isOne();
    } finally {
      server.stop(0);
    }
    assertThat(HealthCheck.check(URI.create("http://127.0.0.1:" + port + "/livez"))).isOne();
  }
}
