package dev.sentinel.core.audit;

import java.math.BigDecimal;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.io.NumberOutput;
import tools.jackson.databind.JsonNode;

/**
 * Stable bytes for a JSON value, for digests and the audit hash chain: equal values give equal
 * bytes however they were built.
 *
 * <p>The form:
 *
 * <ul>
 *   <li>UTF-8, no whitespace between tokens;
 *   <li>object members sorted by name, comparing UTF-16 code units ({@link String#compareTo});
 *   <li>strings escape only {@code "}, {@code \} and control characters below U+0020 ({@code \b
 *       \f \n \r \t}, otherwise <code>&#92;u00XX</code> in lowercase hex); an unpaired surrogate is written
 *       as a <code>&#92;uXXXX</code> escape, so distinct strings never share bytes;
 *   <li>numbers are compared by value: {@code 1}, {@code 1.0} and {@code 1E0} all give {@code 1}.
 *       A number is reduced to its shortest decimal ({@link BigDecimal#stripTrailingZeros}; a
 *       {@code double} through {@link Double#toString}) and written without exponent when its
 *       decimal exponent lies in [-7, 21), otherwise as {@code <digits>e<exponent>} with one digit
 *       before the point and a lowercase {@code e} (for example {@code 1.5e300}, {@code 1e-10});
 *       negative zero is {@code 0}. Non-finite doubles, which JSON cannot hold, are written as the
 *       strings {@code "NaN"}, {@code "Infinity"} and {@code "-Infinity"};
 *   <li>binary nodes are written as their base64 text; POJO and missing nodes as {@code null}.
 * </ul>
 *
 * <p>Thread-safe; holds no state.
 */
public final class CanonicalJson {
  private static final String PREFIX = "sha256:";
  private static final HexFormat HEX = HexFormat.of();
  private static final MessageDigest SHA_256_PROTOTYPE = newSha256();
  private static final ThreadLocal<MessageDigest> SHA_256 =
      ThreadLocal.withInitial(CanonicalJson::cloneSha256);

  private CanonicalJson() {}

  /** The canonical UTF-8 bytes of the given value. */
  public static byte[] bytes(JsonNode node) {
    Objects.requireNonNull(node, "node");
    CanonicalWriter writer = new CanonicalWriter(null);
    writer.write(node);
    return writer.toByteArray();
  }

  /**
   * The canonical bytes of an object whose members the caller writes in sorted order, without
   * building a tree first (see {@link AuditEventJson#canonicalBytes}). Not thread-safe; one per
   * call.
   */
  static final class ObjectWriter {
    private final CanonicalWriter writer = new CanonicalWriter(null);
    private boolean first = true;

    ObjectWriter() {
      writer.put((byte) '{');
    }

    private void name(String name) {
      if (!first) {
        writer.put((byte) ',');
      }
      first = false;
      writer.string(name);
      writer.put((byte) ':');
    }

    /** A string member; null is written as {@code null}. */
    ObjectWriter string(String name, @Nullable String value) {
      name(name);
      if (value == null) {
        writer.ascii("null");
      } else {
        writer.string(value);
      }
      return this;
    }

    /** A number member. */
    ObjectWriter number(String name, long value) {
      name(name);
      writer.ascii(Long.toString(value));
      return this;
    }

    /** A decimal member, written by value. */
    ObjectWriter decimal(String name, BigDecimal value) {
      name(name);
      writer.ascii(CanonicalJson.decimal(value));
      return this;
    }

    /** An array of strings. */
    ObjectWriter strings(String name, List<String> values) {
      name(name);
      writer.put((byte) '[');
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          writer.put((byte) ',');
        }
        writer.string(values.get(i));
      }
      writer.put((byte) ']');
      return this;
    }

    /** Any JSON value. */
    ObjectWriter value(String name, JsonNode value) {
      name(name);
      writer.write(value);
      return this;
    }

    /** Closes the object and returns its bytes. */
    byte[] finish() {
      writer.put((byte) '}');
      return writer.toByteArray();
    }
  }

  /** {@code sha256:} followed by the lowercase hex SHA-256 of the value's canonical bytes. */
  public static String sha256(JsonNode node) {
    return digest(node).digest();
  }

  /** {@code sha256:} followed by the lowercase hex SHA-256 of the given bytes. */
  public static String sha256(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    MessageDigest md = SHA_256.get();
    md.reset();
    return PREFIX + HEX.formatHex(md.digest(bytes));
  }

  /**
   * The SHA-256 digest and canonical size of a value, computed without holding its whole
   * canonical form in memory. Unkeyed: for content that is not secret; the trail's digests of
   * arguments and responses are keyed ({@link DigestKey}).
   */
  static Digest digest(JsonNode node) {
    Objects.requireNonNull(node, "node");
    MessageDigest md = SHA_256.get();
    md.reset();
    CanonicalWriter writer = new CanonicalWriter(md::update);
    writer.write(node);
    writer.flush();
    return new Digest(PREFIX + HEX.formatHex(md.digest()), writer.size());
  }

  /**
   * Writes the value's canonical bytes into the digest, without holding them in memory, and
   * answers their number. For {@link DigestKey}.
   */
  static long update(MessageDigest md, JsonNode node) {
    CanonicalWriter writer = new CanonicalWriter(md::update);
    writer.write(node);
    writer.flush();
    return writer.size();
  }

  /** The length in bytes of the value's canonical form, without building it. */
  static long size(JsonNode node) {
    CanonicalWriter writer = new CanonicalWriter((b, off, len) -> { });
    writer.write(node);
    writer.flush();
    return writer.size();
  }

  /**
   * A digest text and the length in bytes of the canonical form it was computed over.
   *
   * @param digest the digest text, such as {@code hmac-sha256:<key id>:<hex>}
   * @param size the length of the value's canonical form, in bytes
   */
  public record Digest(String digest, long size) {
    /** Validates. */
    public Digest {
      Objects.requireNonNull(digest, "digest");
      if (size < 0) {
        throw new IllegalArgumentException("size must not be negative, got " + size);
      }
    }
  }

  /** Where a {@link CanonicalWriter} sends the bytes when it is not building an array. */
  @FunctionalInterface
  private interface ByteSink {
    void update(byte[] bytes, int offset, int length);
  }

  /**
   * The canonical text of a number, by value (see the class comment), or null for NaN and the
   * infinities, which have none. Package-private so that tests can pin the form.
   */
  static @Nullable String number(JsonNode node) {
    if (node.isIntegralNumber() && node.canConvertToLong()) {
      return Long.toString(node.longValue());
    }
    if (node.isIntegralNumber()) {
      return decimal(new BigDecimal(node.bigIntegerValue()));
    }
    if (node.isDouble() || node.isFloat()) {
      double d = node.doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        return null;
      }
      // Schubfach (shortest round-tripping decimal), not Double.toString, whose output on
      // Java 17 is sometimes longer than needed and differs from later Java versions.
      String text =
          node.isFloat()
              ? NumberOutput.toString(node.floatValue(), true)
              : NumberOutput.toString(d, true);
      return decimal(new BigDecimal(text));
    }
    return decimal(node.decimalValue());
  }

  static String decimal(BigDecimal value) {
    if (value.signum() == 0) {
      return "0";
    }
    BigDecimal v = value.stripTrailingZeros();
    // exponent of the leading digit: 1234.5 -> 3, 0.001 -> -3
    long exponent = (long) v.precision() - v.scale() - 1;
    if (exponent >= -7 && exponent < 21) {
      return v.toPlainString();
    }
    String digits = v.unscaledValue().abs().toString();
    StringBuilder sb = new StringBuilder(digits.length() + 8);
    if (v.signum() < 0) {
      sb.append('-');
    }
    sb.append(digits.charAt(0));
    if (digits.length() > 1) {
      sb.append('.').append(digits, 1, digits.length());
    }
    return sb.append('e').append(exponent).toString();
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 must be available in every Java runtime", e);
    }
  }

  private static MessageDigest cloneSha256() {
    try {
      return (MessageDigest) SHA_256_PROTOTYPE.clone();
    } catch (CloneNotSupportedException e) {
      return newSha256();
    }
  }

  /**
   * Writes the canonical form into a growing buffer, or, when given a sink (a digest, a
   * counter), through a fixed buffer into the sink. Not thread-safe; one per call.
   */
  private static final class CanonicalWriter {
    private static final int CHUNK = 4096;
    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes();

    /** Null when building an array ({@link #toByteArray}). */
    private final @Nullable ByteSink sink;
    private byte[] buf;
    private int pos;
    private long flushed;

    CanonicalWriter(@Nullable ByteSink sink) {
      this.sink = sink;
      this.buf = new byte[256]; // most arguments are small; grows, and when digesting, flushes
    }

    long size() {
      return flushed + pos;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, pos);
    }

    void flush() {
      if (sink != null && pos > 0) {
        sink.update(buf, 0, pos);
        flushed += pos;
        pos = 0;
      }
    }

    private void ensure(int n) {
      if (pos + n <= buf.length) {
        return;
      }
      if (sink != null && buf.length >= CHUNK) {
        flush();
        if (n <= buf.length) {
          return;
        }
      }
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
    }

    void put(byte b) {
      ensure(1);
      buf[pos++] = b;
    }

    void ascii(String s) {
      int n = s.length();
      ensure(n);
      for (int i = 0; i < n; i++) {
        buf[pos++] = (byte) s.charAt(i);
      }
    }

    void write(JsonNode node) {
      switch (node.getNodeType()) {
        case OBJECT:
          writeObject(node);
          break;
        case ARRAY:
          put((byte) '[');
          boolean first = true;
          for (JsonNode element : node) {
            if (!first) {
              put((byte) ',');
            }
            first = false;
            write(element);
          }
          put((byte) ']');
          break;
        case STRING:
          string(node.stringValue());
          break;
        case NUMBER:
          String text = number(node);
          if (text == null) {
            double d = node.doubleValue();
            string(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
          } else {
            ascii(text);
          }
          break;
        case BOOLEAN:
          ascii(node.booleanValue() ? "true" : "false");
          break;
        case BINARY:
          string(java.util.Base64.getEncoder().encodeToString(node.binaryValue()));
          break;
        default:
          ascii("null");
          break;
      }
    }

    private void writeObject(JsonNode node) {
      List<Map.Entry<String, JsonNode>> members = new ArrayList<>(node.properties());
      if (members.size() > 1) {
        members.sort(Map.Entry.comparingByKey());
      }
      put((byte) '{');
      for (int i = 0; i < members.size(); i++) {
        if (i > 0) {
          put((byte) ',');
        }
        string(members.get(i).getKey());
        put((byte) ':');
        write(members.get(i).getValue());
      }
      put((byte) '}');
    }

    void string(String s) {
      put((byte) '"');
      int n = s.length();
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c < 0x80) {
          if (c == '"' || c == '\\') {
            ensure(2);
            buf[pos++] = '\\';
            buf[pos++] = (byte) c;
          } else if (c < 0x20) {
            control(c);
          } else {
            // a run of plain ASCII, the common case, copied without per-character checks
            int end = i + 1;
            while (end < n && end - i < CHUNK) {
              char d = s.charAt(end);
              if (d >= 0x80 || d < 0x20 || d == '"' || d == '\\') {
                break;
              }
              end++;
            }
            ensure(end - i);
            for (int j = i; j < end; j++) {
              buf[pos++] = (byte) s.charAt(j);
            }
            i = end - 1;
          }
        } else if (c < 0x800) {
          ensure(2);
          buf[pos++] = (byte) (0xC0 | (c >> 6));
          buf[pos++] = (byte) (0x80 | (c & 0x3F));
        } else if (Character.isHighSurrogate(c)
            && i + 1 < n
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          int cp = Character.toCodePoint(c, s.charAt(++i));
          ensure(4);
          buf[pos++] = (byte) (0xF0 | (cp >> 18));
          buf[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
          buf[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
          buf[pos++] = (byte) (0x80 | (cp & 0x3F));
        } else if (Character.isSurrogate(c)) {
          unicodeEscape(c);
        } else {
          ensure(3);
          buf[pos++] = (byte) (0xE0 | (c >> 12));
          buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3F));
          buf[pos++] = (byte) (0x80 | (c & 0x3F));
        }
      }
      put((byte) '"');
    }

    private void control(char c) {
      switch (c) {
        case '\b':
          ascii("\\b");
          break;
        case '\f':
          ascii("\\f");
          break;
        case '\n':
          ascii("\\n");
          break;
        case '\r':
          ascii("\\r");
          break;
        case '\t':
          ascii("\\t");
          break;
        default:
          unicodeEscape(c);
          break;
      }
    }

    private void unicodeEscape(char c) {
      ensure(6);
      buf[pos++] = '\\';
      buf[pos++] = 'u';
      buf[pos++] = HEX_DIGITS[(c >> 12) & 0xF];
      buf[pos++] = HEX_DIGITS[(c >> 8) & 0xF];
      buf[pos++] = HEX_DIGITS[(c >> 4) & 0xF];
      buf[pos++] = HEX_DIGITS[c & 0xF];
    }
  }
}
