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
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Makes JSON values and texts safe for the audit trail: secrets replaced by {@value #REDACTED},
 * long strings cut, oversized values replaced by a summary.
 *
 * <p><b>By key.</b> A member whose name, lowercased and with {@code -} and {@code _} removed,
 * contains one of {@code password passwd passphrase secret apikey authorization credential
 * privatekey accesskey cookie clientsecret} (or a name added with {@link Builder#sensitiveKey}),
 * or one of whose words is {@code token}, {@code auth} or {@code session} (words split at {@code
 * -}, {@code _}, digits and camelCase humps), has its whole value replaced by the string {@value
 * #REDACTED}. So {@code access_token}, {@code authToken}, {@code X-Auth} and {@code session_id}
 * are hidden, while {@code max_tokens} and {@code author} stay readable.
 *
 * <p><b>By shape.</b> In every string, and in member names, these are replaced: PEM private key
 * blocks (to the end of the string when the END line is missing), the password in URL user info
 * ({@code scheme://user:pass@host}), {@code Bearer <token>} (the token, when it has 16
 * characters, or 8 with a digit), JWTs, AWS access key ids ({@code AKIA}/{@code ASIA} and 16
 * characters), 40-character secrets after {@code aws_secret...=} or {@code :}, GitHub tokens
 * ({@code ghp_ gho_ ghs_ ghu_ ghr_ github_pat_}), GitLab tokens ({@code glpat-}, {@code glrt-}
 * and their kin, {@code GR1348941}), Slack tokens ({@code xoxa- xoxb- xoxe- xoxp- xoxr- xoxs-
 * xapp-}) and webhook paths, Stripe keys ({@code sk_live_ sk_test_ rk_live_ rk_test_ whsec_}),
 * Google API keys ({@code AIza}) and access tokens ({@code ya29.}), npm ({@code npm_}), Hugging
 * Face ({@code hf_}) and PyPI tokens, OpenAI and Anthropic style keys ({@code sk-}, {@code
 * sk-ant-}), Sentinel keys ({@code snk_}), and credentials assigned to a name in free text
 * ({@code Password=...;}, {@code ?token=...&}, {@code X-Api-Key: ...}, {@code --password ...},
 * {@code Authorization: Basic ...}, {@code Cookie: ...}; see docs/audit.md). A word alone
 * is never a secret ({@code password reset}, {@code the bearer of}); a credential's name followed
 * by {@code =} or {@code :} is an assignment whatever follows. Each pattern only runs when the
 * string contains its trigger text, and one pass over the string looks for any trigger first, so
 * ordinary strings cost a single scan; every pattern is linear in the string. Patterns added with
 * {@link Builder#sensitivePattern} run on every string.
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
          "clientsecret",
          "passphrase");

  /** Words that make a key sensitive only as a whole word: as substrings they hide too much. */
  private static final Set<String> KEY_WORDS = Set.of("token", "auth", "session");

  /** The prefixes of GitLab tokens: personal, deploy, runner, trigger, feed, OAuth ... */
  private static final String[] GITLAB_PREFIXES = {
      "glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glsoat-", "glcbt-", "gloas-", "glimt-",
      "glagent-", "glwt-", "glffct-"};

  /** Character sets of the shapes' leading lookbehinds: what may not come before a token. */
  private static final String UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  private static final String ALNUM = UPPER_ALNUM + "abcdefghijklmnopqrstuvwxyz";
  private static final String WORD = ALNUM + "_";
  private static final String TOKEN = WORD + "-";

  /** The most rounds of shapes one string gets; redaction settles in two or three. */
  private static final int SHAPE_ROUNDS = 4;
  /** The shortest string any built-in shape can match ({@code pwd=x}). */
  private static final int MIN_SHAPE_LENGTH = 5;

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
  public @Nullable String redactText(@Nullable String text) {
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

  /**
   * Applies the value shapes and the extra patterns until nothing changes (at most {@value
   * #SHAPE_ROUNDS} rounds). In each round every shape and pattern looks at the same text, and
   * what they found is replaced at the end, so no replacement can hide the name or prefix that
   * another shape recognizes its secret by. A replacement can make a new match (a quoted
   * password that held a {@code /} becomes URL user info once it is {@value #REDACTED}), so the
   * rounds go on until the text is stable, which makes redacting idempotent.
   */
  String shapes(String s) {
    String out = shapesOnce(s);
    for (int round = 1; round < SHAPE_ROUNDS && out != s; round++) {
      String next = shapesOnce(out);
      if (next.equals(out)) {
        break;
      }
      s = out;
      out = next;
    }
    return out;
  }

  /** One round of {@link #shapes}: every shape and pattern over {@code s}, replaced at once. */
  private String shapesOnce(String s) {
    int found = s.length() >= MIN_SHAPE_LENGTH ? triggeredShapes(s) : 0;
    if (found == 0 && extraPatterns.length == 0) {
      return s;
    }
    Spans spans = new Spans();
    for (int k = 0; found != 0; k++, found >>>= 1) {
      if ((found & 1) != 0) {
        Shape.VALUES[k].spans(s, spans);
      }
    }
    for (Pattern pattern : extraPatterns) {
      Matcher m = pattern.matcher(s);
      while (m.find()) {
        spans.add(m.start(), m.end());
      }
    }
    return spans.replace(s, REDACTED);
  }

  /**
   * The first two characters of every trigger, as a set of (first, second) pairs of ASCII
   * characters, bit {@code first << 7 | second}; an assignment's separators ({@code : = > -}) pair
   * with anything, a character past the end or beyond ASCII counting as 0. Checked before
   * anything else, so that ordinary text costs a table read a character.
   */
  private static final long[] TRIGGER_PAIRS = new long[128 * 128 / 64];

  static {
    String[] triggers = {
        "-----BEGIN ", "bearer", "Bearer", "BEARER", "bEarer", "eyJ", "AKIA", "ASIA", "AIza",
        "aws", "aWs", "Aws", "AWs", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_",
        "glpat-", "GR1348941", "xox", "xapp-", "hooks.slack.com/", "hf_", "sk-", "snk_",
        "sk_live_", "rk_live_", "whsec_", "ya29.", "npm_", "pypi-AgEIcHlwaS5vcmc"};
    for (String trigger : triggers) {
      setPair(trigger.charAt(0), trigger.charAt(1));
    }
    for (char separator : ":=>-".toCharArray()) {
      for (char c = 0; c < 128; c++) {
        setPair(separator, c);
      }
    }
  }

  private static void setPair(char first, char second) {
    int pair = first << 7 | second;
    TRIGGER_PAIRS[pair >>> 6] |= 1L << pair;
  }

  private static int bit(Shape shape) {
    return 1 << shape.ordinal();
  }

  /**
   * One pass over the string marking the shapes whose trigger it holds (a bit per {@link
   * Shape#ordinal}), so that ordinary strings cost a single scan, and only the shapes found run.
   */
  private static int triggeredShapes(String s) {
    int found = 0;
    int n = s.length();
    int c = n == 0 ? 0 : s.charAt(0);
    for (int i = 0; i < n; i++) {
      int next = i + 1 < n ? s.charAt(i + 1) : 0;
      // the common case, two characters that start nothing, stays in this small loop
      if (c < 128) {
        int pair = c << 7 | (next < 128 ? next : 0);
        if ((TRIGGER_PAIRS[pair >>> 6] & (1L << pair)) != 0) {
          found = triggeredAt(s, i, (char) c, found);
        }
      }
      c = next;
    }
    return found;
  }

  /** {@code found} with the bit of the shape whose trigger starts at {@code i}, if any. */
  private static int triggeredAt(String s, int i, char c, int found) {
    switch (c) {
      case '-':
        if (s.startsWith("-----BEGIN ", i)) {
          found |= bit(Shape.PRIVATE_KEY);
        } else if ((found & bit(Shape.ASSIGNMENT)) == 0 && Assignments.at(s, i)) {
          found |= bit(Shape.ASSIGNMENT);
        }
        break;
      case ':':
        if (s.startsWith("://", i)) {
          found |= bit(Shape.URL_PASSWORD);
        } else if ((found & bit(Shape.ASSIGNMENT)) == 0 && Assignments.at(s, i)) {
          found |= bit(Shape.ASSIGNMENT);
        }
        break;
      case '=':
      case '>':
        if ((found & bit(Shape.ASSIGNMENT)) == 0 && Assignments.at(s, i)) {
          found |= bit(Shape.ASSIGNMENT);
        }
        break;
      case 'b':
      case 'B':
        if (s.regionMatches(true, i, "bearer", 0, 6)) {
          found |= bit(Shape.BEARER);
        }
        break;
      case 'e':
        if (s.startsWith("eyJ", i)) {
          found |= bit(Shape.JWT);
        }
        break;
      case 'A':
        if (s.startsWith("AKIA", i) || s.startsWith("ASIA", i)) {
          found |= bit(Shape.AWS_KEY_ID);
        } else if (s.startsWith("AIza", i)) {
          found |= bit(Shape.GOOGLE);
        } else if (awsAt(s, i)) {
          found |= bit(Shape.AWS_SECRET);
        }
        break;
      case 'a':
        if (awsAt(s, i)) {
          found |= bit(Shape.AWS_SECRET);
        }
        break;
      case 'g':
        if (githubAt(s, i) || s.startsWith("github_pat_", i)) {
          found |= bit(Shape.GITHUB);
        } else if (gitlabAt(s, i)) {
          found |= bit(Shape.GITLAB);
        }
        break;
      case 'G':
        if (s.startsWith("GR1348941", i)) {
          found |= bit(Shape.GITLAB);
        }
        break;
      case 'x':
        if (s.startsWith("xox", i) || s.startsWith("xapp-", i)) {
          found |= bit(Shape.SLACK);
        }
        break;
      case 'h':
        if (s.startsWith("hooks.slack.com/", i)) {
          found |= bit(Shape.SLACK);
        } else if (s.startsWith("hf_", i)) {
          found |= bit(Shape.PACKAGE_REGISTRY);
        }
        break;
      case 's':
        if (s.startsWith("sk-", i)) {
          found |= bit(Shape.SK_KEY);
        } else if (s.startsWith("snk_", i)) {
          found |= bit(Shape.SENTINEL_KEY);
        } else if (s.startsWith("sk_live_", i) || s.startsWith("sk_test_", i)) {
          found |= bit(Shape.STRIPE);
        }
        break;
      case 'r':
        if (s.startsWith("rk_live_", i) || s.startsWith("rk_test_", i)) {
          found |= bit(Shape.STRIPE);
        }
        break;
      case 'w':
        if (s.startsWith("whsec_", i)) {
          found |= bit(Shape.STRIPE);
        }
        break;
      case 'y':
        if (s.startsWith("ya29.", i)) {
          found |= bit(Shape.GOOGLE);
        }
        break;
      case 'n':
        if (s.startsWith("npm_", i)) {
          found |= bit(Shape.PACKAGE_REGISTRY);
        }
        break;
      case 'p':
        if (s.startsWith("pypi-AgEIcHlwaS5vcmc", i)) {
          found |= bit(Shape.PACKAGE_REGISTRY);
        }
        break;
      default:
        break;
    }
    return found;
  }

  /** Whether {@code aws}, in any case, starts at {@code i}. */
  private static boolean awsAt(String s, int i) {
    return i + 2 < s.length() && (s.charAt(i + 1) | 0x20) == 'w' && (s.charAt(i + 2) | 0x20) == 's';
  }

  /** Whether a GitHub token prefix ({@code ghp_ gho_ ghs_ ghu_ ghr_}) starts at {@code i}. */
  private static boolean githubAt(String s, int i) {
    return s.startsWith("gh", i) && i + 3 < s.length() && s.charAt(i + 3) == '_'
        && "pousr".indexOf(s.charAt(i + 2)) >= 0;
  }

  /** Whether a GitLab token prefix ({@code glpat-} and its kin) starts at {@code i}. */
  private static boolean gitlabAt(String s, int i) {
    if (!s.startsWith("gl", i)) {
      return false;
    }
    for (String prefix : GITLAB_PREFIXES) {
      if (s.startsWith(prefix, i)) {
        return true;
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

  /**
   * The built-in secret shapes, each found on the original text. Each is a regular expression
   * whose every match starts with one of its triggers (a literal), and it is tried only where a
   * trigger starts ({@link Matcher#lookingAt} from there, the text before visible to lookbehind),
   * never at every position of the string: ordinary text costs one {@code indexOf} per trigger,
   * and a long run that holds no match (a million {@code eyJ}) is not rescanned from each of its
   * positions. Repetition that may fail after a long run is bounded, so the whole is linear.
   */
  private enum Shape {
    PRIVATE_KEY(
        "-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----"
            + "(?:.*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|.*)",
        Pattern.DOTALL, REDACTED, null, 0, "-----BEGIN "),
    /** The password of URL user info; tried from the scheme before each {@code ://}. */
    URL_PASSWORD(
        "([A-Za-z][A-Za-z0-9+.-]{0,31}://[^\\s/?#@:]{0,256}):[^\\s/?#]+@",
        0, "$1:" + REDACTED + "@", null, 0, "://"),
    /** A bearer token: 16 characters or more, or 8 or more with a digit ("the bearer of" stays). */
    BEARER(
        "(?i)(?<![A-Za-z0-9_])(bearer)\\s+(?=[A-Za-z0-9._~+/-]{16}|[A-Za-z0-9._~+/-]{0,15}[0-9])"
            + "[A-Za-z0-9._~+/-]{8,}=*",
        0, "$1 " + REDACTED, WORD, 0, "bearer"),
    JWT("(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*",
        0, REDACTED, TOKEN, 4, "eyJ"),
    AWS_KEY_ID("(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
        0, REDACTED, UPPER_ALNUM, 16, "AKIA", "ASIA"),
    AWS_SECRET(
        "(?i)(?<![a-z0-9])(aws[_-]?secret[a-z0-9_-]{0,32}[\"']?\\s{0,8}[:=>]{1,2}\\s{0,8}[\"']?)"
            + "[A-Za-z0-9/+]{40}[A-Za-z0-9/+=]*",
        0, "$1" + REDACTED, ALNUM, 6, "aws"),
    GITHUB("gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}",
        0, REDACTED, null, 16, "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"),
    /** GitLab tokens by prefix (personal, deploy, runner, CI job, feed, OAuth ...). */
    GITLAB(
        "(?<![A-Za-z0-9_-])(?:gl(?:pat|dt|rt|ptt|ft|soat|cbt|oas|imt|agent|wt|ffct)-"
            + "[A-Za-z0-9_-]{20,}(?:\\.[A-Za-z0-9_-]+)*|GR1348941[A-Za-z0-9_-]{20,})",
        0, REDACTED, TOKEN, 20, "gl", "GR1348941"),
    /** Slack tokens, and webhook paths (the host stays, so the trail still says where). */
    SLACK(
        "xox[abeprs]-[A-Za-z0-9-]{8,}|xapp-[0-9]+-[A-Za-z0-9-]{10,}"
            + "|(hooks\\.slack\\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_-]+",
        0, "$1" + REDACTED, null, 8, "xox", "xapp-", "hooks.slack.com/"),
    /** Stripe secret and restricted keys (live and test) and webhook signing secrets. */
    STRIPE(
        "(?<![A-Za-z0-9_])(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9+/=]{20,})",
        0, REDACTED, WORD, 10, "sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"),
    /** Google API keys and OAuth access tokens. */
    GOOGLE("(?<![A-Za-z0-9_-])(?:AIza[0-9A-Za-z_-]{35}|ya29\\.[0-9A-Za-z_-]{20,})",
        0, REDACTED, TOKEN, 20, "AIza", "ya29."),
    /** npm, Hugging Face and PyPI tokens. */
    PACKAGE_REGISTRY(
        "(?<![A-Za-z0-9_])(?:npm_[A-Za-z0-9]{36,}|hf_[A-Za-z0-9]{30,}"
            + "|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        0, REDACTED, WORD, 30, "npm_", "hf_", "pypi-AgEIcHlwaS5vcmc"),
    SK_KEY("(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{16,}", 0, REDACTED, ALNUM, 16, "sk-"),
    SENTINEL_KEY("(?<![A-Za-z0-9])snk_[A-Za-z0-9_]{8,}", 0, REDACTED, ALNUM, 8, "snk_"),
    /**
     * Credentials assigned to a name in free text ({@code Password=}, {@code X-Api-Key:}, {@code
     * ?token=}, {@code --password x}, {@code Authorization:}): see {@link Assignments}.
     */
    ASSIGNMENT {
      @Override
      void spans(String s, Spans out) {
        Assignments.spans(s, out);
      }
    };

    static final Shape[] VALUES = values();

    /** The longest scheme {@link #URL_PASSWORD} looks back for before {@code ://}. */
    private static final int MAX_SCHEME = 32;

    /** Null for {@link #ASSIGNMENT}, which is not a regular expression. */
    private final @Nullable Pattern pattern;
    /** {@code $1} and a fixed text: group 1 (nothing when it did not take part), then the text. */
    private final boolean keepsGroup;
    /** How many characters of the match after group 1 (or from its start) are kept before. */
    private final int keptBefore;
    /** How many characters at the end of the match are kept. */
    private final int keptAfter;
    private final String[] triggers;
    private final boolean ignoreCase;
    /**
     * The characters that must not come right before a trigger (the pattern's leading
     * lookbehind, checked here first so that a refused candidate costs no matcher), or null.
     */
    private final boolean @Nullable [] notAfter;
    /** How many token characters every match has right after its trigger, at least. */
    private final int minTail;

    /**
     * A shape.
     *
     * @param notAfter the characters of the pattern's leading negative lookbehind, or null
     * @param minTail how many characters of {@code [A-Za-z0-9_+/=.-]} every match has right after
     *     its trigger, at least: a candidate with fewer (a word such as {@code npm_modules}) is
     *     refused without running the pattern
     * @param triggers the literals every match starts with
     */
    Shape(String regex, int flags, String replacement, @Nullable String notAfter, int minTail,
        String... triggers) {
      this.minTail = minTail;
      this.pattern = Pattern.compile(regex, flags);
      this.keepsGroup = replacement.startsWith("$1");
      String kept = keepsGroup ? replacement.substring(2) : replacement;
      this.keptBefore = kept.indexOf(REDACTED);
      this.keptAfter = kept.length() - keptBefore - REDACTED.length();
      this.triggers = triggers;
      this.ignoreCase = regex.startsWith("(?i)");
      if (notAfter == null) {
        this.notAfter = null;
      } else {
        boolean[] refused = new boolean[128];
        for (char c : notAfter.toCharArray()) {
          refused[c] = true;
        }
        this.notAfter = refused;
      }
    }

    /** A shape that is not a regular expression: it overrides {@link #apply}. */
    Shape() {
      this.pattern = null;
      this.keepsGroup = false;
      this.keptBefore = 0;
      this.keptAfter = 0;
      this.triggers = new String[0];
      this.ignoreCase = false;
      this.notAfter = null;
      this.minTail = 0;
    }

    /**
     * Adds the range each match replaces to {@code out}: the match, less group 1 and the
     * characters the replacement keeps around {@value Redactor#REDACTED}.
     */
    void spans(String s, Spans out) {
      int n = s.length();
      // where each trigger next occurs at or after the search position; -1 once it occurs no more
      int[] next = new int[triggers.length];
      for (int t = 0; t < triggers.length; t++) {
        next[t] = indexOf(s, triggers[t], 0);
      }
      Matcher m = null;
      int lastEnd = 0;
      int from = 0;
      while (true) {
        int at = -1;
        int which = -1;
        for (int t = 0; t < triggers.length; t++) {
          if (next[t] >= 0 && next[t] < from) {
            next[t] = indexOf(s, triggers[t], from);
          }
          if (next[t] >= 0 && (at < 0 || next[t] < at)) {
            at = next[t];
            which = t;
          }
        }
        if (at < 0) {
          break;
        }
        if (notAfter != null && at > 0 && s.charAt(at - 1) < 128 && notAfter[s.charAt(at - 1)]
            || !tailAtLeast(s, at + triggers[which].length(), minTail)) {
          from = at + 1; // inside a longer token, or too short a token: the pattern would refuse it
          continue;
        }
        int start = this == URL_PASSWORD ? schemeStart(s, at, lastEnd) : at;
        if (start < 0) {
          from = at + 1;
          continue;
        }
        if (m == null) {
          Pattern p = pattern;
          if (p == null) {
            throw new IllegalStateException(name() + " is not a regular expression: it overrides spans");
          }
          m = p.matcher(s).useTransparentBounds(true).useAnchoringBounds(false);
        }
        m.region(start, n);
        if (!m.lookingAt()) {
          from = at + 1;
          continue;
        }
        int cut = (keepsGroup && m.start(1) >= 0 ? m.end(1) : m.start()) + keptBefore;
        out.add(cut, m.end() - keptAfter);
        lastEnd = m.end();
        from = Math.max(m.end(), at + 1);
      }
    }

    /**
     * Where the scheme before the {@code ://} at {@code at} starts: the first letter of the run of
     * scheme characters before it, at most {@value #MAX_SCHEME} back and not before {@code floor}
     * (the end of the last replacement); -1 when there is none.
     */
    private static int schemeStart(String s, int at, int floor) {
      int start = at;
      while (start > floor && at - start < MAX_SCHEME && isSchemeChar(s.charAt(start - 1))) {
        start--;
      }
      while (start < at && !(s.charAt(start) >= 'a' && s.charAt(start) <= 'z'
          || s.charAt(start) >= 'A' && s.charAt(start) <= 'Z')) {
        start++;
      }
      return start < at ? start : -1;
    }

    /** Whether {@code count} characters of {@code [A-Za-z0-9_+/=.-]} start at {@code k}. */
    private static boolean tailAtLeast(String s, int k, int count) {
      if (k + count > s.length()) {
        return false;
      }
      for (int j = k; j < k + count; j++) {
        char c = s.charAt(j);
        if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
            || c == '+' || c == '/' || c == '=' || c == '.' || c == '-')) {
          return false;
        }
      }
      return true;
    }

    private static boolean isSchemeChar(char c) {
      return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
          || c == '+' || c == '.' || c == '-';
    }

    private int indexOf(String s, String trigger, int from) {
      if (!ignoreCase) {
        return s.indexOf(trigger, from);
      }
      int last = s.length() - trigger.length();
      char lower = trigger.charAt(0);
      char upper = Character.toUpperCase(lower);
      for (int i = from; i <= last; i++) {
        char c = s.charAt(i);
        if ((c == lower || c == upper) && s.regionMatches(true, i, trigger, 0, trigger.length())) {
          return i;
        }
      }
      return -1;
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
