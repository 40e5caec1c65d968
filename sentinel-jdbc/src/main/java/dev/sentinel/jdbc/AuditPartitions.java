package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The monthly partitions of the audit table on PostgreSQL (schema 5): {@code sentinel_audit} is
 * partitioned by range on {@code time} (the record's arrival time, microseconds since the epoch,
 * UTC), one partition per calendar month ({@code sentinel_audit_y2026m03} holds March 2026), a
 * default partition {@code sentinel_audit_default} for any time no month partition covers, and,
 * in a database upgraded from schema 3, {@code sentinel_audit_legacy}: the old table, attached
 * as it was for every time before the first month after its newest record.
 *
 * <p>{@link #maintain} creates the partitions of this month and the next {@value #AHEAD} ahead
 * of time, and moves any rows the default partition caught (a clock far off, a record from
 * before the first partition) into month partitions of their own. It runs when the schema is
 * migrated, when a gateway opens its audit sink, and in the gateway's housekeeping every minute
 * ({@link JdbcStores#sweep}), never on the request path. An insert never waits for it: a time no
 * partition covers lands in the default partition, and is moved at the next run.
 *
 * <p>Every change takes the chain's row lock first (as writers and {@link AuditRetention} do),
 * then the tables' locks, with a lock time-out of {@value #LOCK_TIMEOUT_MS} ms: a run that cannot
 * get them gives up, changing nothing, and is tried again at the next run. SQLite's table is not
 * partitioned; everything here does nothing there.
 *
 * <p>An embedder that writes with {@link JdbcAuditSink} but runs no gateway calls {@link
 * #maintain(Database)} (or {@link JdbcStores#sweep}) now and then: hourly is plenty, with two
 * months made ahead. Without it records still land, in the default partition.
 *
 * <p>Thread-safe; holds no state.
 */
public final class AuditPartitions {
  private static final Logger LOG = LoggerFactory.getLogger(AuditPartitions.class);

  /** The parent table. */
  static final String TABLE = "sentinel_audit";

  /** The partition for times no other partition covers. */
  static final String DEFAULT = "sentinel_audit_default";

  /** The pre-partitioning table of an upgraded database, attached for the times before it. */
  static final String LEGACY = "sentinel_audit_legacy";

  /** Months created ahead of the current one. */
  static final int AHEAD = 2;

  /** How long housekeeping waits for a lock before it gives up until the next run. */
  static final long LOCK_TIMEOUT_MS = 5_000;

  private static final Pattern RANGE =
      Pattern.compile("FOR VALUES FROM \\(([^)]*)\\) TO \\(([^)]*)\\)");

  private AuditPartitions() {}

  /**
   * One partition of the audit table: rows with {@code from <= time < to}; {@link Long#MIN_VALUE}
   * for an open lower end (MINVALUE); both {@code null} for the default partition.
   */
  record Partition(String name, @Nullable Long from, @Nullable Long to) {
    boolean isDefault() {
      return from == null;
    }

    /** The lower bound of a partition that is not the default. */
    long lower() {
      return Objects.requireNonNull(from, "the default partition has no bounds");
    }

    /** The upper bound of a partition that is not the default. */
    long upper() {
      return Objects.requireNonNull(to, "the default partition has no bounds");
    }
  }

  /** Whether the database's audit table is partitioned (PostgreSQL, schema 5 on). */
  static boolean partitioned(Handle h, Dialect dialect) {
    if (dialect != Dialect.POSTGRESQL) {
      return false;
    }
    return h.createQuery("SELECT count(*) > 0 FROM pg_partitioned_table p JOIN pg_class c"
            + " ON c.oid = p.partrelid WHERE c.relname = :table"
            + " AND c.relnamespace = to_regnamespace(current_schema())")
        .bind("table", TABLE)
        .mapTo(boolean.class)
        .one();
  }

  /** The partitions of the audit table, ordered by their lower bound, the default last. */
  static List<Partition> list(Handle h) {
    List<Partition> partitions =
        h.createQuery("SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
                + " JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
                + " WHERE p.relname = :table AND p.relnamespace = to_regnamespace(current_schema())")
            .bind("table", TABLE)
            .map((rs, ctx) -> partition(rs.getString(1), rs.getString(2)))
            .list();
    List<Partition> sorted = new ArrayList<>(partitions);
    sorted.sort(Comparator.comparing((Partition p) -> p.isDefault())
        .thenComparing(p -> p.from() == null ? 0L : p.from()));
    return sorted;
  }

  static Partition partition(String name, String bound) {
    if (bound.equals("DEFAULT")) {
      return new Partition(name, null, null);
    }
    Matcher m = RANGE.matcher(bound);
    if (!m.matches()) {
      throw new IllegalStateException("partition " + name + " of " + TABLE
          + " has a bound Sentinel did not make: " + bound);
    }
    return new Partition(name, value(m.group(1), Long.MIN_VALUE), value(m.group(2), Long.MAX_VALUE));
  }

  private static long value(String text, long unbounded) {
    String v = text.strip().replace("'", "");
    if (v.equals("MINVALUE") || v.equals("MAXVALUE")) {
      return unbounded;
    }
    return Long.parseLong(v);
  }

  /** The first microsecond of the month holding {@code micros}. */
  static long monthStart(long micros) {
    YearMonth month = YearMonth.from(Micros.toInstant(micros).atZone(ZoneOffset.UTC));
    return micros(month);
  }

  /** The first microsecond of the month after the one holding {@code micros}. */
  static long nextMonthStart(long micros) {
    YearMonth month = YearMonth.from(Micros.toInstant(micros).atZone(ZoneOffset.UTC));
    return micros(month.plusMonths(1));
  }

  private static long micros(YearMonth month) {
    Instant start = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    return Micros.at(start);
  }

  /** The name of the partition of the month starting at {@code from}. */
  static String name(long from) {
    LocalDate day = Micros.toInstant(from).atZone(ZoneOffset.UTC).toLocalDate();
    return String.format("%s_y%04dm%02d", TABLE, day.getYear(), day.getMonthValue());
  }

  /**
   * Creates the audit table's partitions of this month (by the system clock) and the next
   * {@value #AHEAD}, and moves the rows of the default partition into month partitions; does
   * nothing on SQLite or when there is nothing to do (which it finds out without taking a lock).
   *
   * @return how many partitions were created
   * @throws DatabaseException if the database cannot be read or changed (a lock not granted in
   *     time included); nothing was changed then
   */
  public static int maintain(Database database) {
    return maintain(database, Clock.system());
  }

  /**
   * Like {@link #maintain(Database)}, with the month taken from the clock.
   *
   * @return how many partitions were created
   * @throws DatabaseException if the database cannot be read or changed (a lock not granted in
   *     time included); nothing was changed then
   */
  static int maintain(Database database, Clock clock) {
    Objects.requireNonNull(database, "database");
    if (database.dialect() != Dialect.POSTGRESQL) {
      return 0;
    }
    long now = Micros.at(clock.instant());
    List<long[]> missing = database.withHandle("read the audit table's partitions",
        h -> partitioned(h, database.dialect()) ? missing(h, now) : List.of());
    if (missing.isEmpty()) {
      return 0;
    }
    int created = database.inTransaction("create partitions of the audit table", h -> {
      lockChain(h);
      int n = 0;
      for (long[] month : missing(h, now)) { // again, under the lock
        create(h, month[0], month[1]);
        n++;
      }
      return n;
    });
    if (created > 0) {
      LOG.info("created {} partitions of the audit table {}", created, TABLE);
    }
    return created;
  }

  /** Runs {@link #maintain} in a migration's transaction, which holds the migration lock. */
  static void maintainLocked(Handle h, Clock clock) {
    for (long[] month : missing(h, Micros.at(clock.instant()))) {
      create(h, month[0], month[1]);
    }
  }

  /**
   * The months, as {@code [from, to)}, that need a partition: this one and the next {@value
   * #AHEAD}, and those of the rows in the default partition, less those that a partition covers
   * already (in part: a month that overlaps the legacy table's range is left to it).
   */
  private static List<long[]> missing(Handle h, long now) {
    List<Partition> partitions = list(h);
    List<Long> months = new ArrayList<>();
    long month = monthStart(now);
    for (int i = 0; i <= AHEAD; i++) {
      months.add(month);
      month = nextMonthStart(month);
    }
    boolean hasDefault = partitions.stream().anyMatch(Partition::isDefault);
    if (hasDefault) {
      // The default partition is small (empty but for clock trouble): one scan finds its months.
      months.addAll(h.createQuery("SELECT DISTINCT (extract(epoch FROM date_trunc('month',"
              + " to_timestamp(time / 1000000.0) AT TIME ZONE 'UTC')) * 1000000)::bigint FROM "
              + DEFAULT)
          .mapTo(Long.class)
          .list());
    }
    List<long[]> out = new ArrayList<>();
    for (long from : months.stream().distinct().sorted().toList()) {
      long to = nextMonthStart(from);
      boolean covered = partitions.stream().filter(p -> !p.isDefault())
          .anyMatch(p -> p.lower() < to && from < p.upper());
      if (!covered) {
        out.add(new long[] {from, to});
      }
    }
    return out;
  }

  /**
   * Creates the month partition {@code [from, to)}: a table like the parent, filled with the
   * default partition's rows of that month (moved, in this transaction), then attached.
   */
  private static void create(Handle h, long from, long to) {
    String name = name(from);
    h.execute("CREATE TABLE " + name + " (LIKE " + TABLE
        + " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
    if (list(h).stream().anyMatch(Partition::isDefault)) {
      h.execute("WITH moved AS (DELETE FROM " + DEFAULT + " WHERE time >= " + from
          + " AND time < " + to + " RETURNING *) INSERT INTO " + name + " SELECT * FROM moved");
    }
    h.execute("ALTER TABLE " + TABLE + " ATTACH PARTITION " + name + " FOR VALUES FROM (" + from
        + ") TO (" + to + ")");
  }

  /** Takes the chain's row lock, so that no writer or purge runs meanwhile, with a time-out. */
  static void lockChain(Handle h) {
    h.execute("SET LOCAL lock_timeout = " + LOCK_TIMEOUT_MS);
    h.createQuery("SELECT head_seq FROM sentinel_audit_chain WHERE name = :name FOR UPDATE")
        .bind("name", AuditChain.NAME)
        .mapTo(long.class)
        .findOne()
        .orElseThrow(() -> new IllegalStateException("the audit chain row is missing"));
  }

  /**
   * Schema 5's step after its SQL: the old table, renamed {@value #LEGACY}, becomes the partition
   * for every time before the month after its newest record (or is dropped when empty); then
   * this month's partitions are made.
   */
  static void migrate(Handle h, Clock clock) {
    Long newest = h.createQuery("SELECT max(time) FROM " + LEGACY).mapTo(Long.class).one();
    if (newest == null) {
      h.execute("DROP TABLE " + LEGACY);
    } else {
      // Attaching checks every row against the bound (one scan) and builds the parent's
      // (seq, time) key on the old table: a one-off, proportional to the trail's size.
      h.execute("ALTER TABLE " + TABLE + " ATTACH PARTITION " + LEGACY
          + " FOR VALUES FROM (MINVALUE) TO (" + nextMonthStart(newest) + ")");
    }
    maintainLocked(h, clock);
  }
}
