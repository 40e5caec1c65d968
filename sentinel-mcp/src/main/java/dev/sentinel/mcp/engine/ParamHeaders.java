package dev.sentinel.mcp.engine;

import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.transport.ParamHeaderMirror;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * The {@code Mcp-Param-{Name}} headers of an MCP 2026-07-28 {@code tools/call} over HTTP: a tool
 * whose input schema marks a property with {@code x-mcp-header: Name} has the value of that
 * argument mirrored in that header, and a server that reads the body must check that the two
 * agree ({@code -32020} when they do not).
 *
 * <p>Only annotations reachable from the schema's root through {@code properties} alone count
 * (the specification makes others invalid, and clients drop such tools). For each: an argument
 * present and not null needs exactly one header equal to it (after decoding the
 * {@code =?base64?...?=} form, which must be padded standard Base64 of UTF-8; integers compared as
 * numbers, booleans as {@code true}/{@code false}); a header without the argument is a mismatch
 * too. Headers no annotation names are ignored, as the specification says. Values are never
 * echoed in refusals.
 *
 * <p>Stateless, thread-safe.
 */
final class ParamHeaders {
  /** The header name prefix, lower case (header names are compared case-insensitively). */
  static final String PREFIX = "mcp-param-";
  private static final String BASE64_PREFIX = "=?base64?";
  private static final String BASE64_SUFFIX = "?=";

  private ParamHeaders() {}

  /** The annotated properties of a tool's input schema: header name (lower case) to property path. */
  static Map<String, List<String>> annotations(JsonNode inputSchema) {
    Map<String, List<String>> found = new LinkedHashMap<>();
    ParamHeaderMirror.annotations(inputSchema).forEach((header, path) -> found.put(header.toLowerCase(Locale.ROOT), path));
    return found;
  }

  /**
   * Checks the headers against the arguments: {@code null} when they agree.
   *
   * @param headers the request's {@code Mcp-Param-*} headers, by lower-case name, with every value
   */
  static StatelessMeta.@Nullable Problem check(JsonNode inputSchema, @Nullable JsonNode arguments,
      Map<String, List<String>> headers) {
    for (Map.Entry<String, List<String>> annotation : annotations(inputSchema).entrySet()) {
      String name = "Mcp-Param-" + annotation.getKey();
      @Nullable JsonNode value = arguments;
      for (String step : annotation.getValue()) {
        value = value == null || !value.isObject() ? null : value.get(step);
      }
      List<String> sent = headers.getOrDefault(PREFIX + annotation.getKey(), List.of());
      if (value == null || value.isNull()) {
        if (!sent.isEmpty()) {
          return mismatch(name + " header is sent but the argument it mirrors is not");
        }
        continue;
      }
      if (sent.isEmpty()) {
        return mismatch("missing " + name + " header (the tool's schema mirrors that argument in it)");
      }
      if (sent.size() > 1) {
        return mismatch("more than one " + name + " header");
      }
      String text = decoded(sent.get(0));
      if (text == null) {
        return mismatch(name + " header has characters a header may not carry, or is not valid =?base64?...?= UTF-8");
      }
      if (!matches(value, text)) {
        return mismatch(name + " header does not match the argument it mirrors");
      }
    }
    return null;
  }

  private static boolean matches(JsonNode value, String text) {
    if (value.isString()) {
      return value.stringValue().equals(text);
    }
    if (value.isBoolean()) {
      return Boolean.toString(value.booleanValue()).equals(text);
    }
    if (value.isNumber()) {
      try {
        return value.decimalValue().compareTo(new BigDecimal(text.trim())) == 0;
      } catch (NumberFormatException | ArithmeticException e) {
        return false;
      }
    }
    return false; // objects and arrays are not mirrored: an annotation on one is invalid
  }

  /** A header value, decoded from the Base64 form when it has it; {@code null} if invalid. */
  private static @Nullable String decoded(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 || c > 0x7e) && c != '\t') {
        return null;
      }
    }
    if (!value.startsWith(BASE64_PREFIX) || !value.endsWith(BASE64_SUFFIX)
        || value.length() < BASE64_PREFIX.length() + BASE64_SUFFIX.length()) {
      return value;
    }
    String encoded = value.substring(BASE64_PREFIX.length(), value.length() - BASE64_SUFFIX.length());
    if (encoded.length() % 4 != 0) {
      // The JDK decoder accepts missing padding; the specification's table refuses it.
      return null;
    }
    try {
      byte[] bytes = Base64.getDecoder().decode(encoded);
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
