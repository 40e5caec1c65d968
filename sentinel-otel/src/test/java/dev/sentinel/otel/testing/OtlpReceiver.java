package dev.sentinel.otel.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * An OTLP/HTTP receiver for tests: a JDK HTTP server on 127.0.0.1 that takes {@code POST
 * /v1/traces} ({@code application/x-protobuf}), decodes each {@code ExportTraceServiceRequest}
 * with the protocol's own classes, and keeps the spans and the requests' headers. Close it.
 */
public final class OtlpReceiver implements AutoCloseable {
  private final HttpServer server;
  private final List<Received> spans = new CopyOnWriteArrayList<>();
  private final List<Map<String, String>> headers = new CopyOnWriteArrayList<>();

  /**
   * One span as received.
   *
   * @param traceId the trace id, hex
   * @param spanId the span id, hex
   * @param parentSpanId the parent span id, hex, or {@code ""} for a root
   * @param name the span's name
   * @param kind the span's kind ({@code SPAN_KIND_SERVER}, ...)
   * @param attributes the span's attributes, each value as text (arrays joined with commas)
   * @param error whether the span's status is ERROR
   * @param service the resource's {@code service.name}
   */
  public record Received(String traceId, String spanId, String parentSpanId, String name, String kind,
      Map<String, String> attributes, boolean error, String service) {}

  private OtlpReceiver(HttpServer server) {
    this.server = server;
  }

  /** Starts a receiver on a free loopback port. */
  public static OtlpReceiver start() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    OtlpReceiver receiver = new OtlpReceiver(server);
    server.createContext("/v1/traces", receiver::handle);
    server.start();
    return receiver;
  }

  /** The base URL to configure as {@code telemetry.otlp.endpoint}. */
  public String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The spans received so far. */
  public List<Received> spans() {
    return List.copyOf(spans);
  }

  /** The headers of each export request received so far, by lower-case name. */
  public List<Map<String, String>> headers() {
    return List.copyOf(headers);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange; InputStream body = exchange.getRequestBody()) {
      if (!"POST".equals(exchange.getRequestMethod())
          || !"application/x-protobuf".equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
        exchange.sendResponseHeaders(415, -1);
        return;
      }
      Map<String, String> seen = new LinkedHashMap<>();
      exchange.getRequestHeaders().forEach((name, values) ->
          seen.put(name.toLowerCase(java.util.Locale.ROOT), String.join(",", values)));
      ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body.readAllBytes());
      List<Received> decoded = new ArrayList<>();
      for (ResourceSpans resource : request.getResourceSpansList()) {
        String service = attributes(resource.getResource()).getOrDefault("service.name", "");
        for (ScopeSpans scope : resource.getScopeSpansList()) {
          for (io.opentelemetry.proto.trace.v1.Span span : scope.getSpansList()) {
            decoded.add(new Received(hex(span.getTraceId().toByteArray()),
                hex(span.getSpanId().toByteArray()), hex(span.getParentSpanId().toByteArray()),
                span.getName(), span.getKind().name(), attributes(span.getAttributesList()),
                span.getStatus().getCode()
                    == io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR,
                service));
          }
        }
      }
      headers.add(seen);
      spans.addAll(decoded);
      byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
      exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
      exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
      if (answer.length > 0) {
        exchange.getResponseBody().write(answer);
      }
    }
  }

  private static Map<String, String> attributes(Resource resource) {
    return attributes(resource.getAttributesList());
  }

  private static Map<String, String> attributes(List<KeyValue> values) {
    Map<String, String> out = new LinkedHashMap<>();
    for (KeyValue value : values) {
      out.put(value.getKey(), text(value.getValue()));
    }
    return out;
  }

  private static String text(AnyValue value) {
    switch (value.getValueCase()) {
      case STRING_VALUE:
        return value.getStringValue();
      case BOOL_VALUE:
        return Boolean.toString(value.getBoolValue());
      case INT_VALUE:
        return Long.toString(value.getIntValue());
      case DOUBLE_VALUE:
        return Double.toString(value.getDoubleValue());
      case ARRAY_VALUE:
        return value.getArrayValue().getValuesList().stream().map(OtlpReceiver::text)
            .collect(Collectors.joining(","));
      default:
        return value.toString();
    }
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
