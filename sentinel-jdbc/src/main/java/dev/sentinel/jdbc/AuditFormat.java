package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.core.audit.AuditEventJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The output formats of {@code sentinel audit query|export}.
 *
 * <p>Thread-safe; each {@link #writer} is not.
 */
public enum AuditFormat {
  /**
   * A fixed-width table for people: seq, time, principal, method, tool, outcome, first rule and
   * latency, one record a line; long values are cut with {@code …}. An intent without a final
   * record shows outcome {@code PENDING}, explained in a note after the last line.
   */
  TABLE,
  /**
   * JSON Lines: each record's event as {@link AuditEventJson#toLine}, one a line ending in {@code
   * \n}, exactly as the JSON Lines audit sink writes it.
   */
  JSONL,
  /**
   * CSV by RFC 4180: a header line, then one line per record, lines ending in CRLF; a field that
   * holds a comma, a double quote, CR or LF is quoted, with its double quotes doubled. Lists (roles,
   * rules) are joined with a space; arguments are their JSON text.
   */
  CSV;

  static final List<String> CSV_COLUMNS =
      List.of(
          "seq", "id", "time", "instance", "principal", "roles", "session", "client", "request_id",
          "method", "backend", "name", "arguments", "arguments_digest", "effect", "rules",
          "reason", "rate_remaining", "retry_after_ms", "outcome", "error_class", "error_message",
          "latency_ms", "response_size", "response_digest", "revision");

  /** A writer of this format onto the output; the caller keeps ownership of the output. */
  public AuditWriter writer(Writer out) {
    Objects.requireNonNull(out, "out");
    switch (this) {
      case TABLE:
        return new TableWriter(out);
      case JSONL:
        return new JsonLinesWriter(out);
      default:
        return new CsvWriter(out);
    }
  }

  /** Milliseconds as plain decimal text, up to six fraction digits. */
  static String millis(Duration d) {
    BigDecimal ms = BigDecimal.valueOf(d.toNanos()).movePointLeft(6).stripTrailingZeros();
    return ms.scale() < 0 ? ms.setScale(0).toPlainString() : ms.toPlainString();
  }

  /** Common plumbing: writes, turning IOExceptions into unchecked ones. */
  private abstract static class Base implements AuditWriter {
    final Writer out;
    boolean started;

    Base(Writer out) {
      this.out = out;
    }

    void put(String text) {
      try {
        out.write(text);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the audit export: " + e.getMessage(), e);
      }
    }

    @Override
    public void finish() {
      try {
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the audit export: " + e.getMessage(), e);
      }
    }
  }

  private static final class JsonLinesWriter extends Base {
    JsonLinesWriter(Writer out) {
      super(out);
    }

    @Override
    public void write(AuditRecord record) {
      put(AuditEventJson.toLine(record.event()) + "\n");
    }
  }

  private static final class CsvWriter extends Base {
    CsvWriter(Writer out) {
      super(out);
    }

    @Override
    public void write(AuditRecord record) {
      if (!started) {
        started = true;
        put(String.join(",", CSV_COLUMNS) + "\r\n");
      }
      AuditEvent e = record.event();
      String[] fields = {
        Long.toString(record.seq()),
        e.id(),
        e.time().toString(),
        e.instance(),
        e.principal(),
        String.join(" ", e.roles()),
        e.session(),
        e.client(),
        e.requestId(),
        e.method(),
        e.backend(),
        e.name(),
        AuditEventJson.toJson(e).get("arguments").toString(),
        e.argumentsDigest(),
        e.effect() == null ? null : e.effect().name(),
        String.join(" ", e.rules()),
        e.reason(),
        Long.toString(e.rateRemaining()),
        millis(e.retryAfter()),
        e.outcome().name(),
        e.errorClass(),
        e.errorMessage(),
        millis(e.latency()),
        Long.toString(e.responseSize()),
        e.responseDigest(),
        e.revision()
      };
      StringBuilder line = new StringBuilder(256);
      for (int i = 0; i < fields.length; i++) {
        if (i > 0) {
          line.append(',');
        }
        line.append(quote(fields[i]));
      }
      put(line.append("\r\n").toString());
    }

    @Override
    public void finish() {
      if (!started) {
        started = true;
        put(String.join(",", CSV_COLUMNS) + "\r\n");
      }
      super.finish();
    }
  }

  /** A CSV field by RFC 4180: quoted when it must be, double quotes doubled; null is empty. */
  static String quote(String field) {
    if (field == null) {
      return "";
    }
    boolean plain = true;
    for (int i = 0; i < field.length() && plain; i++) {
      char c = field.charAt(i);
      plain = c != ',' && c != '"' && c != '\r' && c != '\n';
    }
    return plain ? field : '"' + field.replace("\"", "\"\"") + '"';
  }

  private static final class TableWriter extends Base {
    private static final String FORMAT = "%8s  %-24s  %-16s  %-14s  %-24s  %-12s  %-20s  %10s%n";
    private boolean sawPending;

    TableWriter(Writer out) {
      super(out);
    }

    @Override
    public void write(AuditRecord record) {
      if (!started) {
        started = true;
        put(String.format(FORMAT, "SEQ", "TIME", "PRINCIPAL", "METHOD", "TOOL", "OUTCOME",
            "RULE", "LATENCY_MS"));
      }
      AuditEvent e = record.event();
      sawPending |= record.pending();
      put(String.format(FORMAT,
          record.seq(),
          cut(e.time().toString(), 24),
          cut(e.principal(), 16),
          cut(e.method(), 14),
          cut(e.name(), 24),
          e.outcome().name(),
          cut(e.rules().isEmpty() ? null : e.rules().get(0), 20),
          cut(millis(e.latency()), 10)));
    }

    @Override
    public void finish() {
      if (!started) {
        started = true;
        put("(no matching audit records)" + System.lineSeparator());
      }
      if (sawPending) {
        sawPending = false;
        put("PENDING: recorded before forwarding, with no final record: the call never completed"
            + " (its process stopped) or is still running." + System.lineSeparator());
      }
      super.finish();
    }

    private static String cut(@Nullable String value, int width) {
      if (value == null) {
        return "-";
      }
      String oneLine = value.replace('\n', ' ').replace('\r', ' ').replace('\t', ' ');
      return oneLine.length() <= width ? oneLine : oneLine.substring(0, width - 1) + "…";
    }
  }
}
