package dev.sentinel.runner.http;

import dev.sentinel.mcp.engine.StatelessMeta;
import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.List;
import org.eclipse.jetty.http.HttpFields;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * The request headers MCP 2026-07-28 mirrors from the body ({@code MCP-Protocol-Version},
 * {@code Mcp-Method}, and {@code Mcp-Name} for {@code tools/call}, {@code resources/read},
 * {@code prompts/get} and the Tasks extension's {@code tasks/get}, {@code tasks/update} and
 * {@code tasks/cancel}), checked against the body: each must be there once and say what the body
 * says, after decoding the {@code =?base64?...?=} form. A refusal is {@code -32020} (HTTP 400).
 *
 * <p>The headers are only ever compared, never used: routing and the policy read the body, so
 * a client whose headers say one tool and whose body names another reaches neither. Refusals
 * name the header, never its value (which the client sent, and which the audit trail keeps).
 */
final class StatelessHeaders {
  /** The header that mirrors the method. */
  static final String METHOD = "Mcp-Method";
  /** The header that mirrors the tool or prompt name, or the resource URI. */
  static final String NAME = "Mcp-Name";
  private static final String BASE64_PREFIX = "=?base64?";
  private static final String BASE64_SUFFIX = "?=";

  private StatelessHeaders() {}

  /**
   * Whether an {@code MCP-Protocol-Version} header disagrees with the version the body's
   * {@code _meta} names: checked before the version itself, so that a request whose header and
   * body disagree is a header mismatch ({@code -32020}) whatever either says. {@code null} when
   * the body names no version (a {@code -32602} then), the header is absent (refused by
   * {@link #check} once {@code _meta} is known good), or the two agree.
   */
  static StatelessMeta.@Nullable Problem versionDisagrees(HttpFields headers, JsonRpcMessage request) {
    JsonNode version = request.params().path("_meta").path(StatelessMeta.PROTOCOL_VERSION);
    List<String> values = headers.getValuesList(HttpHeaders.PROTOCOL_VERSION);
    if (!version.isString() || version.stringValue().isEmpty() || values.isEmpty()) {
      return null;
    }
    if (values.size() > 1) {
      return mismatch("more than one " + HttpHeaders.PROTOCOL_VERSION + " header");
    }
    return version.stringValue().equals(values.get(0)) ? null
        : mismatch(HttpHeaders.PROTOCOL_VERSION + " header does not match params._meta." + StatelessMeta.PROTOCOL_VERSION);
  }

  /** Why the headers do not match the body, or {@code null} when they do. */
  static StatelessMeta.@Nullable Problem check(HttpFields headers, JsonRpcMessage request) {
    String version = request.params().path("_meta").path(StatelessMeta.PROTOCOL_VERSION).asString("");
    StatelessMeta.Problem problem = same(headers, HttpHeaders.PROTOCOL_VERSION, version,
        "params._meta." + StatelessMeta.PROTOCOL_VERSION, false);
    if (problem == null) {
      problem = same(headers, METHOD, request.method(), "method", false);
    }
    if (problem == null) {
      String method = request.method(); // a request has one; compared above
      String field = method == null ? null : nameField(method);
      if (field != null) {
        JsonNode value = request.params().path(field);
        problem = same(headers, NAME, value.isString() ? value.stringValue() : null, "params." + field, true);
      }
    }
    return problem;
  }

  /** The body field {@code Mcp-Name} mirrors for a method, or {@code null} when it has none. */
  static @Nullable String nameField(String method) {
    switch (method) {
      case "tools/call":
      case "prompts/get":
        return "name";
      case "resources/read":
        return "uri";
      case "tasks/get":
      case "tasks/update":
      case "tasks/cancel":
        // The Tasks extension's Streamable HTTP binding: Mcp-Name mirrors params.taskId.
        return "taskId";
      default:
        return null;
    }
  }

  private static StatelessMeta.@Nullable Problem same(HttpFields headers, String header,
      @Nullable String body, String field,
      boolean encoded) {
    List<String> values = headers.getValuesList(header);
    if (values.isEmpty()) {
      return mismatch("missing " + header + " header (required with MCP 2026-07-28)");
    }
    if (values.size() > 1) {
      return mismatch("more than one " + header + " header");
    }
    String value = values.get(0);
    if (encoded && value.startsWith(BASE64_PREFIX) && value.endsWith(BASE64_SUFFIX)
        && value.length() >= BASE64_PREFIX.length() + BASE64_SUFFIX.length()) {
      value = decode(value.substring(BASE64_PREFIX.length(), value.length() - BASE64_SUFFIX.length()));
      if (value == null) {
        return mismatch(header + " header is not valid =?base64?...?= UTF-8");
      }
    }
    if (body == null || !body.equals(value)) {
      return mismatch(header + " header does not match " + field);
    }
    return null;
  }

  /** Decodes padded standard Base64 of UTF-8; {@code null} when it is not that. */
  private static @Nullable String decode(String base64) {
    if (base64.length() % 4 != 0) {
      // The JDK decoder accepts missing padding; the specification's table refuses it.
      return null;
    }
    try {
      byte[] bytes = Base64.getDecoder().decode(base64);
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (IllegalArgumentException | CharacterCodingException e) {
      return null;
    }
  }

  private static StatelessMeta.Problem mismatch(String message) {
    return new StatelessMeta.Problem(ErrorCode.HEADER_MISMATCH, "Header mismatch: " + message, null);
  }
}
