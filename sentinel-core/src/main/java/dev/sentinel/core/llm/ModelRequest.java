package dev.sentinel.core.llm;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A model request's body, as received and as it will be forwarded: the bytes, and the JSON the
 * policy decides on, read from exactly those bytes. The body is never re-serialised: a change the
 * gateway must make (the model an alias resolves to, {@code stream_options.include_usage} on a
 * stream) is spliced into the bytes in place and the result read again, so numbers, key order,
 * spacing and everything else reach the upstream as the client wrote them.
 *
 * <p>Strict: the body is one JSON object with no duplicate keys (a parser that keeps the first
 * and one that keeps the last would see two different requests), {@code model} a string,
 * {@code stream} absent or a boolean, {@code max_tokens} and {@code max_completion_tokens}
 * absent or positive whole numbers. Immutable and thread-safe.
 */
public final class ModelRequest {
  private static final int MAX_DEPTH = 64;
  private static final JsonMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
          .build())
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(JsonNodeFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
      .build();

  private final byte[] body;
  private final JsonNode json;
  private final String model;
  private final boolean stream;
  private final OptionalLong maxTokens;
  /**
   * Where the values the gateway may change are in {@link #body}, found when a first change
   * needs them (most requests are forwarded unchanged): a value of final fields, so that a
   * thread that reads it sees it whole.
   */
  private @Nullable Offsets offsets;

  /**
   * Byte offsets in a body: its opening brace; the model's string token, [start, end); {@code
   * stream_options}' opening brace (-1 when absent) and whether it is empty; the offset and
   * length of {@code stream_options.include_usage}'s value token (-1 when absent).
   */
  private record Offsets(int open, int modelStart, int modelEnd, int streamOptionsOpen,
      boolean streamOptionsEmpty, int includeUsageStart, int includeUsageLength) {}

  /** Why a body is refused: the message for the client, and the field at fault, if any. */
  public static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;
    private final @Nullable String param;

    Invalid(String message, @Nullable String param) {
      super(message, null, false, false);
      this.param = param;
    }

    /** The field at fault, such as {@code model}, or {@code null}. */
    public @Nullable String param() {
      return param;
    }
  }

  private ModelRequest(byte[] body, JsonNode json, String model, boolean stream,
      OptionalLong maxTokens) {
    this.body = body;
    this.json = json;
    this.model = model;
    this.stream = stream;
    this.maxTokens = maxTokens;
  }

  /**
   * Reads a body.
   *
   * @throws Invalid when it is not one JSON object, has duplicate keys, or a field of the wrong
   *     type; the message says which and is safe to show the client
   */
  public static ModelRequest parse(byte[] body) throws Invalid {
    Objects.requireNonNull(body, "body");
    JsonNode json;
    try {
      json = JSON.readTree(body);
    } catch (JacksonException e) {
      String text = e.getOriginalMessage();
      if (text != null && text.startsWith("Duplicate Object property")) {
        throw new Invalid("the body has a duplicate key; every key may appear once", null);
      }
      throw new Invalid("the body is not valid JSON", null);
    }
    if (json == null || !json.isObject()) {
      throw new Invalid("the body must be a JSON object", null);
    }
    JsonNode model = json.get("model");
    if (model == null || model.isNull()) {
      throw new Invalid("'model' is required", "model");
    }
    if (!model.isString() || model.stringValue().isEmpty()) {
      throw new Invalid("'model' must be a non-empty string", "model");
    }
    JsonNode stream = json.get("stream");
    if (stream != null && !stream.isBoolean() && !stream.isNull()) {
      throw new Invalid("'stream' must be true or false", "stream");
    }
    OptionalLong maxTokens = OptionalLong.empty();
    for (String field : new String[] {"max_tokens", "max_completion_tokens"}) {
      JsonNode value = json.get(field);
      if (value == null || value.isNull()) {
        continue;
      }
      if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() <= 0) {
        throw new Invalid("'" + field + "' must be a positive whole number", field);
      }
      if (maxTokens.isEmpty()) {
        maxTokens = OptionalLong.of(value.longValue());
      }
    }
    JsonNode options = json.get("stream_options");
    if (options != null && !options.isObject() && !options.isNull()) {
      throw new Invalid("'stream_options' must be an object", "stream_options");
    }
    JsonNode include = options == null ? null : options.get("include_usage");
    if (include != null && !include.isBoolean() && !include.isNull()) {
      throw new Invalid("'stream_options.include_usage' must be true or false",
          "stream_options.include_usage");
    }
    return new ModelRequest(body, json, model.stringValue(),
        stream != null && stream.booleanValue(), maxTokens);
  }

  /**
   * Where the values the gateway may change are: the opening brace, the model's string token,
   * {@code stream_options}' brace and whether it is empty, {@code include_usage}'s token. The
   * body is already known to be valid.
   */
  private Offsets offsets() {
    Offsets known = offsets;
    if (known == null) {
      known = offsets(body);
      offsets = known; // the same value whichever thread finds it first
    }
    return known;
  }

  private static Offsets offsets(byte[] body) {
    int[] out = {-1, -1, -1, -1, 0, -1, -1};
    try (JsonParser parser = JSON.createParser(body)) {
      JsonToken token = parser.nextToken();
      out[0] = (int) parser.currentTokenLocation().getByteOffset();
      while ((token = parser.nextToken()) == JsonToken.PROPERTY_NAME) {
        String name = parser.currentName();
        token = parser.nextToken();
        if (name.equals("model")) {
          out[1] = (int) parser.currentTokenLocation().getByteOffset();
          parser.getString(); // reads to the closing quote
          out[2] = (int) parser.currentLocation().getByteOffset();
        } else if (name.equals("stream_options") && token == JsonToken.START_OBJECT) {
          out[3] = (int) parser.currentTokenLocation().getByteOffset();
          out[4] = 1;
          while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
            out[4] = 0;
            String inner = parser.currentName();
            JsonToken value = parser.nextToken();
            if (inner.equals("include_usage")
                && (value == JsonToken.VALUE_TRUE || value == JsonToken.VALUE_FALSE)) {
              out[5] = (int) parser.currentTokenLocation().getByteOffset();
              out[6] = value == JsonToken.VALUE_TRUE ? 4 : 5;
            }
            parser.skipChildren();
          }
        } else {
          parser.skipChildren();
        }
      }
    }
    return new Offsets(out[0], out[1], out[2], out[3], out[4] == 1, out[5], out[6]);
  }

  /** The body to forward. A copy. */
  public byte[] body() {
    return body.clone();
  }

  /** The body's length in bytes. */
  public int size() {
    return body.length;
  }

  /** The JSON of the body: the arguments the policy decides on. Do not change it. */
  public JsonNode json() {
    return json;
  }

  /** The model asked for. */
  public String model() {
    return model;
  }

  /** Whether the client asks for a stream. */
  public boolean stream() {
    return stream;
  }

  /** {@code max_tokens}, else {@code max_completion_tokens}, when the body gives one. */
  public OptionalLong maxTokens() {
    return maxTokens;
  }

  /** Whether {@code stream_options.include_usage} is {@code true}. */
  public boolean includesUsage() {
    return json.path("stream_options").path("include_usage").asBoolean(false);
  }

  /**
   * The body with another model: the model's string token replaced, every other byte kept.
   */
  public ModelRequest withModel(String model) {
    Objects.requireNonNull(model, "model");
    if (model.equals(this.model)) {
      return this;
    }
    String token = JsonNodeFactory.instance.stringNode(model).toString();
    Offsets at = offsets();
    return splice(at.modelStart(), at.modelEnd(), token);
  }

  /**
   * The body asking for the final usage of a stream ({@code stream_options.include_usage:
   * true}, OpenAI's), inserted or switched on in place.
   */
  public ModelRequest withIncludeUsage() {
    if (includesUsage()) {
      return this;
    }
    Offsets offsets = offsets();
    if (offsets.includeUsageStart() >= 0) {
      return splice(offsets.includeUsageStart(),
          offsets.includeUsageStart() + offsets.includeUsageLength(), "true");
    }
    if (offsets.streamOptionsOpen() >= 0) {
      int at = offsets.streamOptionsOpen() + 1;
      return splice(at, at, offsets.streamOptionsEmpty() ? "\"include_usage\":true"
          : "\"include_usage\":true,");
    }
    boolean empty = json.isEmpty(); // cannot be: model is there; kept for clarity
    int at = offsets.open() + 1;
    return splice(at, at, empty ? "\"stream_options\":{\"include_usage\":true}"
        : "\"stream_options\":{\"include_usage\":true},");
  }

  private ModelRequest splice(int start, int end, String text) {
    byte[] insert = text.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[body.length - (end - start) + insert.length];
    System.arraycopy(body, 0, out, 0, start);
    System.arraycopy(insert, 0, out, start, insert.length);
    System.arraycopy(body, end, out, start + insert.length, body.length - end);
    try {
      return parse(out);
    } catch (Invalid e) {
      throw new IllegalStateException("a spliced valid body is invalid: " + e.getMessage(), e);
    }
  }

  /**
   * A summary of the body for the audit trail, with no prompt text: the model, whether it
   * streams, the sampling and length parameters, and how many messages, tools and inputs it
   * carries.
   */
  public ObjectNode summary() {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    for (String field : new String[] {"max_tokens", "max_completion_tokens", "temperature",
        "top_p", "stream"}) {
      JsonNode value = json.get(field);
      if (value != null && (value.isNumber() || value.isBoolean())) {
        out.set(field, value);
      }
    }
    for (String field : new String[] {"messages", "tools", "input"}) {
      JsonNode value = json.get(field);
      if (value != null) {
        out.put(field + "_count", value.isArray() ? value.size() : 1);
      }
    }
    if (json.has("system")) {
      out.put("system", true);
    }
    out.put("body_bytes", body.length);
    return out;
  }

  @Override
  public String toString() {
    return "ModelRequest[model=" + model + ", stream=" + stream + ", " + body.length + " bytes]";
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ModelRequest && Arrays.equals(body, ((ModelRequest) other).body);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(body);
  }
}
