package dev.sentinel.runner.http.admin;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * One admin API request as a route sees it: its method, its path below the resource, its query
 * parameters and its JSON body, each read with the checks every route shares (a known method, a
 * JSON object of at most {@value #MAX_BODY_BYTES} bytes with known fields, known parameters given
 * once). Each check throws {@link BadRequest} with the status and message the client gets. Not
 * thread-safe: one per request.
 */
final class AdminExchange {
  private static final Logger log = LoggerFactory.getLogger(AdminExchange.class);
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** The largest admin request body accepted. */
  static final int MAX_BODY_BYTES = 64 * 1024;
  /** The most of a refused body that is read and dropped so that its 413 reaches the client. */
  private static final int DRAIN_BYTES = 4 * MAX_BODY_BYTES;
  static final JsonMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(16).maxDocumentLength(MAX_BODY_BYTES).build())
          .build())
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private final Request request;
  private final String[] parts;
  private final @Nullable String operator;

  AdminExchange(Request request, String[] parts) {
    this(request, parts, null);
  }

  /**
   * @param operator the operator the request's own credentials named, or {@code null} for the
   *     shared admin token (and for requests no operator makes)
   */
  AdminExchange(Request request, String[] parts, @Nullable String operator) {
    this.request = request;
    this.parts = parts;
    this.operator = operator;
  }

  /**
   * Who decides, for the record: a named operator is who their credentials say, and a {@code
   * "by"} naming anyone else is refused (403); with the shared token, the body's {@code "by"},
   * which is then required (or {@code fallback} when that is not {@code null} and none is given).
   */
  String by(ObjectNode body, @Nullable String fallback) {
    String given = text(body, "by");
    if (operator != null) {
      if (given != null && !given.strip().equals(operator)) {
        throw new BadRequest(403, "an operator decides as themselves: 'by' must be " + operator
            + " or left out");
      }
      return operator;
    }
    if (given == null || given.isBlank()) {
      if (fallback != null) {
        return fallback;
      }
      throw new BadRequest(400, "'by' is required");
    }
    return given;
  }

  /** The operator the request's credentials named, or {@code null} for the shared token. */
  @Nullable String operator() {
    return operator;
  }

  /** The request method. */
  String method() {
    return request.getMethod();
  }

  /** Whether the method is {@code method}. */
  boolean is(String method) {
    return method.equals(request.getMethod());
  }

  /** The path segments after {@code /admin/api/}: the resource first. */
  String[] parts() {
    return parts;
  }

  /** Whether the path has exactly {@code n} segments, none of them empty after the first. */
  boolean segments(int n) {
    if (parts.length != n) {
      return false;
    }
    for (int i = 1; i < n; i++) {
      if (parts[i].isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /** 404 unless the path has exactly {@code n} segments. */
  void exact(int n) {
    if (!segments(n)) {
      throw notFound();
    }
  }

  /** 405 with {@code Allow} unless the method is one of {@code allowed}. */
  void allow(String... allowed) {
    for (String method : allowed) {
      if (method.equals(request.getMethod())) {
        return;
      }
    }
    throw new BadRequest(405, "method " + request.getMethod() + " not allowed here; use "
        + String.join(" or ", allowed), String.join(", ", allowed));
  }

  static BadRequest notFound() {
    return new BadRequest(404, "not found");
  }

  /**
   * The query parameters, each known and given at most once.
   *
   * @throws BadRequest (400) naming an unknown or repeated parameter
   */
  Fields params(Set<String> known) {
    Fields params = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
    for (Fields.Field field : params) {
      if (!known.contains(field.getName())) {
        throw new BadRequest(400, "unknown parameter '" + field.getName() + "'; expected "
            + String.join(", ", new TreeSet<>(known)));
      }
      if (field.getValues().size() > 1) {
        throw new BadRequest(400, "parameter '" + field.getName() + "' is given more than once");
      }
    }
    return params;
  }

  /**
   * Reads a JSON object body of at most {@value #MAX_BODY_BYTES} bytes whose fields are all
   * known; an empty body reads as {@code {}}.
   */
  ObjectNode body(Set<String> fields) {
    long declared = request.getLength();
    if (declared > MAX_BODY_BYTES) {
      if (declared <= DRAIN_BYTES) {
        drain();
      }
      throw new BadRequest(413, "the body is larger than " + MAX_BODY_BYTES + " bytes");
    }
    byte[] bytes;
    try (InputStream in = Content.Source.asInputStream(request)) {
      bytes = in.readNBytes(MAX_BODY_BYTES + 1);
    } catch (IOException e) {
      // The I/O exception's text (Jetty's, a timeout's) is for the log, not the client.
      log.debug("reading an admin request body failed", e);
      throw new BadRequest(400, "cannot read the body: it stopped arriving or was malformed");
    }
    if (bytes.length > MAX_BODY_BYTES) {
      drain();
      throw new BadRequest(413, "the body is larger than " + MAX_BODY_BYTES + " bytes");
    }
    if (bytes.length == 0) {
      return NODES.objectNode();
    }
    String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    if (type == null || !type.toLowerCase(Locale.ROOT).strip().startsWith("application/json")) {
      throw new BadRequest(415, "the body must be JSON, sent as Content-Type: application/json");
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(bytes);
    } catch (JacksonException e) {
      String where = e.getLocation() == null || e.getLocation().getLineNr() < 1 ? ""
          : " (line " + e.getLocation().getLineNr() + ", column "
              + e.getLocation().getColumnNr() + ")";
      throw new BadRequest(400, "the body is not valid JSON" + where);
    }
    if (node == null || !node.isObject()) {
      throw new BadRequest(400, "the body must be a JSON object");
    }
    ObjectNode object = (ObjectNode) node;
    for (String name : object.propertyNames()) {
      if (!fields.contains(name)) {
        throw new BadRequest(400, "unknown field '" + name + "'"
            + (fields.isEmpty() ? "; this request takes no fields"
                : "; expected " + String.join(", ", new TreeSet<>(fields))));
      }
    }
    return object;
  }

  /**
   * Reads and drops what is left of a refused body, up to {@value #DRAIN_BYTES} bytes in all:
   * a client still sending a body a little over the limit then reads the 413, where closing at
   * once with its bytes unread resets the connection and loses the answer. A larger body is not
   * read; its connection is closed.
   */
  private void drain() {
    byte[] buffer = new byte[8192];
    long left = DRAIN_BYTES;
    try (InputStream in = Content.Source.asInputStream(request)) {
      int n;
      while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
        left -= n;
      }
    } catch (IOException e) {
      log.debug("draining a refused admin request body failed", e);
    }
  }

  /** A string field, or {@code null} when absent or null; 400 when it is not a string. */
  static @Nullable String text(ObjectNode body, String field) {
    JsonNode node = body.path(field);
    if (node.isMissingNode() || node.isNull()) {
      return null;
    }
    if (!node.isString()) {
      throw new BadRequest(400, "'" + field + "' must be a string");
    }
    return node.stringValue();
  }

  /** A string field that must be there; 400 when it is absent or not a string. */
  static String requiredText(ObjectNode body, String field) {
    String value = text(body, field);
    if (value == null) {
      throw new BadRequest(400, "'" + field + "' is required");
    }
    return value;
  }

  /** A parameter's value, or {@code null} when absent or blank. */
  static @Nullable String param(Fields params, String name) {
    String value = params.getValue(name);
    return value == null || value.isBlank() ? null : value;
  }

  /** A request refused with a status and a message for the operator. */
  static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final @Nullable String allow;

    BadRequest(int status, String message) {
      this(status, message, null);
    }

    BadRequest(int status, String message, @Nullable String allow) {
      super(message, null, false, false);
      this.status = status;
      this.allow = allow;
    }
  }

  /** What a route answers: a status and a JSON body. */
  record Answer(int status, JsonNode body) {
    static Answer ok(JsonNode body) {
      return new Answer(200, body);
    }
  }

  /** One resource of the admin API: {@code /admin/api/<resource>[/...]}. */
  @FunctionalInterface
  interface Route {
    /** Answers the exchange, or throws {@link BadRequest} or an operator exception. */
    Answer handle(AdminExchange exchange);
  }
}
