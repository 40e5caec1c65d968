package dev.sentinel.jdbc;

import dev.sentinel.api.Outcome;
import dev.sentinel.core.audit.CanonicalJson;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.jdbi.v3.core.statement.Query;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * A query over the audit trail: filters, an order and a limit, run against a {@link Database} as
 * a stream, so that exporting millions of records holds only one fetch at a time.
 *
 * <pre>{@code
 * AuditQuery q = AuditQuery.builder().principal("alice").from(Instant.parse("2026-01-01T00:00:00Z"))
 *     .order(AuditQuery.Order.NEWEST_FIRST).limit(100).build();
 * try (AuditWriter out = AuditFormat.TABLE.writer(new PrintWriter(System.out))) {
 *   q.forEach(database, out::write);
 * }
 * }</pre>
 *
 * <p>Records come in chain order ({@code seq}, the order they were written), oldest first unless
 * {@link Order#NEWEST_FIRST}. In durable mode a call leaves an intent record ({@link
 * Outcome#PENDING}) and a final record with the same id: by default a query shows the final
 * record, and the intent only when no final record exists (the call never completed because its
 * process died, or it is still running); {@link Builder#includeIntents} shows both.
 *
 * <p>Filters: the time range is {@code from} inclusive to {@code to} exclusive, on the event's
 * arrival time; principal, tool (the tool, prompt or resource name) and outcome match exactly;
 * rule matches any of the event's deciding rules. Unset filters match everything.
 *
 * <p>Immutable and thread-safe.
 */
public final class AuditQuery {
  /** Records read per read transaction. */
  static final int CHUNK = 1000;

  private static final String ACTION = "query the audit trail";

  private final @Nullable Instant from;
  private final @Nullable Instant to;
  private final @Nullable String principal;
  private final @Nullable String tool;
  private final @Nullable Outcome outcome;
  private final @Nullable String rule;
  private final long limit;
  private final Order order;
  private final boolean includeIntents;

  private AuditQuery(Builder b) {
    this.from = b.from;
    this.to = b.to;
    this.principal = b.principal;
    this.tool = b.tool;
    this.outcome = b.outcome;
    this.rule = b.rule;
    this.limit = b.limit;
    this.order = b.order;
    this.includeIntents = b.includeIntents;
  }

  /** A builder for a query that matches everything, oldest first, without a limit. */
  public static Builder builder() {
    return new Builder();
  }

  /** The order records come in. */
  public enum Order {
    /** By sequence number, ascending: the order they were written. */
    OLDEST_FIRST,
    /** By sequence number, descending. */
    NEWEST_FIRST
  }

  /**
   * Hands each matching record to the consumer, in order, reading them as a stream.
   *
   * @return how many records were handed over
   * @throws DatabaseException if the database cannot be read
   * @throws IllegalArgumentException if a stored record does not hold an audit event
   */
  public long forEach(Database database, Consumer<? super AuditRecord> consumer) {
    Objects.requireNonNull(consumer, "consumer");
    return stream(
        database,
        records -> {
          long[] count = {0};
          records.forEach(
              r -> {
                consumer.accept(r);
                count[0]++;
              });
          return count[0];
        });
  }

  /**
   * Runs a function over the matching records as a stream, read lazily in chunks of {@value
   * #CHUNK} records, each on its own short read transaction, so that a long export never holds a
   * lock a writer waits for; the stream must not escape the function. The records are those up to
   * the newest one when the stream starts (records appended meanwhile are left out); a purge while
   * the stream runs removes the records it deletes from what is still to come.
   *
   * @throws DatabaseException if the database cannot be read
   */
  public <R> R stream(Database database, Function<Stream<AuditRecord>, R> function) {
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(function, "function");
    Long newest = AuditRows.inSnapshot(database, ACTION,
        h -> h.createQuery("SELECT max(seq) FROM sentinel_audit").mapTo(Long.class).one());
    if (newest == null) {
      return function.apply(Stream.empty());
    }
    int chunk = limit > 0 && rule == null ? (int) Math.min(CHUNK, limit) : CHUNK;
    Stream<AuditRecord> records =
        StreamSupport.stream(new Chunks(database, newest, chunk), false);
    Stream<AuditRecord> matching =
        rule == null ? records : records.filter(r -> r.event().rules().contains(rule));
    if (limit > 0) {
      matching = matching.limit(limit);
    }
    return function.apply(matching);
  }

  /** The records, fetched one chunk at a time as the stream asks for them. Not thread-safe. */
  private final class Chunks extends Spliterators.AbstractSpliterator<AuditRecord> {
    private final Database database;
    private final String sql = sql();
    private final int size;
    private final long bound;
    private final ArrayDeque<AuditRecord> buffer = new ArrayDeque<>();
    private long cursor; // the seq of the last record fetched, or just outside the range
    private boolean exhausted;

    Chunks(Database database, long newest, int size) {
      super(Long.MAX_VALUE, Spliterator.ORDERED | Spliterator.NONNULL);
      this.database = database;
      this.size = size;
      this.cursor = order == Order.NEWEST_FIRST ? Long.MAX_VALUE : Long.MIN_VALUE;
      this.bound = newest;
    }

    @Override
    public boolean tryAdvance(Consumer<? super AuditRecord> action) {
      if (buffer.isEmpty() && !exhausted) {
        fetch();
      }
      AuditRecord next = buffer.poll();
      if (next == null) {
        return false;
      }
      action.accept(next);
      return true;
    }

    private void fetch() {
      List<AuditRecord> rows = AuditRows.inSnapshot(database, ACTION, h -> {
        Query q = h.createQuery(sql)
            .bind("cursor", cursor)
            .bind("bound", bound)
            .bind("chunk", size);
        bind(q);
        return q.map((rs, ctx) -> {
          long seq = rs.getLong(1);
          return new AuditRecord(seq, AuditRows.parse(seq, rs.getString(2)));
        }).list();
      });
      buffer.addAll(rows);
      exhausted = rows.size() < size;
      if (!rows.isEmpty()) {
        cursor = rows.get(rows.size() - 1).seq();
      }
    }
  }

  String sql() {
    List<String> where = new ArrayList<>();
    where.add(order == Order.NEWEST_FIRST ? "a.seq < :cursor" : "a.seq > :cursor");
    where.add("a.seq <= :bound");
    if (from != null) {
      where.add("a.time >= :from");
    }
    if (to != null) {
      where.add("a.time < :to");
    }
    if (principal != null) {
      where.add("a.principal = :principal");
    }
    if (tool != null) {
      where.add("a.tool = :tool");
    }
    if (outcome != null) {
      where.add("a.outcome = :outcome");
    }
    if (rule != null) {
      // The column holds the first rule; others are found in the event text, then checked exactly.
      where.add("(a.rule = :rule OR (a.rule IS NOT NULL AND a.event LIKE :rulePattern ESCAPE '!'))");
    }
    if (!includeIntents) {
      // An intent and its final record share the event's arrival time: matching on it lets
      // PostgreSQL read only that time's partition (and the query's range) for the final record.
      where.add(
          "NOT (a.outcome = 'PENDING' AND EXISTS (SELECT 1 FROM sentinel_audit f"
              + " WHERE f.id = a.id AND f.time = a.time AND f.outcome <> 'PENDING'"
              + (from != null ? " AND f.time >= :from" : "")
              + (to != null ? " AND f.time < :to" : "")
              + "))");
    }
    return "SELECT a.seq, a.event FROM sentinel_audit a WHERE " + String.join(" AND ", where)
        + " ORDER BY a.seq" + (order == Order.NEWEST_FIRST ? " DESC" : " ASC") + " LIMIT :chunk";
  }

  private void bind(Query q) {
    if (from != null) {
      q.bind("from", Micros.of(from));
    }
    if (to != null) {
      q.bind("to", Micros.of(to));
    }
    if (principal != null) {
      q.bind("principal", principal);
    }
    if (tool != null) {
      q.bind("tool", tool);
    }
    if (outcome != null) {
      q.bind("outcome", outcome.name());
    }
    if (rule != null) {
      q.bind("rule", rule);
      // The rule as a JSON string, as it appears in the stored event's rules array.
      String json =
          new String(
              CanonicalJson.bytes(JsonNodeFactory.instance.stringNode(rule)),
              StandardCharsets.UTF_8);
      String escaped = json.replace("!", "!!").replace("%", "!%").replace("_", "!_");
      q.bind("rulePattern", "%" + escaped + "%");
    }
  }

  /** Sets the filters of an {@link AuditQuery}; each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private @Nullable Instant from;
    private @Nullable Instant to;
    private @Nullable String principal;
    private @Nullable String tool;
    private @Nullable Outcome outcome;
    private @Nullable String rule;
    private long limit;
    private Order order = Order.OLDEST_FIRST;
    private boolean includeIntents;

    private Builder() {}

    /** Only records that arrived at or after this instant; {@code null} for no lower bound. */
    public Builder from(@Nullable Instant from) {
      this.from = from;
      return this;
    }

    /** Only records that arrived before this instant; {@code null} for no upper bound. */
    public Builder to(@Nullable Instant to) {
      this.to = to;
      return this;
    }

    /** Only this principal's records; {@code null} for all. */
    public Builder principal(@Nullable String principal) {
      this.principal = principal;
      return this;
    }

    /** Only records for this tool, prompt or resource name; {@code null} for all. */
    public Builder tool(@Nullable String tool) {
      this.tool = tool;
      return this;
    }

    /**
     * Only records with this outcome ({@link Outcome#PENDING}: calls that never completed);
     * {@code null} for all.
     */
    public Builder outcome(@Nullable Outcome outcome) {
      this.outcome = outcome;
      return this;
    }

    /** Only records this rule (or limit) decided; {@code null} for all. */
    public Builder rule(@Nullable String rule) {
      this.rule = rule;
      return this;
    }

    /** At most this many records; 0, the default, for no limit. */
    public Builder limit(long limit) {
      if (limit < 0) {
        throw new IllegalArgumentException("limit must not be negative, got " + limit);
      }
      this.limit = limit;
      return this;
    }

    /** The order; {@link Order#OLDEST_FIRST} by default. */
    public Builder order(Order order) {
      this.order = Objects.requireNonNull(order, "order");
      return this;
    }

    /** Whether intent records are shown beside their final records; false by default. */
    public Builder includeIntents(boolean includeIntents) {
      this.includeIntents = includeIntents;
      return this;
    }

    /**
     * Builds the query.
     *
     * @throws IllegalArgumentException if {@code to} is not after {@code from}
     */
    public AuditQuery build() {
      if (from != null && to != null && !to.isAfter(from)) {
        throw new IllegalArgumentException(
            "the time range is empty: 'to' (" + to + ") must be after 'from' (" + from + ")");
      }
      return new AuditQuery(this);
    }
  }
}
