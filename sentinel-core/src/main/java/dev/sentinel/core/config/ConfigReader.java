package dev.sentinel.core.config;

import dev.sentinel.core.config.ConfigException.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
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
  public void error(String pointer, String subject, String message) {
    problems.add(document.problem(pointer, subject, message));
  }

  /**
   * Records a problem at a given place inside the node at {@code pointer}, such as the position
   * of an error within an expression written there.
   */
  public void error(String pointer, YamlDocument.Location at, String subject, String message) {
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
  public boolean checkKeys(String pointer, String subject, List<String> allowed) {
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
  public boolean present(String pointer, String subject, boolean required) {
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
  public String string(String pointer, String subject, String what) {
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
  public List<String> names(String pointer, String subject, String what) {
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
  public OptionalLong positiveLong(String pointer, String subject, String what) {
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

  /** Describes a node for messages: {@code a mapping}, {@code the text 'x'}, {@code 5}. */
  public static String describe(JsonNode node) {
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
