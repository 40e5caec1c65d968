package dev.sentinel.mcp.engine;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.PathType;
import com.networknt.schema.regex.RegularExpression;
import com.networknt.schema.regex.RegularExpressionFactory;
import com.networknt.schema.regex.RegularExpressions;
import dev.sentinel.core.internal.BoundedText;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JsonPointer;
import tools.jackson.databind.JsonNode;

/**
 * A tool's {@code inputSchema}, compiled once to validate its calls' arguments. Immutable and
 * thread-safe; {@link #compile} never throws: a schema that cannot be used carries its
 * {@link #problem()}, and every validation against it fails closed.
 *
 * <p>Dialects: the schema's {@code $schema} decides (draft 2020-12, 2019-09, draft-07, -06 and
 * -04 are known); without one, draft 2020-12, which MCP specifies. The validator is the networknt
 * json-schema-validator.
 *
 * <p>What a backend's schema cannot make the gateway do:
 * <ul>
 *   <li>fetch anything: every {@code $ref} outside the schema document (a URL, a file, the
 *       classpath) makes the schema unusable, it is never loaded;
 *   <li>spend unbounded memory or time compiling: at most {@value #MAX_NODES} JSON values, nested
 *       at most {@value #MAX_DEPTH} deep, and at most {@value #MAX_EXPANDED} once its local
 *       {@code $ref}s are expanded (schemas that refer to one definition twice, which refers to
 *       another twice, and so on, grow exponentially);
 *   <li>backtrack without end: a {@code pattern} search reads at most 64 characters per
 *       character of the text plus 100,000; past that the validation is undecided, which fails
 *       closed.
 * </ul>
 *
 * <p>Numbers: {@code 5.0} is an integer (JSON Schema counts a number with a zero fractional part
 * as an integer), as are whole {@code BigDecimal} and {@code BigInteger} values of any size.
 */
public final class ToolSchema {
  /** The most JSON values a schema may hold. */
  public static final int MAX_NODES = 20_000;
  /** The deepest a schema may nest. */
  public static final int MAX_DEPTH = 64;
  /** The most JSON values a schema may reach once its local references are expanded. */
  public static final long MAX_EXPANDED = 200_000;
  /** The most findings a reason lists; the rest are counted. */
  private static final int MAX_SHOWN = 3;
  private static final int MAX_FINDING_CHARS = 200;

  private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(
      SpecificationVersion.DRAFT_2020_12,
      builder -> builder
          .schemaRegistryConfig(SchemaRegistryConfig.builder()
              .pathType(PathType.JSON_POINTER)
              // Stable English reasons in the audit trail, whatever the machine's locale.
              .locale(Locale.ENGLISH)
              // Compiled here, where failures are caught, not silently at load.
              .preloadSchema(false)
              .regularExpressionFactory(BoundedRegex.FACTORY)
              .build())
          // Nothing outside the schema document is ever loaded: not a URL, not a file, not the
          // classpath. The dialects' meta-schemas are built in and need no loading.
          .schemaLoader(loader -> loader.allow(iri -> false).fetchRemoteResources(false)));

  private final String digest;
  private final @Nullable Schema schema;
  private final @Nullable String problem;

  private ToolSchema(String digest, @Nullable Schema schema, @Nullable String problem) {
    this.digest = digest;
    this.schema = schema;
    this.problem = problem;
  }

  /**
   * Compiles a tool's input schema. Never throws: a schema that is not an object, is over the
   * bounds, refers outside itself or that the validator cannot compile is returned unusable.
   */
  public static ToolSchema compile(JsonNode inputSchema) {
    Objects.requireNonNull(inputSchema, "inputSchema");
    String digest = digest(inputSchema);
    if (!inputSchema.isObject()) {
      return new ToolSchema(digest, null, "the input schema is " + kind(inputSchema) + ", not an object");
    }
    String bound = bound(inputSchema);
    if (bound != null) {
      return new ToolSchema(digest, null, bound);
    }
    try {
      Schema compiled = REGISTRY.getSchema(inputSchema);
      compiled.initializeValidators();
      return new ToolSchema(digest, compiled, null);
    } catch (RuntimeException | StackOverflowError e) {
      return new ToolSchema(digest, null, "the input schema cannot be compiled: " + shorten(causeText(e)));
    }
  }

  /** The SHA-256 of the schema's JSON text, in hex: what compiled schemas are cached by. */
  public static String digest(JsonNode inputSchema) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256")
          .digest(inputSchema.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  /** The digest of the schema this was compiled from. */
  public String digest() {
    return digest;
  }

  /** Why the schema cannot be used, or {@code null} if it can. */
  public @Nullable String problem() {
    return problem;
  }

  /**
   * Validates arguments (a missing node is validated as an empty object, which is what a call
   * without arguments means).
   *
   * @return {@code null} when they are valid; otherwise why not, naming each failing JSON Pointer
   *     and keyword, such as {@code /amount: string found, number expected (type)}; or, for an
   *     unusable schema or a validation that could not decide, that reason
   */
  public Verdict validate(@Nullable JsonNode arguments) {
    if (problem != null) {
      return new Verdict(Verdict.Kind.UNUSABLE, problem);
    }
    JsonNode value = arguments == null || arguments.isMissingNode()
        ? tools.jackson.databind.node.JsonNodeFactory.instance.objectNode() : arguments;
    List<Error> errors;
    try {
      errors = Objects.requireNonNull(schema, "a schema without a problem is compiled").validate(value);
    } catch (BoundedText.Exhausted e) {
      return new Verdict(Verdict.Kind.UNDECIDED, "a pattern of the input schema backtracks too much on these arguments");
    } catch (RuntimeException | StackOverflowError e) {
      return new Verdict(Verdict.Kind.UNDECIDED, "the input schema could not be checked: " + shorten(causeText(e)));
    }
    if (errors.isEmpty()) {
      return Verdict.VALID;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < errors.size() && i < MAX_SHOWN; i++) {
      Error error = errors.get(i);
      if (i > 0) {
        out.append("; ");
      }
      String at = String.valueOf(error.getInstanceLocation());
      out.append(at.isEmpty() ? "arguments" : at).append(": ")
          .append(shorten(error.getMessage())).append(" (").append(error.getKeyword()).append(')');
    }
    if (errors.size() > MAX_SHOWN) {
      out.append("; and ").append(errors.size() - MAX_SHOWN).append(" more");
    }
    return new Verdict(Verdict.Kind.INVALID, out.toString());
  }

  /**
   * What validating arguments found.
   *
   * @param kind valid, invalid, or why it could not tell
   * @param reason {@code null} when valid; otherwise the findings or the problem
   */
  public record Verdict(Kind kind, @Nullable String reason) {
    /** Valid arguments. */
    public static final Verdict VALID = new Verdict(Kind.VALID, null);

    /** Validates. */
    public Verdict {
      Objects.requireNonNull(kind, "kind");
      if ((kind == Kind.VALID) != (reason == null)) {
        throw new IllegalArgumentException("a valid verdict has no reason; any other has one");
      }
    }

    /** Whether the arguments match the schema. */
    public boolean valid() {
      return kind == Kind.VALID;
    }

    /** The outcomes of a validation. */
    public enum Kind {
      /** The arguments match the schema. */
      VALID,
      /** They do not: the reason lists where and why. */
      INVALID,
      /** The schema cannot be used (over the bounds, refers outside itself, does not compile). */
      UNUSABLE,
      /** The validation could not decide (a pattern backtracked past its budget). */
      UNDECIDED
    }
  }

  // ---- bounds ------------------------------------------------------------------------------

  /** Why the schema is over a bound, or {@code null}. */
  private static @Nullable String bound(JsonNode schema) {
    int[] nodes = new int[1];
    if (!withinSize(schema, 1, nodes)) {
      return nodes[0] > MAX_NODES
          ? "the input schema has more than " + MAX_NODES + " JSON values"
          : "the input schema nests deeper than " + MAX_DEPTH + " levels";
    }
    long expanded = new Expansion(schema).size(schema);
    if (expanded > MAX_EXPANDED) {
      return "the input schema expands to more than " + MAX_EXPANDED
          + " JSON values through its $refs";
    }
    return null;
  }

  private static boolean withinSize(JsonNode node, int depth, int[] nodes) {
    if (++nodes[0] > MAX_NODES || depth > MAX_DEPTH) {
      return false;
    }
    if (node.isContainer()) {
      for (JsonNode child : node.values()) {
        if (!withinSize(child, depth + 1, nodes)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Counts the values a schema reaches when each local {@code $ref} is replaced by its target;
   * a reference back into a definition being expanded counts once (it recurses only as deep as
   * the arguments nest). Stops counting past {@link #MAX_EXPANDED}.
   */
  private static final class Expansion {
    private final JsonNode root;
    private final Map<JsonNode, Long> sizes = new IdentityHashMap<>();
    private final Map<JsonNode, Boolean> expanding = new IdentityHashMap<>();
    private final Map<String, JsonNode> anchors = new java.util.HashMap<>();

    Expansion(JsonNode root) {
      this.root = root;
      collectAnchors(root);
    }

    private void collectAnchors(JsonNode node) {
      if (node.isObject()) {
        for (String key : new String[] {"$anchor", "$dynamicAnchor"}) {
          JsonNode anchor = node.get(key);
          if (anchor != null && anchor.isString()) {
            anchors.putIfAbsent(anchor.stringValue(), node);
          }
        }
      }
      if (node.isContainer()) {
        for (JsonNode child : node.values()) {
          collectAnchors(child);
        }
      }
    }

    long size(JsonNode node) {
      if (!node.isContainer()) {
        return 1;
      }
      Long known = sizes.get(node);
      if (known != null) {
        return known;
      }
      if (expanding.containsKey(node)) {
        return 1;
      }
      expanding.put(node, Boolean.TRUE);
      long total = 1;
      if (node.isObject()) {
        for (Map.Entry<String, JsonNode> field : node.properties()) {
          JsonNode value = field.getValue();
          String key = field.getKey();
          JsonNode target = ("$ref".equals(key) || "$dynamicRef".equals(key)) && value.isString()
              ? local(value.stringValue()) : null;
          total += target != null ? size(target) : size(value);
          if (total > MAX_EXPANDED) {
            break;
          }
        }
      } else {
        for (JsonNode child : node.values()) {
          total += size(child);
          if (total > MAX_EXPANDED) {
            break;
          }
        }
      }
      expanding.remove(node);
      total = Math.min(total, MAX_EXPANDED + 1);
      sizes.put(node, total);
      return total;
    }

    /** The node a reference within the document names, or {@code null}. */
    private @Nullable JsonNode local(String ref) {
      if (!ref.startsWith("#")) {
        return null;
      }
      String fragment = ref.substring(1);
      if (fragment.isEmpty()) {
        return root;
      }
      if (!fragment.startsWith("/")) {
        return anchors.get(fragment);
      }
      try {
        JsonNode found = root.at(JsonPointer.compile(
            java.net.URLDecoder.decode(fragment.replace("+", "%2B"), StandardCharsets.UTF_8)));
        return found.isMissingNode() ? null : found;
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
  }

  // ---- patterns ----------------------------------------------------------------------------

  /**
   * ECMA-262 patterns as the library's JDK engine reads them, searched through a text that stops
   * the search once it has read too many characters (the policy's regex operator does the same).
   */
  static final class BoundedRegex implements RegularExpressionFactory {
    static final BoundedRegex FACTORY = new BoundedRegex();

    @Override
    public RegularExpression getRegularExpression(String regex) {
      Pattern pattern = Pattern.compile(RegularExpressions.replaceLongformCharacterProperties(
          RegularExpressions.replaceDollarAnchors(regex)));
      return value -> pattern.matcher(new BoundedText(value)).find();
    }
  }

  // ---- text --------------------------------------------------------------------------------

  private static String causeText(Throwable e) {
    Throwable root = e;
    for (int i = 0; i < 8 && root.getCause() != null && root.getCause() != root; i++) {
      root = root.getCause();
    }
    String message = root.getMessage();
    if (root instanceof StackOverflowError) {
      return "it recurses too deeply";
    }
    return message == null || message.isBlank() ? root.getClass().getSimpleName() : message;
  }

  private static String shorten(String text) {
    String oneLine = text.replace('\n', ' ').replace('\r', ' ');
    return oneLine.length() <= MAX_FINDING_CHARS ? oneLine : oneLine.substring(0, MAX_FINDING_CHARS - 1) + "…";
  }

  private static String kind(JsonNode node) {
    return node.isMissingNode() ? "missing" : node.isNull() ? "null" : node.isArray() ? "an array"
        : node.isString() ? "a string" : node.isBoolean() ? "a boolean" : "a number";
  }

  @Override
  public String toString() {
    return "ToolSchema[" + digest.substring(0, 12) + (problem == null ? "" : ", unusable: " + problem) + "]";
  }
}
