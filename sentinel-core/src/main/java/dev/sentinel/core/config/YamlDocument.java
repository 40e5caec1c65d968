package dev.sentinel.core.config;

import dev.sentinel.core.config.ConfigException.Problem;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonPointer;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLFactory;
import tools.jackson.dataformat.yaml.YAMLParser;

/**
 * A parsed YAML document that remembers where every node came from: a Jackson tree plus a map
 * from JSON Pointer to line and column, so that a checker can say {@code policy.yaml:12:5}.
 *
 * <p>Stricter than a plain YAML load: a mapping with the same key twice, an alias ({@code *x}),
 * or a second document in the stream is an error, and YAML syntax errors become a located
 * {@link ConfigException}. An empty document reads as an empty mapping.
 *
 * <p>A property's location is that of its key, an array element's that of its first token.
 * Immutable and thread-safe once parsed (do not change the tree returned by {@link #root()}).
 */
public final class YamlDocument {

  /** A 1-based line and column; {@link #UNKNOWN} when there is none. */
  public record Location(int line, int column) {
    /** No location. */
    public static final Location UNKNOWN = new Location(0, 0);

    /** Validates. */
    public Location {
      if (line < 0 || column < 0) {
        throw new IllegalArgumentException("line and column must not be negative");
      }
    }

    @Override
    public String toString() {
      return line + ":" + column;
    }
  }

  private static final int MAX_DEPTH = 200;
  // The streaming factory alone: the tree is built here, so no ObjectMapper (whose first
  // construction, with java.time and locale data, costs more than reading a config) is needed.
  private static final YAMLFactory YAML = YAMLFactory.builder().build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final String text;
  private final String source;
  private final JsonNode root;
  private final Map<String, Location> locations;
  private final Map<String, Location> valueLocations;

  private YamlDocument(String text, String source, JsonNode root, Map<String, Location> locations,
      Map<String, Location> valueLocations) {
    this.text = text;
    this.source = source;
    this.root = root;
    this.locations = Map.copyOf(locations);
    this.valueLocations = Map.copyOf(valueLocations);
  }

  /**
   * Parses one YAML document.
   *
   * @param text the YAML text
   * @param source the file name or a label, used in error messages
   * @throws ConfigException listing every syntax error, duplicate key and alias found
   */
  public static YamlDocument parse(String text, String source) {
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(source, "source");
    Reader reader = new Reader(source);
    JsonNode root;
    try (JsonParser parser = YAML.createParser(new PairKeepingReader(text))) {
      JsonToken token = parser.nextToken();
      if (token == null) {
        root = NODES.objectNode();
        reader.locations.put("", new Location(1, 1));
      } else {
        root = reader.read(parser, token, "", reader.locations, 0);
        if (parser.nextToken() != null) {
          reader.problem(
              parser.currentTokenLocation(),
              "",
              "a second YAML document starts here; put everything in one document (remove '---')");
        }
      }
    } catch (JacksonException e) {
      reader.problems.add(syntaxProblem(source, e));
      throw new ConfigException(reader.problems, e);
    }
    if (!reader.problems.isEmpty()) {
      throw new ConfigException(reader.problems);
    }
    return new YamlDocument(text, source, root, reader.locations, reader.valueLocations);
  }

  /** The text this document was parsed from. */
  public String text() {
    return text;
  }

  /** The file name or label given when parsing. */
  public String source() {
    return source;
  }

  /** The root node (an object, array or scalar); never {@code null}. */
  public JsonNode root() {
    return root;
  }

  /** The node at a JSON Pointer, or a missing node. */
  public JsonNode at(String pointer) {
    return root.at(pointer);
  }

  /**
   * Where the node at a pointer was written; for a pointer that names no node, where its nearest
   * existing ancestor was written, so that "missing key" errors point at the enclosing mapping.
   */
  public Location location(String pointer) {
    String p = pointer == null ? "" : pointer;
    while (true) {
      Location found = locations.get(p);
      if (found != null) {
        return found;
      }
      if (p.isEmpty()) {
        return Location.UNKNOWN;
      }
      p = p.substring(0, p.lastIndexOf('/'));
    }
  }

  /**
   * Where the value at a pointer starts: for a property, its value rather than its key (the
   * opening quote of a quoted scalar, the {@code |} or {@code >} of a block scalar); for an
   * array element, the same as {@link #location(String)}. {@link Location#UNKNOWN} for a pointer
   * that names no node.
   */
  public Location valueLocation(String pointer) {
    return valueLocations.getOrDefault(pointer == null ? "" : pointer, Location.UNKNOWN);
  }

  /** Like {@link #location(String)}, for a parsed pointer. */
  public Location location(JsonPointer pointer) {
    return location(pointer.toString());
  }

  /** A problem located at the node at {@code pointer}. */
  public Problem problem(String pointer, @Nullable String subject, String message) {
    Location at = location(pointer);
    return new Problem(source, at.line(), at.column(), pointer, subject, message);
  }

  /** An exception for one problem located at the node at {@code pointer}. */
  public ConfigException error(String pointer, @Nullable String subject, String message) {
    return new ConfigException(problem(pointer, subject, message));
  }

  /** The pointer to a property of the object at {@code pointer}, escaping {@code ~} and {@code /}. */
  public static String child(String pointer, String key) {
    return pointer + "/" + key.replace("~", "~0").replace("/", "~1");
  }

  /** The pointer to an element of the array at {@code pointer}. */
  public static String child(String pointer, int index) {
    return pointer + "/" + index;
  }

  @Override
  public String toString() {
    return "YamlDocument[" + source + "]";
  }

  private static Problem syntaxProblem(String source, JacksonException e) {
    TokenStreamLocation at = e.getLocation();
    int line = at == null || at.getLineNr() < 0 ? 0 : at.getLineNr();
    int column = at == null || at.getColumnNr() < 0 ? 0 : at.getColumnNr();
    String message = e.getOriginalMessage();
    if (e.getCause() instanceof MarkedYamlEngineException) {
      // snakeyaml knows where the problem is; Jackson's location is sometimes its context.
      MarkedYamlEngineException yaml = (MarkedYamlEngineException) e.getCause();
      Optional<Mark> problemMark = yaml.getProblemMark();
      if (problemMark.isPresent()) {
        line = problemMark.get().getLine() + 1;
        column = problemMark.get().getColumn() + 1;
      }
      String problem = yaml.getProblem() == null ? "" : yaml.getProblem().strip();
      String context = yaml.getContext() == null ? "" : yaml.getContext().strip();
      Optional<Mark> contextMark = yaml.getContextMark();
      if (!context.isEmpty() && contextMark.isPresent()
          && contextMark.get().getLine() + 1 != line) {
        context += " that started at line " + (contextMark.get().getLine() + 1);
      }
      message = problem.isEmpty() ? context
          : context.isEmpty() ? problem : problem + " (" + context + ")";
    }
    if (message == null || message.isBlank()) {
      message = e.getClass().getSimpleName();
    }
    message = message.strip().replace('\n', ' ');
    return new Problem(source, line, column, "", null, "invalid YAML: " + message);
  }

  /** The recursive tree builder; collects problems rather than stopping at the first. */
  private static final class Reader {
    final String source;
    final Map<String, Location> locations = new HashMap<>();
    final Map<String, Location> valueLocations = new HashMap<>();
    final List<Problem> problems = new ArrayList<>();

    Reader(String source) {
      this.source = source;
    }

    void problem(TokenStreamLocation at, String pointer, String message) {
      Location location = location(at);
      problems.add(new Problem(source, location.line(), location.column(), pointer, null, message));
    }

    JsonNode read(
        JsonParser parser, JsonToken token, String pointer, Map<String, Location> into, int depth) {
      Location at = location(parser.currentTokenLocation());
      into.putIfAbsent(pointer, at);
      if (into == locations) {
        valueLocations.put(pointer, at);
      }
      switch (token) {
        case START_OBJECT:
          return readObject(parser, pointer, into, depth);
        case START_ARRAY:
          return readArray(parser, pointer, into, depth);
        case VALUE_STRING:
          if (parser instanceof YAMLParser && ((YAMLParser) parser).isCurrentAlias()) {
            problem(
                parser.currentTokenLocation(),
                pointer,
                "YAML aliases (*" + parser.getString() + ") are not supported; repeat the value");
          }
          return NODES.stringNode(parser.getString());
        case VALUE_NUMBER_INT:
        case VALUE_NUMBER_FLOAT:
          return number(parser.getNumberValue());
        case VALUE_TRUE:
          return NODES.booleanNode(true);
        case VALUE_FALSE:
          return NODES.booleanNode(false);
        case VALUE_NULL:
          return NODES.nullNode();
        default:
          problem(parser.currentTokenLocation(), pointer, "unsupported YAML value (" + token + ")");
          return NODES.nullNode();
      }
    }

    private JsonNode readObject(
        JsonParser parser, String pointer, Map<String, Location> into, int depth) {
      checkDepth(parser, pointer, depth);
      ObjectNode object = NODES.objectNode();
      JsonToken token;
      while ((token = parser.nextToken()) != JsonToken.END_OBJECT) {
        String name = parser.currentName();
        Location keyAt = location(parser.currentTokenLocation());
        String childPointer = child(pointer, name);
        Map<String, Location> target = into;
        if (object.has(name)) {
          Location first = into.getOrDefault(childPointer, Location.UNKNOWN);
          problems.add(
              new Problem(
                  source,
                  keyAt.line(),
                  keyAt.column(),
                  childPointer,
                  null,
                  "duplicate key '" + name + "' (first at line " + first.line()
                      + "); remove one of them"));
          target = new HashMap<>();
        }
        target.put(childPointer, keyAt);
        JsonNode value = read(parser, parser.nextToken(), childPointer, target, depth + 1);
        if (target == into) {
          object.set(name, value);
        }
      }
      return object;
    }

    private JsonNode readArray(
        JsonParser parser, String pointer, Map<String, Location> into, int depth) {
      checkDepth(parser, pointer, depth);
      ArrayNode array = NODES.arrayNode();
      JsonToken token;
      int index = 0;
      while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
        array.add(read(parser, token, child(pointer, index++), into, depth + 1));
      }
      return array;
    }

    private void checkDepth(JsonParser parser, String pointer, int depth) {
      if (depth >= MAX_DEPTH) {
        Location at = location(parser.currentTokenLocation());
        problems.add(
            new Problem(source, at.line(), at.column(), pointer, null,
                "nesting deeper than " + MAX_DEPTH + " levels"));
        throw new ConfigException(problems);
      }
    }

    private static JsonNode number(Number n) {
      if (n instanceof Integer) {
        return NODES.numberNode(n.intValue());
      }
      if (n instanceof Long) {
        return NODES.numberNode(n.longValue());
      }
      if (n instanceof java.math.BigInteger) {
        return NODES.numberNode((java.math.BigInteger) n);
      }
      if (n instanceof java.math.BigDecimal) {
        return NODES.numberNode((java.math.BigDecimal) n);
      }
      return NODES.numberNode(n.doubleValue());
    }

    private static Location location(TokenStreamLocation at) {
      if (at == null || at.getLineNr() <= 0) {
        return Location.UNKNOWN;
      }
      return new Location(at.getLineNr(), Math.max(0, at.getColumnNr()));
    }
  }

  /**
   * Hands the text to the YAML scanner in chunks that never end on the first half of a surrogate
   * pair. snakeyaml-engine (3.0.1) reads one character past its buffer, and throws an
   * IndexOutOfBoundsException, when a chunk fills its 1024-character buffer and ends in a high
   * surrogate: an emoji as the 1025th character of a valid file was enough.
   */
  private static final class PairKeepingReader extends java.io.Reader {
    private final String text;
    private int next;

    PairKeepingReader(String text) {
      this.text = text;
    }

    @Override
    public int read(char[] buffer, int offset, int length) {
      if (length == 0) {
        return 0;
      }
      if (next >= text.length()) {
        return -1;
      }
      int end = Math.min(text.length(), next + length);
      if (end < text.length() && end - next > 1
          && Character.isHighSurrogate(text.charAt(end - 1))) {
        end--; // the pair goes whole into the next chunk
      }
      text.getChars(next, end, buffer, offset);
      int read = end - next;
      next = end;
      return read;
    }

    @Override
    public void close() {
      // nothing to release
    }
  }
}
