package dev.sentinel.core.config;

import dev.sentinel.core.config.ConfigException.Problem;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads values out of a {@link YamlDocument} while checking them, collecting every problem with
 * its location instead of stopping at the first; {@link #throwIfErrors()} then reports them all.
 *
 * <p>Every method takes the JSON Pointer of the node it reads (see {@link YamlDocument#child}) and
 * a subject for messages, such as {@code rule 'devs-write'} (or {@code null}). Readers return a
 * fallback ({@code null}, empty) after recording a problem, so a checker can carry on.
 *
 * <p>Not thread-safe: use one reader per load.
 */
public final class ConfigReader {
  private final YamlDocument document;
  private final List<Problem> problems = new ArrayList<>();

  /** A reader over a parsed document. */
  public ConfigReader(YamlDocument document) {
    this.document = Objects.requireNonNull(document, "document");
  }

  /** The document being read. */
  public YamlDocument document() {
    return document;
  }

  /** The node at a pointer, or a missing node. */
  public JsonNode node(String pointer) {
    return document.at(pointer);
  }

  /** Records a problem located at the node at {@code pointer}. */
  public void error(String pointer, @Nullable String subject, String message) {
    problems.add(document.problem(pointer, subject, message));
  }

  /**
   * Records a problem at a given place inside the node at {@code pointer}, such as the position
   * of an error within an expression written there.
   */
  public void error(
      String pointer, YamlDocument.Location at, @Nullable String subject, String message) {
    problems.add(new Problem(document.source(), at.line(), at.column(), pointer, subject, message));
  }

  /** The problems recorded so far, in the order found. */
  public List<Problem> problems() {
    return List.copyOf(problems);
  }

  /** Whether any problem was recorded. */
  public boolean hasErrors() {
    return !problems.isEmpty();
  }

  /**
   * Throws if any problem was recorded.
   *
   * @throws ConfigException listing every problem, sorted by line
   */
  public void throwIfErrors() {
    if (!problems.isEmpty()) {
      List<Problem> sorted = new ArrayList<>(problems);
      sorted.sort(
          (a, b) -> a.line() != b.line()
              ? Integer.compare(a.line(), b.line())
              : Integer.compare(a.column(), b.column()));
      throw new ConfigException(sorted);
    }
  }

  /**
   * Checks that the node at {@code pointer} is a mapping whose keys are all in {@code allowed}.
   * Records "expected a mapping" or one problem per unknown key, naming the allowed keys and the
   * nearest one when it is close.
   *
   * @return whether the node is a mapping (even if it had unknown keys)
   */
  public boolean checkKeys(String pointer, @Nullable String subject, List<String> allowed) {
    JsonNode node = node(pointer);
    if (!node.isObject()) {
      error(pointer, subject, "expected a mapping of " + String.join(", ", allowed)
          + ", got " + describe(node));
      return false;
    }
    for (Map.Entry<String, JsonNode> entry : node.properties()) {
      String key = entry.getKey();
      if (!allowed.contains(key)) {
        error(YamlDocument.child(pointer, key), subject, unknown("key", key, allowed));
      }
    }
    return true;
  }

  /**
   * The message for an unknown word: {@code unknown key 'alow' (expected one of allow, deny);
   * did you mean 'allow'?}.
   */
  public static String unknown(String what, String word, List<String> expected) {
    StringBuilder out = new StringBuilder("unknown ").append(what).append(" '").append(word)
        .append("' (expected ").append(expected.size() == 1 ? "" : "one of ")
        .append(String.join(", ", expected)).append(')');
    Suggestions.nearest(word, expected).ifPresentOrElse(
        s -> out.append("; did you mean '").append(s).append("'?"),
        () -> out.append("; remove it or fix its spelling"));
    return out.toString();
  }

  /**
   * Whether the node at {@code pointer} is present (not missing and not {@code null}); records
   * "missing required key" when it is absent and {@code required} is set.
   */
  public boolean present(String pointer, @Nullable String subject, boolean required) {
    JsonNode node = node(pointer);
    boolean present = !node.isMissingNode() && !node.isNull();
    if (!present && required) {
      String key = pointer.substring(pointer.lastIndexOf('/') + 1);
      error(pointer, subject, "missing required key '" + key + "'");
    }
    return present;
  }

  /**
   * The text of a scalar (string, number or boolean) at {@code pointer}, or {@code null} after
   * recording a problem if it is missing, {@code null}, a list or a mapping.
   *
   * @param what what the value is, for messages, such as {@code "a rule id"}
   */
  public @Nullable String string(String pointer, @Nullable String subject, String what) {
    JsonNode node = node(pointer);
    if (node.isString() || node.isNumber() || node.isBoolean()) {
      return node.asString();
    }
    error(pointer, subject, "expected " + what + ", got " + describe(node));
    return null;
  }

  /**
   * A list of names: a list of scalars, or a single scalar read as a list of one. Records a
   * problem (and returns what could be read) for a mapping, {@code null} or nested lists.
   */
  public List<String> names(String pointer, @Nullable String subject, String what) {
    JsonNode node = node(pointer);
    List<String> out = new ArrayList<>();
    if (node.isString() || node.isNumber() || node.isBoolean()) {
      out.add(node.asString());
      return out;
    }
    if (!node.isArray()) {
      error(pointer, subject, "expected a list of " + what + " (or a single one), got "
          + describe(node));
      return out;
    }
    for (int i = 0; i < node.size(); i++) {
      JsonNode item = node.get(i);
      if (item.isString() || item.isNumber() || item.isBoolean()) {
        out.add(item.asString());
      } else {
        error(YamlDocument.child(pointer, i), subject, "expected " + what + ", got "
            + describe(item));
      }
    }
    return out;
  }

  /**
   * A positive whole number at {@code pointer} (a number, or a string of digits), or empty after
   * recording a problem.
   */
  public OptionalLong positiveLong(String pointer, @Nullable String subject, String what) {
    JsonNode node = node(pointer);
    long value;
    if (node.isIntegralNumber() && node.canConvertToLong()) {
      value = node.longValue();
    } else if (node.isString() && node.stringValue().strip().matches("-?\\d{1,18}")) {
      value = Long.parseLong(node.stringValue().strip());
    } else {
      error(pointer, subject, "expected " + what + " (a positive whole number), got "
          + describe(node));
      return OptionalLong.empty();
    }
    if (value <= 0) {
      error(pointer, subject, what + " must be positive, got " + value);
      return OptionalLong.empty();
    }
    return OptionalLong.of(value);
  }

  // ---- values shared by the section readers (package-private) ----------------------------

  /**
   * Whether an optional section is present: absent or {@code null} is not; a mapping is, after
   * its keys are checked; anything else is recorded as a problem.
   */
  boolean section(String p, @Nullable String subject, List<String> keys) {
    JsonNode node = node(p);
    if (node.isMissingNode() || node.isNull()) {
      return false;
    }
    return checkKeys(p, subject, keys);
  }

  /**
   * A duration such as {@code 30s} at {@code p}, or {@code fallback} when absent or after
   * recording a problem (a bare number, zero, or not a duration).
   */
  Duration duration(String p, @Nullable String subject, Duration fallback) {
    Duration d = optionalDuration(p, subject);
    return d == null ? fallback : d;
  }

  /**
   * A duration such as {@code 30s} at {@code p}, or {@code null} when absent or after recording
   * a problem (a bare number, zero, or not a duration).
   */
  @Nullable Duration optionalDuration(String p, @Nullable String subject) {
    if (!present(p, subject, false)) {
      return null;
    }
    JsonNode node = node(p);
    String key = p.substring(p.lastIndexOf('/') + 1);
    if (node.isNumber()) {
      error(p, subject, key + ": a bare number is ambiguous; add a unit, such as "
          + node.asString() + "s or " + node.asString() + "ms");
      return null;
    }
    if (!node.isString()) {
      error(p, subject, key + ": expected a duration such as 500ms, 30s, 5m or 1h, got "
          + ConfigReader.describe(node));
      return null;
    }
    try {
      Duration d = Units.parseDuration(node.stringValue());
      if (d.isZero()) {
        error(p, subject, key + ": must be longer than zero");
        return null;
      }
      return d;
    } catch (IllegalArgumentException e) {
      error(p, subject, key + ": " + e.getMessage() + ", got "
          + ConfigReader.describe(node));
      return null;
    }
  }

  /**
   * A size such as {@code 4MiB} or a number of bytes at {@code p}, at most {@code max}, or
   * {@code fallback} when absent or after recording a problem.
   */
  long size(String p, @Nullable String subject, long fallback, long max) {
    if (!present(p, subject, false)) {
      return fallback;
    }
    JsonNode node = node(p);
    String key = p.substring(p.lastIndexOf('/') + 1);
    long bytes;
    if (node.isIntegralNumber() && node.canConvertToLong()) {
      bytes = node.longValue();
    } else if (node.isString()) {
      try {
        bytes = Units.parseSize(node.stringValue());
      } catch (IllegalArgumentException e) {
        error(p, subject, key + ": " + e.getMessage() + ", got "
            + ConfigReader.describe(node));
        return fallback;
      }
    } else {
      error(p, subject, key + ": expected a size such as 4MiB, 512KiB or a number of bytes, "
          + "got " + ConfigReader.describe(node));
      return fallback;
    }
    if (bytes <= 0 || bytes > max) {
      error(p, subject, key + ": must be between 1 byte and " + Units.formatSize(max)
          + ", got " + ConfigReader.describe(node));
      return fallback;
    }
    return bytes;
  }

  /** A positive whole number at most {@code max}, or {@code fallback} when absent or wrong. */
  int integer(String p, @Nullable String subject, String what, int fallback, int max) {
    if (!present(p, subject, false)) {
      return fallback;
    }
    OptionalLong value = positiveLong(p, subject, what);
    if (value.isEmpty()) {
      return fallback;
    }
    if (value.getAsLong() > max) {
      error(p, subject, what + " must be at most " + max + ", got " + value.getAsLong());
      return fallback;
    }
    return (int) value.getAsLong();
  }

  /** {@code true} or {@code false} at {@code p}, or {@code fallback} when absent or wrong. */
  boolean bool(String p, @Nullable String subject, boolean fallback) {
    if (!present(p, subject, false)) {
      return fallback;
    }
    JsonNode node = node(p);
    if (!node.isBoolean()) {
      error(p, subject, "expected true or false, got " + ConfigReader.describe(node));
      return fallback;
    }
    return node.booleanValue();
  }

  /** One of an enum's constants written in lower case, or {@code fallback} when absent or wrong. */
  <E extends Enum<E>> E choice(String p, Class<E> type, E fallback) {
    if (!present(p, null, false)) {
      return fallback;
    }
    List<String> names = new ArrayList<>();
    for (E constant : type.getEnumConstants()) {
      names.add(constant.name().toLowerCase(Locale.ROOT));
    }
    JsonNode node = node(p);
    if (node.isString()) {
      int index = names.indexOf(node.stringValue());
      if (index >= 0) {
        return type.getEnumConstants()[index];
      }
      error(p, null, ConfigReader.unknown("value", node.stringValue(), names));
      return fallback;
    }
    error(p, null, "expected one of " + String.join(", ", names) + ", got "
        + ConfigReader.describe(node));
    return fallback;
  }

  /**
   * The text of a value that may hold a secret; the problem for a wrong type does not quote the
   * value.
   */
  @Nullable String secretText(String p, @Nullable String subject, String what) {
    JsonNode node = node(p);
    if (node.isString() || node.isNumber() || node.isBoolean()) {
      return node.asString();
    }
    error(p, subject, "expected " + what + ", got "
        + (node.isObject() ? "a mapping" : node.isArray() ? "a list" : "nothing (null)"));
    return null;
  }

  /** A mapping of names to text, as written (not expanded). */
  Map<String, String> rawMap(String p, @Nullable String subject, String what) {
    Map<String, String> out = new LinkedHashMap<>();
    if (!present(p, subject, false)) {
      return out;
    }
    JsonNode node = node(p);
    if (!node.isObject()) {
      error(p, subject, "expected a mapping of " + what + ", such as { NAME: value }, got "
          + ConfigReader.describe(node));
      return out;
    }
    for (String key : node.propertyNames()) {
      String text = secretText(YamlDocument.child(p, key), subject, "a text value");
      if (text != null) {
        out.put(key, text);
      }
    }
    return out;
  }

  /**
   * An absolute http or https URL with a host, or {@code null} after recording a problem that
   * quotes the value as written ({@code raw}), never as expanded.
   */
  @Nullable URI httpUrl(String text, String raw, String p, @Nullable String subject) {
    String problem = null;
    URI uri = null;
    try {
      uri = new URI(text.strip());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))) {
        problem = "is not an http or https URL";
      } else if (uri.getHost() == null) {
        problem = "has no host";
      }
    } catch (URISyntaxException e) {
      problem = "is not a valid URL";
    }
    if (problem != null) {
      error(p, subject, "the url '" + raw + "' " + problem
          + " (expected such as https://mcp.example.com/mcp)");
      return null;
    }
    return uri;
  }

  /** How a possibly secret value is named in messages: its reference, or nothing. */
  static String describeSecret(String raw) {
    return raw.contains("${") ? "'" + raw + "'" : "(as written in the file)";
  }

  /** Describes a node for messages: {@code a mapping}, {@code the text 'x'}, {@code 5}. */
  public static String describe(@Nullable JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "nothing";
    }
    if (node.isNull()) {
      return "null (an empty value)";
    }
    if (node.isObject()) {
      return "a mapping";
    }
    if (node.isArray()) {
      return "a list";
    }
    if (node.isString()) {
      return "the text '" + node.stringValue() + "'";
    }
    return node.asString();
  }
}
