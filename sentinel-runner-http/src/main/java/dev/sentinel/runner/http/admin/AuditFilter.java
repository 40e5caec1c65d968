package dev.sentinel.runner.http.admin;

import dev.sentinel.api.Outcome;
import java.time.Instant;

/**
 * What an audit query asks for: every set filter must match; {@code null} matches everything.
 * Results come newest first.
 *
 * @param since only events at or after this instant
 * @param until only events before this instant
 * @param principal only this principal's events
 * @param tool only events for this tool, prompt or resource name
 * @param outcome only events with this outcome
 * @param rule only events this rule (or limit) decided
 * @param limit at most this many events, 1 to {@link #MAX_LIMIT}
 */
public record AuditFilter(
    Instant since, Instant until, String principal, String tool, Outcome outcome, String rule, int limit) {

  /** The most events one query answers. */
  public static final int MAX_LIMIT = 500;

  /** Validates. */
  public AuditFilter {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be 1 to " + MAX_LIMIT + ", was " + limit);
    }
    if (since != null && until != null && !until.isAfter(since)) {
      throw new IllegalArgumentException(
          "the time range is empty: until (" + until + ") must be after since (" + since + ")");
    }
  }
}
