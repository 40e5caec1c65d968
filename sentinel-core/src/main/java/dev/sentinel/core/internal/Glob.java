package dev.sentinel.core.internal;

import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A compiled glob, in one of two flavours. {@linkplain #compile Path globs}: {@code *} matches
 * any run of characters except {@code /}, {@code **} any run including {@code /}, {@code ?} one
 * character except {@code /} (shell semantics: {@code /workspace/**}). {@linkplain #name Name
 * globs}, for tool, prompt, backend and principal names: every wildcard crosses {@code /}, so a
 * name that happens to contain a slash cannot slip past {@code db__*}. In both, {@code \}
 * escapes the next character.
 *
 * <p>Literal globs and globs that are a literal followed by a single trailing {@code *} or
 * {@code **} are matched without regular expressions. Immutable and thread-safe.
 */
public final class Glob {
  private final String text;
  private final @Nullable String literal;
  private final @Nullable String prefix;
  private final boolean prefixCrossesSlash;
  private final @Nullable Pattern pattern;
  private final boolean names;

  private Glob(String text, boolean names) {
    this.text = text;
    this.names = names;
    String unescaped = literalOrNull(text);
    if (unescaped != null) {
      literal = unescaped;
      prefix = null;
      prefixCrossesSlash = false;
      pattern = null;
      return;
    }
    literal = null;
    String head = trailingStarPrefix(text);
    if (head != null) {
      prefix = head;
      prefixCrossesSlash = names || text.endsWith("**");
      pattern = null;
    } else {
      prefix = null;
      prefixCrossesSlash = false;
      pattern = Pattern.compile(toRegex(text, names), Pattern.DOTALL);
    }
  }

  /** Compiles a path glob: single wildcards stop at {@code /}. */
  public static Glob compile(String text) {
    Objects.requireNonNull(text, "glob");
    return new Glob(text, false);
  }

  /** Compiles a name glob: every wildcard matches {@code /} too. */
  public static Glob name(String text) {
    Objects.requireNonNull(text, "glob");
    return new Glob(text, true);
  }

  /** Whether the glob contains no wildcard, so that it matches exactly one string. */
  public boolean isLiteral() {
    return literal != null;
  }

  /**
   * The literal characters before the first wildcard (all of it for a literal glob); every match
   * starts with it, which lets indexes narrow candidates.
   */
  public String literalPrefix() {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '*' || c == '?') {
        break;
      }
      if (c == '\\' && i + 1 < text.length()) {
        c = text.charAt(++i);
      }
      out.append(c);
    }
    return out.toString();
  }

  /** Whether the value matches the whole glob. */
  public boolean matches(@Nullable String value) {
    if (value == null) {
      return false;
    }
    if (literal != null) {
      return literal.equals(value);
    }
    if (prefix != null) {
      return value.startsWith(prefix)
          && (prefixCrossesSlash || value.indexOf('/', prefix.length()) < 0);
    }
    return pattern != null && pattern.matcher(value).matches();
  }

  /** The glob as written. */
  @Override
  public String toString() {
    return text;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Glob && ((Glob) other).text.equals(text) && ((Glob) other).names == names;
  }

  @Override
  public int hashCode() {
    return text.hashCode() * 31 + (names ? 1 : 0);
  }

  private static @Nullable String literalOrNull(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '*' || c == '?') {
        return null;
      }
      if (c == '\\' && i + 1 < text.length()) {
        c = text.charAt(++i);
      }
      out.append(c);
    }
    return out.toString();
  }

  /** The literal head of {@code head*} or {@code head**}, or null if the glob is another shape. */
  private static @Nullable String trailingStarPrefix(String text) {
    int stars = text.endsWith("**") ? 2 : text.endsWith("*") ? 1 : 0;
    if (stars == 0) {
      return null;
    }
    String head = text.substring(0, text.length() - stars);
    if (head.endsWith("\\")) {
      return null;
    }
    return literalOrNull(head);
  }

  private static String toRegex(String glob, boolean names) {
    String one = names ? "." : "[^/]";
    StringBuilder regex = new StringBuilder(glob.length() * 2);
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          regex.append(".*");
          i++;
        } else {
          regex.append(one).append('*');
        }
      } else if (c == '?') {
        regex.append(one);
      } else {
        if (c == '\\' && i + 1 < glob.length()) {
          c = glob.charAt(++i);
        }
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return regex.toString();
  }
}
