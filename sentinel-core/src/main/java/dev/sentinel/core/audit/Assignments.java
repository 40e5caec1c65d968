package dev.sentinel.core.audit;

import java.util.Locale;

/**
 * Credentials assigned to a name in free text: {@code Password=...;} in a connection string,
 * {@code ?token=...&} in a query, {@code X-Api-Key: ...} in a header, {@code DB_PASSWORD=...} in
 * an environment, {@code password: ...} in YAML, {@code "password": "..."} in JSON held as text,
 * {@code --password ...} on a command line, {@code <password>...</password>} in XML, and the
 * credentials of {@code Authorization:} and {@code Cookie:} headers. The value is replaced; the name, the separator, the quotes and an
 * authorization scheme ({@code Basic}, {@code Bearer} ...) stay.
 *
 * <p>The name is the run of {@code [A-Za-z0-9_.-]} just before {@code =} or {@code :} (after at
 * most 8 spaces and one closing quote), after {@code --} on a command line, or of an XML start
 * tag. Lowercased and
 * without {@code _ - .}, it must end with one of {@code password passwd pwd passphrase secret
 * apikey accesskey secretkey privatekey sessionid sessid authorization}, or with {@code token}
 * after other characters ({@code access_token}, {@code X-Auth-Token}); or be {@code cookie} or
 * {@code set-cookie}. Before {@code =} only (query parameters, flags), {@code token}, {@code auth}
 * and {@code sig} alone and names ending in {@code signature} count too, so that {@code
 * Unexpected token: }} stays readable. A word without a separator ({@code password reset})
 * never counts.
 *
 * <p>The value starts after the separator (and at most 8 spaces): inside quotes, up to the
 * closing quote or the end of the line; inside braces (ODBC), up to the closing brace; in an XML
 * element, up to the next {@code <}; for
 * {@code Authorization:} and {@code Cookie:}, up to the end of the line; otherwise up to
 * whitespace or one of {@code ; & " ' < > …}. A value that is already {@value
 * Redactor#REDACTED} is left alone, so redacting again changes nothing.
 *
 * <p>One left-to-right pass that resumes after each value, and a name is read back at most
 * {@value #MAX_NAME} characters, so the time is linear in the text.
 * Stateless; thread-safe.
 */
final class Assignments {
  private static final int MAX_NAME = 64;
  private static final int MAX_SPACES = 8;
  private static final int MAX_SCHEME = 24;

  /** Normalized name endings that make any assignment a credential. */
  private static final String[] ENDINGS = {
      "password", "passwd", "pwd", "passphrase", "secret", "apikey", "accesskey", "secretkey",
      "privatekey", "sessionid", "sessid"};

  /** Authorization schemes kept in front of the redacted credentials. */
  private static final String[] SCHEMES = {
      "basic", "bearer", "digest", "negotiate", "ntlm", "token", "dpop", "hoba", "mutual",
      "aws4-hmac-sha256", "apikey", "gnap"};

  private enum Kind {
    NONE, VALUE, AUTHORIZATION, COOKIE
  }

  private Assignments() {}

  /**
   * Whether the {@code =} or {@code :} at {@code i} follows a credential's name, or a credential
   * flag starts at {@code i}: the check of the one-pass pre-scan.
   */
  static boolean at(String s, int i) {
    char c = s.charAt(i);
    return (c == '-' ? flagAt(s, i) : c == '>' ? elementBefore(s, i) : kindBefore(s, i))
        != Kind.NONE;
  }

  /** Adds the range of every assigned credential's value in {@code s} to {@code out}. */
  static void spans(String s, Spans out) {
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      int start = -1;
      int end = -1;
      if (c == '=' || c == ':') {
        Kind kind = kindBefore(s, i);
        if (kind != Kind.NONE) {
          long range = value(s, separatorEnd(s, i), kind);
          start = (int) (range >>> 32);
          end = (int) range;
        }
      } else if (c == '>' && elementBefore(s, i) != Kind.NONE) {
        start = i + 1;
        end = start;
        while (end < n && s.charAt(end) != '<') {
          end++;
        }
      } else if (c == '-' && flagAt(s, i) != Kind.NONE) {
        int nameEnd = nameEnd(s, i);
        if (nameEnd < n && (s.charAt(nameEnd) == ' ' || s.charAt(nameEnd) == '\t')) {
          int k = skipSpaces(s, nameEnd);
          if (k < n && s.charAt(k) != '-') {
            long range = value(s, k, Kind.VALUE);
            start = (int) (range >>> 32);
            end = (int) range;
          }
        }
        if (end <= start) {
          i = nameEnd; // "--token=x" is an assignment, handled at its '='
          continue;
        }
      }
      if (end <= start) {
        i++;
        continue;
      }
      boolean already = end - start == Redactor.REDACTED.length()
          && s.startsWith(Redactor.REDACTED, start);
      if (!already) {
        out.add(start, end);
      }
      i = end;
    }
  }

  /** What the name before the separator at {@code sep} makes of the value after it. */
  private static Kind kindBefore(String s, int sep) {
    boolean equalsSign = s.charAt(sep) == '=';
    if (!equalsSign && s.startsWith("//", sep + 1)) {
      return Kind.NONE; // a URL's scheme
    }
    int end = sep;
    int spaces = 0;
    while (end > 0 && spaces < MAX_SPACES && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
      end--;
      spaces++;
    }
    if (end > 0 && (s.charAt(end - 1) == '"' || s.charAt(end - 1) == '\'')) {
      end--;
      if (end > 0 && s.charAt(end - 1) == '\\') {
        end--; // JSON held in a string of JSON: {\"password\":\"...\"}
      }
    }
    int start = end;
    while (start > 0 && end - start < MAX_NAME && isNameChar(s.charAt(start - 1))) {
      start--;
    }
    return start == end ? Kind.NONE : kind(s, start, end, equalsSign);
  }

  /**
   * The kind of the XML element whose start tag ends at {@code i} ({@code <password>}): its text
   * is the value, as after {@code =}.
   */
  private static Kind elementBefore(String s, int i) {
    int start = i;
    while (start > 0 && i - start < MAX_NAME && isNameChar(s.charAt(start - 1))) {
      start--;
    }
    return start < i && start > 0 && s.charAt(start - 1) == '<' ? kind(s, start, i, true)
        : Kind.NONE;
  }

  /** The kind of a {@code --flag} at {@code i}: its value is the next word, as after {@code =}. */
  private static Kind flagAt(String s, int i) {
    if (!s.startsWith("--", i) || i > 0 && isNameChar(s.charAt(i - 1))) {
      return Kind.NONE;
    }
    int end = nameEnd(s, i);
    return end - i > 2 ? kind(s, i, end, true) : Kind.NONE;
  }

  private static int nameEnd(String s, int i) {
    int end = i;
    while (end < s.length() && end - i < MAX_NAME && isNameChar(s.charAt(end))) {
      end++;
    }
    return end;
  }

  /** The kind of the name in {@code [start, end)}, by its normalized ending. */
  private static Kind kind(String s, int start, int end, boolean equalsSign) {
    for (String ending : ENDINGS) {
      if (endsWith(s, start, end, ending)) {
        return Kind.VALUE;
      }
    }
    if (endsWith(s, start, end, "authorization")) {
      return equalsSign ? Kind.VALUE : Kind.AUTHORIZATION; // "?authorization=" is a parameter
    }
    int length = normalizedLength(s, start, end);
    if (endsWith(s, start, end, "token") && (length > 5 || equalsSign)) {
      return Kind.VALUE;
    }
    if (length == 6 && endsWith(s, start, end, "cookie")
        || length == 9 && endsWith(s, start, end, "setcookie")) {
      return equalsSign ? Kind.VALUE : Kind.COOKIE;
    }
    if (equalsSign && (endsWith(s, start, end, "signature")
        || length == 4 && endsWith(s, start, end, "auth")
        || length == 3 && endsWith(s, start, end, "sig"))) {
      return Kind.VALUE;
    }
    return Kind.NONE;
  }

  /**
   * Whether the name in {@code [start, end)}, lowercased and without {@code _ - .}, ends with
   * the word; read backwards, without copying.
   */
  private static boolean endsWith(String s, int start, int end, String word) {
    int w = word.length() - 1;
    for (int j = end - 1; j >= start && w >= 0; j--) {
      char c = s.charAt(j);
      if (c == '_' || c == '-' || c == '.') {
        continue;
      }
      if (Character.toLowerCase(c) != word.charAt(w--)) {
        return false;
      }
    }
    return w < 0;
  }

  /** The name's length without {@code _ - .}, counted up to 10. */
  private static int normalizedLength(String s, int start, int end) {
    int length = 0;
    for (int j = end - 1; j >= start && length <= 10; j--) {
      char c = s.charAt(j);
      if (c != '_' && c != '-' && c != '.') {
        length++;
      }
    }
    return length;
  }

  /** Past the separator at {@code sep}, a doubled one ({@code :=}, {@code =>}) and spaces. */
  private static int separatorEnd(String s, int sep) {
    int k = sep + 1;
    if (k < s.length() && (s.charAt(k) == '=' || s.charAt(k) == '>')) {
      k++;
    }
    return skipSpaces(s, k);
  }

  private static int skipSpaces(String s, int k) {
    int spaces = 0;
    while (k < s.length() && spaces < MAX_SPACES && (s.charAt(k) == ' ' || s.charAt(k) == '\t')) {
      k++;
      spaces++;
    }
    return k;
  }

  /**
   * The value starting at {@code k}, as {@code start << 32 | end} ({@code end <= start} when
   * there is none).
   */
  private static long value(String s, int k, Kind kind) {
    int n = s.length();
    if (k >= n) {
      return 0;
    }
    char q = s.charAt(k);
    int start;
    int end;
    if (q == '\\' && k + 1 < n && (s.charAt(k + 1) == '"' || s.charAt(k + 1) == '\'')) {
      start = k + 2;
      end = bracketed(s, start, s.charAt(k + 1));
      if (end > start && s.charAt(end - 1) == '\\') {
        end--; // keep the escape of the closing quote
      }
    } else if (q == '"' || q == '\'') {
      start = k + 1;
      end = bracketed(s, start, q);
    } else if (q == '{' && kind == Kind.VALUE) {
      start = k + 1;
      end = bracketed(s, start, '}');
    } else if (kind == Kind.VALUE) {
      start = k;
      end = k;
      while (end < n && !isValueEnd(s.charAt(end))) {
        end++;
      }
    } else {
      // a header's value runs to the end of its line (or of the quoted text holding it)
      start = k;
      end = k;
      while (end < n && !isLineEnd(s.charAt(end)) && s.charAt(end) != '"' && s.charAt(end) != '\'') {
        end++;
      }
    }
    if (kind == Kind.AUTHORIZATION) {
      start = afterScheme(s, start, end);
    }
    return (long) start << 32 | end;
  }

  /**
   * The end of a value opened by a quote or brace: the closer or the line's end, however far
   * (redacting too much is the safe side; the scan resumes after it, so the whole stays linear).
   */
  private static int bracketed(String s, int start, char closer) {
    int end = start;
    while (end < s.length() && s.charAt(end) != closer && !isLineEnd(s.charAt(end))) {
      end++;
    }
    return end;
  }

  /** Past a known authorization scheme and its spaces, when one starts the value. */
  private static int afterScheme(String s, int start, int end) {
    int k = start;
    while (k < end && k - start < MAX_SCHEME && s.charAt(k) != ' ' && s.charAt(k) != '\t') {
      k++;
    }
    if (k == start || k >= end) {
      return start;
    }
    String word = s.substring(start, k).toLowerCase(Locale.ROOT);
    for (String scheme : SCHEMES) {
      if (scheme.equals(word)) {
        int after = skipSpaces(s, k);
        return after < end ? after : start;
      }
    }
    return start;
  }

  private static boolean isNameChar(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
        || c == '_' || c == '-' || c == '.';
  }

  private static boolean isLineEnd(char c) {
    return c == '\n' || c == '\r';
  }

  private static boolean isValueEnd(char c) {
    return Character.isWhitespace(c) || c == ';' || c == '&' || c == '"' || c == '\''
        || c == '<' || c == '>' || c == '…';
  }
}
