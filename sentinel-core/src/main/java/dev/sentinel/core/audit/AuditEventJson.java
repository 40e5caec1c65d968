package dev.sentinel.core.audit;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Effect;
import dev.sentinel.api.Outcome;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.JsonRecyclerPools;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The one JSON form of an {@link AuditEvent}, shared by every sink (JSON Lines, logs, databases)
 * and by the readers of the trail.
 *
 * <p>Members always appear, in this order, with {@code null} for absent values: {@code id},
 * {@code time} (ISO-8601 UTC, as {@link Instant#toString}), {@code instance}, {@code principal},
 * {@code roles}, {@code session}, {@code client}, {@code request_id}, {@code method}, {@code
 * backend}, {@code name}, {@code arguments}, {@code arguments_digest}, {@code effect}, {@code
 * rules}, {@code reason}, {@code rate_remaining}, {@code retry_after_ms}, {@code outcome}, {@code
 * error_class}, {@code error_message}, {@code latency_ms}, {@code response_size}, {@code
 * response_digest}, {@code revision}. Enums are written by name.
 *
 * <p>Durations are milliseconds as a decimal number with up to six fraction digits, so
 * nanoseconds survive ({@code 1.5} is 1.5 ms, {@code 0.000001} is 1 ns). A reader that parses
 * floating-point numbers as {@code double} still reads them exactly up to 15 significant digits
 * (any duration below about eleven days at nanosecond precision, or below 31 years at
 * millisecond precision); {@link #fromJson} accepts integers, doubles and decimals.
 *
 * <p>{@link #fromJson} ignores members it does not know, so that newer writers stay readable.
 *
 * <p>Thread-safe; holds no state.
 */
public final class AuditEventJson {
  /**
   * Jackson's defaults, with buffers kept per thread (the shared pool's concurrent deque showed in
   * the stdio gateway's profile, and sink writers are long-lived platform threads), and a closed
   * generator leaving the caller's writer open.
   */
  private static final JsonMapper MAPPER = JsonMapper.builder(
      JsonFactory.builder()
          .recyclerPool(JsonRecyclerPools.threadLocalPool())
          .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
          .build()).build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final BigDecimal NANOS_PER_MILLI = BigDecimal.valueOf(1_000_000);

  private AuditEventJson() {}

  /**
   * The event as a JSON object, members in the documented order. The arguments are a copy, so
   * changing the result never changes the event.
   */
  public static ObjectNode toJson(AuditEvent event) {
    return toJson(event, true);
  }

  /**
   * The event's canonical JSON, byte for byte {@code CanonicalJson.bytes(toJson(event))}, written
   * straight from the event (members in sorted order) without building the tree: the audit hash
   * chain computes it for every event.
   */
  public static byte[] canonicalBytes(AuditEvent event) {
    Objects.requireNonNull(event, "event");
    return new CanonicalJson.ObjectWriter()
        .value("arguments", event.arguments())
        .string("arguments_digest", event.argumentsDigest())
        .string("backend", event.backend())
        .string("client", event.client())
        .string("effect", event.effect() == null ? null : event.effect().name())
        .string("error_class", event.errorClass())
        .string("error_message", event.errorMessage())
        .string("id", event.id())
        .string("instance", event.instance())
        .decimal("latency_ms", millis(event.latency()))
        .string("method", event.method())
        .string("name", event.name())
        .string("outcome", event.outcome().name())
        .string("principal", event.principal())
        .number("rate_remaining", event.rateRemaining())
        .string("reason", event.reason())
        .string("request_id", event.requestId())
        .string("response_digest", event.responseDigest())
        .number("response_size", event.responseSize())
        .decimal("retry_after_ms", millis(event.retryAfter()))
        .string("revision", event.revision())
        .strings("roles", event.roles())
        .strings("rules", event.rules())
        .string("session", event.session())
        .string("time", event.time().toString())
        .finish();
  }

  /**
   * The event as one line of compact JSON, without a line terminator: {@link #toJson}'s members
   * in its order, as Jackson writes that tree.
   */
  public static String toLine(AuditEvent event) {
    StringWriter out = new StringWriter(512);
    writeLine(event, out);
    return out.toString();
  }

  /**
   * Writes {@link #toLine}'s text to {@code out}, streaming: no tree, no intermediate string. The
   * members are written with the same generator as {@link #toLine} always used, so the text is
   * the same character for character; only the arguments go through Jackson's tree serializer.
   * The writer is not closed.
   *
   * @throws tools.jackson.core.JacksonException when {@code out} fails
   */
  static void writeLine(AuditEvent event, Writer out) {
    Objects.requireNonNull(event, "event");
    try (JsonGenerator g = MAPPER.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringProperty("id", event.id());
      g.writeStringProperty("time", event.time().toString());
      g.writeStringProperty("instance", event.instance());
      g.writeStringProperty("principal", event.principal());
      strings(g, "roles", event.roles());
      g.writeStringProperty("session", event.session());
      g.writeStringProperty("client", event.client());
      g.writeStringProperty("request_id", event.requestId());
      g.writeStringProperty("method", event.method());
      g.writeStringProperty("backend", event.backend());
      g.writeStringProperty("name", event.name());
      g.writeName("arguments");
      g.writeTree(event.arguments());
      g.writeStringProperty("arguments_digest", event.argumentsDigest());
      g.writeStringProperty("effect", event.effect() == null ? null : event.effect().name());
      strings(g, "rules", event.rules());
      g.writeStringProperty("reason", event.reason());
      g.writeNumberProperty("rate_remaining", event.rateRemaining());
      g.writeNumberProperty("retry_after_ms", millis(event.retryAfter()));
      g.writeStringProperty("outcome", event.outcome().name());
      g.writeStringProperty("error_class", event.errorClass());
      g.writeStringProperty("error_message", event.errorMessage());
      g.writeNumberProperty("latency_ms", millis(event.latency()));
      g.writeNumberProperty("response_size", event.responseSize());
      g.writeStringProperty("response_digest", event.responseDigest());
      g.writeStringProperty("revision", event.revision());
      g.writeEndObject();
    }
  }

  private static void strings(JsonGenerator g, String name, List<String> values) {
    g.writeName(name);
    g.writeStartArray();
    for (String v : values) {
      g.writeString(v);
    }
    g.writeEndArray();
  }

  /**
   * Reads an event written by {@link #toJson} or {@link #toLine} (parsed). Exact: {@code
   * fromJson(toJson(e)).equals(e)}.
   *
   * @throws IllegalArgumentException when the value is not an object, a required member ({@code
   *     id}, {@code time}, {@code method}, {@code outcome}, {@code arguments}) is missing, or a
   *     member has the wrong type or an unknown enum name; the message names the member
   */
  public static AuditEvent fromJson(JsonNode json) {
    Objects.requireNonNull(json, "json");
    if (!json.isObject()) {
      throw new IllegalArgumentException(
          "an audit event must be a JSON object, got " + json.getNodeType());
    }
    JsonNode arguments = json.get("arguments");
    if (arguments == null || arguments.isMissingNode()) {
      throw new IllegalArgumentException("audit event member 'arguments' is required");
    }
    return event(json, arguments.deepCopy());
  }

  /**
   * The event of a checked object, each member as it was written: an event written without an
   * instance or revision is read back without them, {@code fromJson(toJson(e)).equals(e)}. A
   * missing reason is empty, as {@link AuditEvent}'s constructor makes it.
   */
  private static AuditEvent event(JsonNode json, JsonNode arguments) {
    return new AuditEvent(
        requiredText(json, "id"),
        instant(json, "time"),
        text(json, "instance"),
        text(json, "principal"),
        strings(json, "roles"),
        text(json, "session"),
        text(json, "client"),
        text(json, "request_id"),
        requiredText(json, "method"),
        text(json, "backend"),
        text(json, "name"),
        arguments,
        text(json, "arguments_digest"),
        enumValue(json, "effect", Effect.class),
        strings(json, "rules"),
        Objects.requireNonNullElse(text(json, "reason"), ""),
        longValue(json, "rate_remaining", -1),
        duration(json, "retry_after_ms"),
        requireNonNullMember(enumValue(json, "outcome", Outcome.class), "outcome"),
        text(json, "error_class"),
        text(json, "error_message"),
        duration(json, "latency_ms"),
        longValue(json, "response_size", -1),
        text(json, "response_digest"),
        text(json, "revision"));
  }

  static ObjectNode toJson(AuditEvent event, boolean copyArguments) {
    Objects.requireNonNull(event, "event");
    ObjectNode o = NODES.objectNode();
    o.put("id", event.id());
    o.put("time", event.time().toString());
    o.put("instance", event.instance());
    o.put("principal", event.principal());
    o.set("roles", array(event.roles()));
    o.put("session", event.session());
    o.put("client", event.client());
    o.put("request_id", event.requestId());
    o.put("method", event.method());
    o.put("backend", event.backend());
    o.put("name", event.name());
    o.set("arguments", copyArguments ? event.arguments().deepCopy() : event.arguments());
    o.put("arguments_digest", event.argumentsDigest());
    o.put("effect", event.effect() == null ? null : event.effect().name());
    o.set("rules", array(event.rules()));
    o.put("reason", event.reason());
    o.put("rate_remaining", event.rateRemaining());
    o.put("retry_after_ms", millis(event.retryAfter()));
    o.put("outcome", event.outcome().name());
    o.put("error_class", event.errorClass());
    o.put("error_message", event.errorMessage());
    o.put("latency_ms", millis(event.latency()));
    o.put("response_size", event.responseSize());
    o.put("response_digest", event.responseDigest());
    o.put("revision", event.revision());
    return o;
  }

  /** Exact milliseconds: seconds and nanos as a plain decimal with at most six fraction digits. */
  static BigDecimal millis(Duration d) {
    if (d.isZero()) {
      return BigDecimal.ZERO;
    }
    BigDecimal ms;
    try {
      // Nanoseconds with scale 6 are exact milliseconds; a long covers 292 years of them.
      ms = BigDecimal.valueOf(d.toNanos(), 6).stripTrailingZeros();
    } catch (ArithmeticException tooLong) {
      BigDecimal nanos =
          new BigDecimal(
              BigInteger.valueOf(d.getSeconds())
                  .multiply(BigInteger.valueOf(1_000_000_000L))
                  .add(BigInteger.valueOf(d.getNano())));
      ms = nanos.divide(NANOS_PER_MILLI).stripTrailingZeros();
    }
    return ms.scale() < 0 ? ms.setScale(0) : ms;
  }

  static Duration duration(BigDecimal millis) {
    BigInteger nanos = millis.multiply(NANOS_PER_MILLI).toBigIntegerExact();
    BigInteger[] secondsAndNanos = nanos.divideAndRemainder(BigInteger.valueOf(1_000_000_000L));
    return Duration.ofSeconds(secondsAndNanos[0].longValueExact(), secondsAndNanos[1].longValue());
  }

  private static ArrayNode array(List<String> values) {
    ArrayNode array = NODES.arrayNode(values.size());
    for (String v : values) {
      array.add(v);
    }
    return array;
  }

  private static @Nullable JsonNode member(JsonNode json, String name) {
    JsonNode value = json.get(name);
    return value == null || value.isNull() || value.isMissingNode() ? null : value;
  }

  private static @Nullable String text(JsonNode json, String name) {
    JsonNode value = member(json, name);
    if (value == null) {
      return null;
    }
    if (!value.isString()) {
      throw wrongType(name, "a string", value);
    }
    return value.stringValue();
  }

  private static String requiredText(JsonNode json, String name) {
    return requireNonNullMember(text(json, name), name);
  }

  private static <T> T requireNonNullMember(@Nullable T value, String name) {
    if (value == null) {
      throw new IllegalArgumentException("audit event member '" + name + "' is required");
    }
    return value;
  }

  private static Instant instant(JsonNode json, String name) {
    String text = requiredText(json, name);
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "audit event member '" + name + "' must be an ISO-8601 instant, got '" + text + "'", e);
    }
  }

  private static List<String> strings(JsonNode json, String name) {
    JsonNode value = member(json, name);
    if (value == null) {
      return List.of();
    }
    if (!value.isArray()) {
      throw wrongType(name, "an array of strings", value);
    }
    List<String> out = new ArrayList<>(value.size());
    for (JsonNode element : value) {
      if (!element.isString()) {
        throw wrongType(name, "an array of strings", value);
      }
      out.add(element.stringValue());
    }
    return out;
  }

  private static long longValue(JsonNode json, String name, long absent) {
    JsonNode value = member(json, name);
    if (value == null) {
      return absent;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw wrongType(name, "an integer", value);
    }
    return value.longValue();
  }

  private static Duration duration(JsonNode json, String name) {
    JsonNode value = member(json, name);
    if (value == null) {
      return Duration.ZERO;
    }
    if (!value.isNumber()) {
      throw wrongType(name, "a number of milliseconds", value);
    }
    // A double read from text is the nearest double to a number with at most six fraction
    // digits; rounding its exact value to six digits recovers that number.
    try {
      BigDecimal ms =
          value.isDouble() || value.isFloat()
              ? new BigDecimal(value.doubleValue()).setScale(6, RoundingMode.HALF_EVEN)
              : value.decimalValue();
      return duration(ms);
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException(
          "audit event member '"
              + name
              + "' must be milliseconds with at most six fraction digits, got "
              + value,
          e);
    }
  }

  private static <E extends Enum<E>> @Nullable E enumValue(JsonNode json, String name, Class<E> type) {
    String text = text(json, name);
    if (text == null) {
      return null;
    }
    try {
      return Enum.valueOf(type, text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "audit event member '" + name + "' has unknown value '" + text + "'", e);
    }
  }

  private static IllegalArgumentException wrongType(String name, String expected, JsonNode got) {
    return new IllegalArgumentException(
        "audit event member '" + name + "' must be " + expected + ", got " + got.getNodeType());
  }
}
