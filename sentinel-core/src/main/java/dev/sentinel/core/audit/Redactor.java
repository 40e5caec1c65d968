package dev.sentinel.core.audit;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Makes JSON values and texts safe for the audit trail: secrets replaced by {@value #REDACTED},
 * long strings cut, oversized values replaced by a summary.
 *
 * <p><b>By key.</b> A member whose name, lowercased and with {@code -} and {@code _} removed,
 * contains one of {@code password passwd secret apikey authorization credential privatekey
 * accesskey cookie clientsecret} (or a name added with {@link Builder#sensitiveKey}), or one of
 * whose words is {@code token}, {@code auth} or {@code session} (words split at {@code -},
 * {@code _}, digits and camelCase humps), has its whole value replaced by the string {@value
 * #REDACTED}. So {@code access_token}, {@code authToken}, {@code X-Auth} and {@code
 * session_id} are hidden, while {@code max_tokens} and {@code author} stay readable.
 *
 * <p><b>By shape.</b> In every string, and in member names, these are replaced: {@code Bearer
 * <token>} (the token), JWTs, AWS access key ids ({@code AKIA}/{@code ASIA} and 16 characters),
 * 40-character secrets after {@code aws_secret...=} or {@code :}, GitHub tokens ({@code ghp_ gho_
 * ghs_ ghu_ ghr_ github_pat_}), Slack tokens ({@code xoxa- xoxb- xoxp- xoxr- xoxs-}), OpenAI and
 * Anthropic style keys ({@code sk-}, {@code sk-ant-}), Sentinel keys ({@code snk_}), PEM private
 * key blocks (to the end of the string when the END line is missing) and the password in URL
 * user info ({@code scheme://user:pass@host}). Each pattern only runs when the string contains
 * its trigger text ({@code bearer}, {@code eyJ}, {@code AKIA}, {@code ://} ...), and one pass
 * over the string looks for any trigger first, so ordinary strings cost a single scan. Patterns
 * added with {@link Builder#sensitivePattern} run on every string.
 *
 * <p><b>Bounds.</b> A string longer than {@code maxStringLength} characters is cut so that,
 * with the marker {@code …[+N chars]} (N the characters removed), it is exactly that long. If the
 * redacted value's canonical JSON is still longer than {@code maxBytes}, the whole value is
 * replaced by {@code {"_truncated":true,"size":<original bytes>,"digest":"hmac-sha256:..."}}: a
 * summary, rather than a prefix of members, so that what remains can never be mistaken for the
 * whole. Redacting is idempotent.
 *
 * <p>Immutable and thread-safe.
 */
public final class Redactor {

  /** The text that replaces a secret. */
  public static final String REDACTED = "[REDACTED]";

  /** The default bound on a string's length, in characters. */
  public static final int DEFAULT_MAX_STRING_LENGTH = 1024;

  /** The default bound on a redacted value's canonical size, in bytes (16 KiB). */
  public static final long DEFAULT_MAX_BYTES = 16 * 1024;

  private static final List<String> DEFAULT_KEYS =
      List.of(
          "password",
          "passwd",
          "secret",
          "apikey",
          "authorization",
          "credential",
          "privatekey",
          "accesskey",
          "cookie",
          "clientsecret");

  /** Words that make a key sensitive only as a whole word: as substrings they hide too much. */
  private static final Set<String> KEY_WORDS = Set.of("token", "auth", "session");

  /** The shortest string any built-in shape can match ({@code a://:x@}). */
  private static final int MIN_SHAPE_LENGTH = 7;

  /** Room for a digest text in a summary, so that redacting a summary again never cuts it. */
  private static final int MIN_STRING_LIMIT = 96;
  private static final long MIN_BYTES_LIMIT = 256;

  /** The key of {@link #defaults()} and of builders not given one: random, once per process. */
  private static final DigestKey PROCESS_KEY = DigestKey.random();

  private static final Redactor DEFAULTS = new Builder().build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final String[] keyTerms;
  private final Pattern[] extraPatterns;
  private final int maxStringLength;
  private final long maxBytes;
  private final DigestKey digestKey;

  private Redactor(Builder builder) {
    this.keyTerms = builder.keys.toArray(new String[0]);
    this.extraPatterns = builder.patterns.toArray(new Pattern[0]);
    this.maxStringLength = builder.maxStringLength;
    this.maxBytes = builder.maxBytes;
    this.digestKey = builder.digestKey;
  }

  /**
   * The default rules, strings bounded to {@value #DEFAULT_MAX_STRING_LENGTH} characters and
   * values to 16 KiB, digests keyed with a random key made once per process.
   */
  public static Redactor defaults() {
    return DEFAULTS;
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The bound on a string's length, in characters. */
  public int maxStringLength() {
    return maxStringLength;
  }

  /** The bound on a redacted value's canonical size, in bytes. */
  public long maxBytes() {
    return maxBytes;
  }

  /** The key of the digests this redactor makes (and of the pipeline's response digests). */
  public DigestKey digestKey() {
    return digestKey;
  }

  /**
   * A redacted, bounded copy of the value, with the keyed digest ({@link #digestKey()}) and size
   * of the original. Never modifies the given node, and the returned value shares no container
   * with it.
   *
   * @param value the value; {@code null} is treated as JSON null
   */
  public Redacted redact(JsonNode value) {
    JsonNode original = value == null ? NODES.nullNode() : value;
    CanonicalJson.Digest digest = digestKey.digest(original);
    Walk walk = new Walk();
    JsonNode copy = walk.copy(original);
    long size = walk.changed ? CanonicalJson.size(copy) : digest.size();
    if (size > maxBytes) {
      ObjectNode summary = NODES.objectNode();
      summary.put("_truncated", true);
      summary.put("size", digest.size());
      summary.put("digest", digest.digest());
      copy = summary;
    }
    return new Redacted(copy, digest.digest(), digest.size());
  }

  /**
   * The text with secret-shaped parts replaced and its length bounded, for error messages and
   * other free text bound for the trail or a log.
   *
   * @return the safe text, or {@code null} for {@code null}
   */
  public String redactText(String text) {
    return text == null ? null : bounded(text);
  }

  private String bounded(String text) {
    String s = shapes(text);
    // Cutting can complete a shape (a key id cut right after its 16th character), so the cut
    // text is redacted again; a few rounds always settle.
    for (int round = 0; round < 3 && s.length() > maxStringLength; round++) {
      s = shapes(cut(s));
    }
    return s.length() > maxStringLength ? REDACTED : s;
  }

  private String cut(String s) {
    int length = s.length();
    int markerLength = "…[+".length() + Integer.toString(length).length() + " chars]".length();
    int keep = maxStringLength - markerLength;
    if (keep > 0 && Character.isHighSurrogate(s.charAt(keep - 1))) {
      keep--;
    }
    return s.substring(0, keep) + "…[+" + (length - keep) + " chars]";
  }

  /** Applies the value shapes and the extra patterns. */
  String shapes(String s) {
    if (s.length() >= MIN_SHAPE_LENGTH && mayHoldShape(s)) {
      for (Shape shape : Shape.VALUES) {
        if (shape.triggeredBy(s)) {
          s = shape.apply(s);
        }
      }
    }
    for (Pattern pattern : extraPatterns) {
      Matcher m = pattern.matcher(s);
      if (m.find()) {
        s = m.replaceAll(REDACTED);
      }
    }
    return s;
  }

  /**
   * One pass over the string looking for the start of any shape's trigger, so that ordinary
   * strings are scanned once; the shapes' own triggers are checked only when this finds one.
   */
  private static boolean mayHoldShape(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      switch (s.charAt(i)) {
        case '-':
          if (s.startsWith("-----BEGIN ", i)) {
            return true;
          }
          break;
        case ':':
          if (s.startsWith("://", i)) {
            return true;
          }
          break;
        case 'b':
        case 'B':
          if (s.regionMatches(true, i, "bearer", 0, 6)) {
            return true;
          }
          break;
        case 'e':
          if (s.startsWith("eyJ", i)) {
            return true;
          }
          break;
        case 'A':
          if (s.startsWith("AKIA", i) || s.startsWith("ASIA", i) || s.regionMatches(true, i, "aws", 0, 3)) {
            return true;
          }
          break;
        case 'a':
          if (s.regionMatches(true, i, "aws", 0, 3)) {
            return true;
          }
          break;
        case 'g':
          if (s.startsWith("gh", i) || s.startsWith("github_pat_", i)) {
            return true;
          }
          break;
        case 'x':
          if (s.startsWith("xox", i)) {
            return true;
          }
          break;
        case 's':
          if (s.startsWith("sk-", i) || s.startsWith("snk_", i)) {
            return true;
          }
          break;
        default:
          break;
      }
    }
    return false;
  }

  boolean sensitiveKey(String key) {
    int n = key.length();
    if (n < 4) {
      return false; // the shortest term is "auth"
    }
    String normalized = key;
    for (int i = 0; i < n; i++) {
      char c = key.charAt(i);
      if (c == '-' || c == '_' || c >= 'A' && c <= 'Z' || c > 0x7f) {
        normalized = normalize(key);
        break;
      }
    }
    for (String term : keyTerms) {
      if (normalized.contains(term)) {
        return true;
      }
    }
    return hasSensitiveWord(key);
  }

  /** Whether a word of the key (split at non-letters and camelCase humps) is sensitive. */
  private static boolean hasSensitiveWord(String key) {
    int n = key.length();
    int start = -1;
    for (int i = 0; i <= n; i++) {
      boolean letter = i < n && Character.isLetter(key.charAt(i));
      boolean hump = letter && start >= 0
          && Character.isUpperCase(key.charAt(i)) && Character.isLowerCase(key.charAt(i - 1));
      if (start >= 0 && (!letter || hump)) {
        if (isKeyWord(key, start, i - start)) {
          return true;
        }
        start = -1;
      }
      if (letter && start < 0) {
        start = i;
      }
    }
    return false;
  }

  private static boolean isKeyWord(String key, int start, int length) {
    for (String word : KEY_WORDS) {
      if (word.length() == length && key.regionMatches(true, start, word, 0, length)) {
        return true;
      }
    }
    return false;
  }

  private static String normalize(String key) {
    StringBuilder sb = new StringBuilder(key.length());
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (c != '-' && c != '_') {
        sb.append(c);
      }
    }
    return sb.toString().toLowerCase(Locale.ROOT);
  }

  /** One redaction pass over a tree: builds the copy and notes whether anything changed. */
  private final class Walk {
    boolean changed;

    JsonNode copy(JsonNode node) {
      switch (node.getNodeType()) {
        case OBJECT:
          return copyObject(node);
        case ARRAY:
          ArrayNode array = NODES.arrayNode(node.size());
          for (JsonNode element : node) {
            array.add(copy(element));
          }
          return array;
        case STRING:
          String text = node.stringValue();
          String safe = bounded(text);
          if (safe.equals(text)) {
            return node; // string nodes are immutable
          }
          changed = true;
          return NODES.stringNode(safe);
        case BINARY:
          return NODES.binaryNode(node.binaryValue().clone());
        case POJO:
          changed = true;
          return NODES.nullNode();
        case MISSING:
          changed = true;
          return NODES.nullNode();
        default:
          return node; // numbers, booleans and null are immutable
      }
    }

    private JsonNode copyObject(JsonNode node) {
      ObjectNode object = NODES.objectNode();
      for (Map.Entry<String, JsonNode> member : node.properties()) {
        String key = member.getKey();
        JsonNode value;
        if (sensitiveKey(key)) {
          value = NODES.stringNode(REDACTED);
          if (!member.getValue().isString() || !REDACTED.equals(member.getValue().stringValue())) {
            changed = true;
          }
        } else {
          value = copy(member.getValue());
        }
        String safeKey = shapes(key);
        if (!safeKey.equals(key)) {
          changed = true;
        }
        if (object.has(safeKey)) {
          // two names redacted to the same text: keep both members, the later one renamed
          changed = true;
          String base = safeKey;
          int i = 2;
          do {
            safeKey = base + "#" + i++;
          } while (object.has(safeKey));
        }
        object.set(safeKey, value);
      }
      return object;
    }
  }

  /** The built-in secret shapes, in the order they are applied. */
  private enum Shape {
    PRIVATE_KEY(
        "-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----"
            + "(?:.*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|.*)",
        Pattern.DOTALL,
        REDACTED) {
      @Override
      boolean triggeredBy(String s) {
        return s.contains("-----BEGIN ");
      }
    },
    URL_PASSWORD(
        "([A-Za-z][A-Za-z0-9+.-]*://[^\\s/?#@:]*):[^\\s/?#]+@", 0, "$1:" + REDACTED + "@") {
      @Override
      boolean triggeredBy(String s) {
        return s.contains("://");
      }
    },
    BEARER("\\b(bearer)\\s+[A-Za-z0-9\\-._~+/]+=*", Pattern.CASE_INSENSITIVE, "$1 " + REDACTED) {
      @Override
      boolean triggeredBy(String s) {
        return containsIgnoreCase(s, "bearer");
      }
    },
    JWT("eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*", 0, REDACTED) {
      @Override
      boolean triggeredBy(String s) {
        return s.contains("eyJ");
      }
    },
    AWS_KEY_ID("(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])", 0, REDACTED) {
      @Override
      boolean triggeredBy(String s) {
        return s.contains("AKIA") || s.contains("ASIA");
      }
    },
    AWS_SECRET(
        "(aws[_-]?secret[a-z0-9_-]*[\"']?\\s*[:=>]{1,2}\\s*[\"']?)[A-Za-z0-9/+]{40}[A-Za-z0-9/+=]*",
        Pattern.CASE_INSENSITIVE,
        "$1" + REDACTED) {
      @Override
      boolean triggeredBy(String s) {
        return containsIgnoreCase(s, "aws");
      }
    },
    GITHUB("gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}", 0, REDACTED) {
      @Override
      boolean triggeredBy(String s) {
        for (int i = s.indexOf("gh"); i >= 0 && i + 3 < s.length(); i = s.indexOf("gh", i + 1)) {
          if (s.charAt(i + 3) == '_' && "pousr".indexOf(s.charAt(i + 2)) >= 0) {
            return true;
          }
        }
        return s.contains("github_pat_");
      }
    },
    SLACK("xox[abprs]-[A-Za-z0-9-]{8,}", 0, REDACTED) {
      @Override
      boolean triggeredBy(String s) {
        return s.contains("xox");
      }
    },
    SK_KEY("(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}", 0, REDACTED) {
      @Override
      boolean triggeredBy(String s) {
        return s.contains("sk-");
      }
    },
    SENTINEL_KEY("(?<![A-Za-z0-9])snk_[A-Za-z0-9_]{8,}", 0, REDACTED) {
      @Override
      boolean triggeredBy(String s) {
        return s.contains("snk_");
      }
    };

    static final Shape[] VALUES = values();

    private final Pattern pattern;
    private final String replacement;

    Shape(String regex, int flags, String replacement) {
      this.pattern = Pattern.compile(regex, flags);
      this.replacement = replacement;
    }

    abstract boolean triggeredBy(String s);

    static boolean containsIgnoreCase(String s, String lowercase) {
      int last = s.length() - lowercase.length();
      char first = lowercase.charAt(0);
      char upper = Character.toUpperCase(first);
      for (int i = 0; i <= last; i++) {
        char c = s.charAt(i);
        if ((c == first || c == upper) && s.regionMatches(true, i, lowercase, 0, lowercase.length())) {
          return true;
        }
      }
      return false;
    }

    String apply(String s) {
      Matcher m = pattern.matcher(s);
      return m.find() ? m.replaceAll(replacement) : s;
    }
  }

  /**
   * Builds a {@link Redactor}, starting from the defaults; each setter validates at once. Not
   * thread-safe.
   */
  public static final class Builder {
    private final Set<String> keys = new LinkedHashSet<>(DEFAULT_KEYS);
    private final List<Pattern> patterns = new ArrayList<>();
    private int maxStringLength = DEFAULT_MAX_STRING_LENGTH;
    private long maxBytes = DEFAULT_MAX_BYTES;
    private DigestKey digestKey = PROCESS_KEY;

    private Builder() {}

    /**
     * Adds a sensitive member name. It is normalized as keys are (lowercased, {@code -} and
     * {@code _} removed) and matches any name that contains it.
     */
    public Builder sensitiveKey(String name) {
      Objects.requireNonNull(name, "name");
      String normalized = name.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT).strip();
      if (normalized.isEmpty()) {
        throw new IllegalArgumentException(
            "sensitive key must contain a character other than '-', '_' and space, got '"
                + name
                + "'");
      }
      keys.add(normalized);
      return this;
    }

    /**
     * Adds a pattern whose every match, in every string and member name, is replaced by {@value
     * #REDACTED}. It must not match {@value #REDACTED} itself, or redaction would not settle.
     */
    public Builder sensitivePattern(Pattern pattern) {
      Objects.requireNonNull(pattern, "pattern");
      if (pattern.matcher(REDACTED).find()) {
        throw new IllegalArgumentException(
            "sensitive pattern must not match " + REDACTED + ", got /" + pattern + "/");
      }
      if (pattern.matcher("").matches()) {
        throw new IllegalArgumentException(
            "sensitive pattern must not match the empty string, got /" + pattern + "/");
      }
      patterns.add(pattern);
      return this;
    }

    /** Adds a sensitive pattern given as a regular expression; see {@link #sensitivePattern(Pattern)}. */
    public Builder sensitivePattern(String regex) {
      return sensitivePattern(Pattern.compile(Objects.requireNonNull(regex, "regex")));
    }

    /**
     * Sets the bound on a string's length, in characters; at least 96, so that a digest (85
     * characters) in a summary is never cut.
     */
    public Builder maxStringLength(int maxStringLength) {
      if (maxStringLength < MIN_STRING_LIMIT) {
        throw new IllegalArgumentException(
            "maxStringLength must be at least " + MIN_STRING_LIMIT + ", got " + maxStringLength);
      }
      this.maxStringLength = maxStringLength;
      return this;
    }

    /** Sets the bound on a redacted value's canonical size, in bytes; at least 256. */
    public Builder maxBytes(long maxBytes) {
      if (maxBytes < MIN_BYTES_LIMIT) {
        throw new IllegalArgumentException(
            "maxBytes must be at least " + MIN_BYTES_LIMIT + ", got " + maxBytes);
      }
      this.maxBytes = maxBytes;
      return this;
    }

    /**
     * Sets the key of the digests ({@link DigestKey}). Without one, a random key made once per
     * process: its digests compare only within the process, and nobody can check a claimed
     * original against them.
     */
    public Builder digestKey(DigestKey digestKey) {
      this.digestKey = Objects.requireNonNull(digestKey, "digestKey");
      return this;
    }

    /** The redactor. */
    public Redactor build() {
      return new Redactor(this);
    }
  }
}
