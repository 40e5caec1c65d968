package dev.sentinel.core.policy;

import dev.sentinel.core.config.YamlDocument.Location;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Finds where a position inside an expression (line and column, as a condition language reports
 * an error) was written in the YAML file, so that an error in {@code when_cel} points at the
 * offending character: {@code policy.yaml:12:31}.
 *
 * <p>Handles plain and quoted scalars on one line, and literal ({@code |}) and folded ({@code >})
 * block scalars without indentation indicators. Every mapping is checked against the expression's
 * text as the YAML parser read it; when they do not agree (escapes it does not follow, a quoted
 * scalar folded over lines, tabs), the answer is {@code null} and the caller falls back to the
 * start of the value. Stateless.
 */
final class ExpressionLocations {
  private ExpressionLocations() {}

  /**
   * The document location of the expression's {@code line}:{@code column} (1-based, columns in
   * code points), or {@code null} if it cannot be told for sure.
   *
   * @param text the whole YAML text
   * @param start where the scalar holding the expression starts (its quote or block indicator)
   * @param expression the scalar's value as parsed
   */
  static @Nullable Location locate(
      String text, Location start, String expression, int line, int column) {
    if (line <= 0 || column <= 0 || start.line() <= 0 || start.column() <= 0) {
      return null;
    }
    List<int[]> lines = lines(text);
    if (start.line() > lines.size()) {
      return null;
    }
    int[] first = lines.get(start.line() - 1);
    int at = start.column() - 1;
    if (at >= first.length) {
      return null;
    }
    int[] value = expression.codePoints().toArray();
    switch (first[at]) {
      case '"':
        return line == 1 ? quoted(first, at, start.line(), value, column, true) : null;
      case '\'':
        return line == 1 ? quoted(first, at, start.line(), value, column, false) : null;
      case '|':
      case '>':
        return block(lines, start, first, at, value, line, column);
      default:
        return line == 1 ? plain(first, at, start.line(), value, column) : null;
    }
  }

  /** A plain scalar on one line: the raw text is the value. */
  private static @Nullable Location plain(int[] raw, int at, int lineNo, int[] value, int column) {
    if (at + value.length > raw.length || column > value.length + 1) {
      return null;
    }
    for (int i = 0; i < value.length; i++) {
      if (raw[at + i] != value[i]) {
        return null;
      }
    }
    return new Location(lineNo, at + column);
  }

  /** A quoted scalar on one line, following the escapes of double or single quotes. */
  private static @Nullable Location quoted(
      int[] raw, int at, int lineNo, int[] value, int column, boolean doubleQuoted) {
    int target = column - 1;
    int r = at + 1;
    int d = 0;
    while (r < raw.length) {
      if (d == target) {
        return new Location(lineNo, r + 1);
      }
      int c = raw[r];
      int width = 1;
      int decoded = c;
      if (doubleQuoted && c == '"' || !doubleQuoted && c == '\'' && !(r + 1 < raw.length
          && raw[r + 1] == '\'')) {
        return null; // the closing quote, short of the target
      }
      if (doubleQuoted && c == '\\') {
        if (r + 1 >= raw.length) {
          return null; // an escaped line break: the value goes on, folded
        }
        int e = raw[r + 1];
        width = e == 'x' ? 4 : e == 'u' ? 6 : e == 'U' ? 10 : 2;
        decoded = -1; // not compared: the escape's meaning is the parser's business
      } else if (!doubleQuoted && c == '\'') {
        width = 2;
      }
      if (d >= value.length || decoded >= 0 && value[d] != decoded) {
        return null;
      }
      r += width;
      d++;
    }
    return null; // the scalar goes on to the next line
  }

  /** A literal or folded block scalar: the expression's lines are the block's content lines. */
  private static @Nullable Location block(
      List<int[]> lines, Location start, int[] header, int at, int[] value, int line, int column) {
    boolean folded = header[at] == '>';
    for (int i = at + 1; i < header.length && header[i] != '#'; i++) {
      if (Character.isDigit(header[i])) {
        return null; // an explicit indentation indicator
      }
    }
    int firstContent = start.line(); // 0-based index of the line after the header
    int indent = -1;
    for (int i = firstContent; i < lines.size(); i++) {
      int[] l = lines.get(i);
      int spaces = leadingSpaces(l);
      if (spaces < l.length) {
        indent = spaces;
        break;
      }
    }
    if (indent <= 0) {
      return null;
    }
    // The block's content lines, without indentation; it ends at a less indented text line.
    List<int[]> content = new ArrayList<>();
    for (int i = firstContent; i < lines.size(); i++) {
      int[] l = lines.get(i);
      int spaces = leadingSpaces(l);
      if (spaces < l.length && spaces < indent) {
        break;
      }
      if (spaces < l.length && (l[spaces] == '\t' || folded && spaces > indent)) {
        return null; // tabs, and more-indented lines of a folded block, are not followed
      }
      content.add(Arrays.copyOfRange(l, Math.min(indent, l.length), l.length));
    }
    while (!content.isEmpty() && content.get(content.size() - 1).length == 0) {
      content.remove(content.size() - 1);
    }
    if (folded && blankInside(content)) {
      return null; // blank lines of a folded block turn into line breaks: not followed
    }
    // Rebuild the value as the parser did (before chomping): a literal block keeps its line
    // breaks, a folded one (without blank or more-indented lines) joins its lines with spaces.
    int[] lineStarts = new int[content.size()];
    int length = 0;
    for (int i = 0; i < content.size(); i++) {
      length += i > 0 ? 1 : 0;
      lineStarts[i] = length;
      length += content.get(i).length;
    }
    int[] built = new int[length];
    for (int i = 0; i < content.size(); i++) {
      if (i > 0) {
        built[lineStarts[i] - 1] = folded ? ' ' : '\n';
      }
      System.arraycopy(content.get(i), 0, built, lineStarts[i], content.get(i).length);
    }
    int valueLength = value.length;
    while (valueLength > 0 && value[valueLength - 1] == '\n') {
      valueLength--; // chomping clips or keeps the trailing line breaks
    }
    if (!Arrays.equals(built, 0, built.length, value, 0, valueLength)) {
      return null;
    }
    int offset = offsetOf(value, line, column);
    if (offset < 0) {
      return null;
    }
    for (int i = lineStarts.length - 1; i >= 0; i--) {
      if (offset >= lineStarts[i]) {
        int within = offset - lineStarts[i];
        if (within > content.get(i).length) {
          return null;
        }
        return new Location(start.line() + 1 + i, indent + within + 1);
      }
    }
    return null;
  }

  private static boolean blankInside(List<int[]> content) {
    for (int[] line : content) {
      if (line.length == 0) {
        return true;
      }
    }
    return false;
  }

  /** The code-point offset of a 1-based line and column in the value, or -1. */
  private static int offsetOf(int[] value, int line, int column) {
    int offset = 0;
    for (int l = 1; l < line; l++) {
      while (offset < value.length && value[offset] != '\n') {
        offset++;
      }
      if (offset >= value.length) {
        return -1;
      }
      offset++;
    }
    int result = offset + column - 1;
    for (int i = offset; i < result; i++) {
      if (i >= value.length || value[i] == '\n') {
        return i == result ? result : -1;
      }
    }
    return result;
  }

  private static int leadingSpaces(int[] line) {
    int n = 0;
    while (n < line.length && line[n] == ' ') {
      n++;
    }
    return n;
  }

  /** The text's lines as code points, split at YAML line breaks. */
  private static List<int[]> lines(String text) {
    List<int[]> out = new ArrayList<>();
    for (String line : text.split("\r\n|\r|\n", -1)) {
      out.add(line.codePoints().toArray());
    }
    return out;
  }
}
