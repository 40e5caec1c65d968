package dev.sentinel.runner.http;

import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.metrics.GatewayMetrics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * {@code GET /metrics}: the Prometheus exposition, for the operators' token ({@code 401}
 * otherwise, {@code 404} when no admin token is configured), or for anyone when the config makes
 * the metrics public; public metrics are checked against the allowed Hosts like MCP requests, so
 * a rebound DNS name cannot read them from a browser. Thread-safe.
 */
final class MetricsRoute {
  private final GatewayMetrics metrics;
  private final OperatorAccess operators;
  private final boolean open;

  MetricsRoute(GatewayMetrics metrics, OperatorAccess operators, boolean open) {
    this.metrics = metrics;
    this.operators = operators;
    this.open = open;
  }

  void serve(Json json, Guard guard, Request request, Response response, Callback callback) {
    if (open) {
      String host = request.getHeaders().get(HttpHeader.HOST);
      if (!guard.hostAllowed(host == null ? request.getHttpURI().getAuthority() : host)) {
        Replies.error(json, response, callback, 403, ErrorCode.INVALID_REQUEST, "forbidden: Host not allowed");
        return;
      }
    } else if (!operators.configured()) {
      Replies.error(json, response, callback, 404, ErrorCode.INVALID_REQUEST, "not found");
      return;
    } else if (!operators.permits(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
      response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"sentinel-operators\"");
      Replies.error(json, response, callback, 401, ErrorCode.UNAUTHENTICATED, "the operators' token is required");
      return;
    }
    String method = request.getMethod();
    if (!"GET".equals(method) && !"HEAD".equals(method)) {
      response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
      Replies.error(json, response, callback, 405, ErrorCode.INVALID_REQUEST, "method not allowed");
      return;
    }
    GatewayMetrics.Scrape scrape = metrics.scrape(request.getHeaders().get(HttpHeader.ACCEPT));
    response.setStatus(200);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, scrape.contentType());
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    byte[] body = scrape.body().getBytes(StandardCharsets.UTF_8);
    response.write(true, "HEAD".equals(method) ? null : ByteBuffer.wrap(body), callback);
  }
}
