package dev.sentinel.core.operator;

import dev.sentinel.api.Outcome;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Which audit records a query or an export wants: every set filter must match; {@code null}
 * matches everything. Built from what an operator typed with {@link #builder(Instant)}, whose
 * setters parse and name the adapter's field in their messages.
 *
 * @param from only records at or after this instant
 * @param to only records before this instant
 * @param principal only this principal's records
 * @param tool only records for this tool, prompt or resource name (as clients see it)
 * @param outcome only records with this outcome
 * @param rule only records this policy rule or limit decided
 * @param limit at most this many records; {@link Long#MAX_VALUE} for all
 * @param newestFirst newest records first, else oldest first
 */
public record AuditFilter(@Nullable Instant from, @Nullable Instant to, @Nullable String principal,
    @Nullable String tool, @Nullable Outcome outcome, @Nullable String rule, long limit, boolean newestFirst) {

  /** Validates. */
  public AuditFilter {
    if (limit < 1) {
      throw OperatorException.invalid("the limit must be at least 1, got " + limit);
    }
    if (from != null && to != null && !to.isAfter(from)) {
      throw OperatorException.invalid("the time range is empty: its end (" + Times.format(to)
          + ") must be after its start (" + Times.format(from) + ")");
    }
  }

  /** This filter with another limit. */
  public AuditFilter withLimit(long limit) {
    return new AuditFilter(from, to, principal, tool, outcome, rule, limit, newestFirst);
  }

  /** A builder that reads relative times ({@code 24h}: a day ago) against {@code now}. */
  public static Builder builder(Instant now) {
    return new Builder(Objects.requireNonNull(now, "now"));
  }

  /**
   * An outcome by name, in any case, with {@code -} for {@code _} ({@code denied}, {@code
   * not-found}).
   *
   * @throws OperatorException ({@code INVALID}) listing the outcomes
   */
  public static Outcome outcome(String field, String text) {
    String wanted = text.strip().replace('-', '_');
    List<String> names = new ArrayList<>();
    for (Outcome o : Outcome.values()) {
      if (o.name().equalsIgnoreCase(wanted)) {
        return o;
      }
      names.add(o.name().toLowerCase(Locale.ROOT));
    }
    throw OperatorException.invalid(field + ": unknown outcome '" + text + "' (expected one of "
        + String.join(", ", names) + ")");
  }

  /** Assembles a filter from text; blank texts set nothing. Not thread-safe. */
  public static final class Builder {
    private final Instant now;
    private @Nullable Instant from;
    private @Nullable Instant to;
    private @Nullable String principal;
    private @Nullable String tool;
    private @Nullable Outcome outcome;
    private @Nullable String rule;
    private long limit = Long.MAX_VALUE;
    private boolean newestFirst;

    private Builder(Instant now) {
      this.now = now;
    }

    /** Records at or after a time or a duration ago ({@code 24h}); {@code field} names it. */
    public Builder from(String field, @Nullable String text) {
      this.from = text == null || text.isBlank() ? null
          : Times.time(field, text, now, Times.Direction.AGO);
      return this;
    }

    /** Records before a time or a duration ago; {@code field} names it. */
    public Builder to(String field, @Nullable String text) {
      this.to = text == null || text.isBlank() ? null
          : Times.time(field, text, now, Times.Direction.AGO);
      return this;
    }

    /** Only this principal's records. */
    public Builder principal(@Nullable String principal) {
      this.principal = principal == null || principal.isBlank() ? null : principal;
      return this;
    }

    /** Only this tool's, prompt's or resource's records. */
    public Builder tool(@Nullable String tool) {
      this.tool = tool == null || tool.isBlank() ? null : tool;
      return this;
    }

    /** Only this outcome, by name ({@link AuditFilter#outcome}). */
    public Builder outcome(String field, @Nullable String text) {
      this.outcome = text == null || text.isBlank() ? null : AuditFilter.outcome(field, text);
      return this;
    }

    /** Only records this rule or limit decided. */
    public Builder rule(@Nullable String rule) {
      this.rule = rule == null || rule.isBlank() ? null : rule;
      return this;
    }

    /** At most {@code limit} records, at least 1. */
    public Builder limit(String field, long limit) {
      if (limit < 1) {
        throw OperatorException.invalid(field + " must be at least 1, got " + limit);
      }
      this.limit = limit;
      return this;
    }

    /** At most this many records: a whole number of at least 1; blank sets nothing. */
    public Builder limit(String field, @Nullable String text) {
      if (text == null || text.isBlank()) {
        return this;
      }
      long n;
      try {
        n = Long.parseLong(text.strip());
      } catch (NumberFormatException e) {
        throw OperatorException.invalid(field + " must be a whole number, got '" + text + "'");
      }
      return limit(field, n);
    }

    /** Newest records first (default oldest first). */
    public Builder newestFirst(boolean newestFirst) {
      this.newestFirst = newestFirst;
      return this;
    }

    /**
     * The filter.
     *
     * @throws OperatorException ({@code INVALID}) if the time range is empty
     */
    public AuditFilter build() {
      return new AuditFilter(from, to, principal, tool, outcome, rule, limit, newestFirst);
    }
  }
}
