package dev.sentinel.cli;

import java.util.List;

/**
 * The CLI's tables: left-aligned columns two spaces apart, a line each, line breaks and tabs in
 * values flattened to spaces (a value from a client must not forge a row). Stateless.
 */
final class Columns {
  private Columns() {}

  /** The rows (the first one the header) as text, each line ending with a line separator. */
  static String render(List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        row[i] = row[i].replace('\n', ' ').replace('\r', ' ').replace('\t', ' ');
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        line.append(row[i]);
        if (i < row.length - 1) {
          line.append(" ".repeat(widths[i] - row[i].length() + 2));
        }
      }
      out.append(line.toString().stripTrailing()).append(System.lineSeparator());
    }
    return out.toString();
  }
}
