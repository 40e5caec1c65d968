package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Iterator;
import java.util.Objects;
import java.util.stream.Stream;
import org.jdbi.v3.core.Handle;

/**
 * Proves a {@link JdbcAuditSink} trail intact, or names the first record that is not.
 *
 * <p>{@link #verify} reads the chain's base and head from {@code sentinel_audit_chain} and every
 * record in sequence order, on one consistent snapshot (writers are not blocked), and for each
 * record checks, in this order:
 *
 * <ol>
 *   <li>it lies after the base and at or before the head (a record outside is inserted);
 *   <li>its sequence number is the next one (a gap means the missing records were deleted; the
 *       first missing one is named);
 *   <li>its {@code prev_hash} is the hash of the record before it, or the base hash for the first
 *       (otherwise records were inserted, removed or reordered here; when two records continue
 *       from the same hash, the first of them is named as inserted);
 *   <li>its {@code hash} is the hash of its {@code prev_hash}, sequence number and {@code event}
 *       text (otherwise the record was edited);
 *   <li>its filter columns (id, time, principal, session, method, backend, tool, outcome, rule,
 *       instance) agree with its event (otherwise a column was edited).
 * </ol>
 *
 * Finally the last record must be the head, with the head's hash (otherwise records were deleted
 * from the end, or the last replaced). The hash is defined in {@link JdbcAuditSink}.
 *
 * <p>What the chain proves: nobody changed, removed, added or reordered records without also
 * recomputing every hash after the change and updating the chain row. Someone with write access
 * to the database can do that; copying the head hash elsewhere from time to time (a log, a
 * ticket) closes that gap.
 *
 * <p>Thread-safe; holds no state.
 */
public final class AuditVerifier {
  private static final String COLUMNS =
      "seq, id, time, principal, session, method, backend, tool, outcome, rule, instance, event,"
          + " prev_hash, hash";

  private AuditVerifier() {}

  /**
   * Verifies the store's whole chain from its base.
   *
   * @throws DatabaseException if the database cannot be read
   */
  public static VerifyReport verify(Database database) {
    Objects.requireNonNull(database, "database");
    return AuditRows.inSnapshot(database, "verify the audit trail", AuditVerifier::verify);
  }

  private static VerifyReport verify(Handle h) {
    ChainState chain =
        h.createQuery(
                "SELECT base_seq, base_hash, head_seq, head_hash FROM sentinel_audit_chain"
                    + " WHERE name = :name")
            .bind("name", AuditChain.NAME)
            .map((rs, ctx) -> new ChainState(rs.getLong(1), rs.getString(2), rs.getLong(3),
                rs.getString(4)))
            .findOne()
            .orElse(null);
    if (chain == null) {
      return VerifyReport.broken(
          0, 1, "the chain row '" + AuditChain.NAME + "' is missing from sentinel_audit_chain");
    }
    try (Stream<StoredRow> rows =
        h.createQuery("SELECT " + COLUMNS + " FROM sentinel_audit ORDER BY seq")
            .setFetchSize(AuditRows.FETCH_SIZE)
            .map((rs, ctx) -> StoredRow.of(rs))
            .stream()) {
      return new Walk(chain).run(rows.iterator());
    }
  }

  /** The walk along the chain. Not thread-safe; one per verification. */
  private static final class Walk {
    private final ChainState chain;
    private long checked;

    Walk(ChainState chain) {
      this.chain = chain;
    }

    VerifyReport run(Iterator<StoredRow> rows) {
      long expected = chain.baseSeq() + 1;
      String running = chain.baseHash();
      StoredRow previous = null;
      while (rows.hasNext()) {
        StoredRow row = rows.next();
        checked++;
        long seq = row.seq();
        if (seq <= chain.baseSeq()) {
          return bad(seq, "record " + seq + " lies at or before the chain's base (seq "
              + chain.baseSeq() + ", where retention last purged): it was inserted");
        }
        if (seq > chain.headSeq()) {
          if (seq > expected) {
            return missing(expected, seq - 1);
          }
          return bad(seq, "record " + seq + " lies beyond the chain's head (seq "
              + chain.headSeq() + "): it was inserted");
        }
        if (seq != expected) {
          return missing(expected, seq - 1);
        }
        if (!row.prevHash().equals(running)) {
          if (previous != null && row.prevHash().equals(previous.prevHash())) {
            return bad(previous.seq(), "record " + previous.seq() + " was inserted: it and record "
                + seq + " both continue from the hash of the record before it");
          }
          return bad(seq, "record " + seq + " does not continue from "
              + (previous == null ? "the chain's base" : "record " + previous.seq())
              + " (its prev_hash differs): records were inserted, removed or reordered here");
        }
        String hash = AuditChain.hash(row.prevHash(), seq,
            row.event().getBytes(StandardCharsets.UTF_8));
        if (!hash.equals(row.hash())) {
          return bad(seq, "record " + seq + " was edited: its hash does not match its content");
        }
        String column = mismatchedColumn(row);
        if (column != null) {
          return bad(seq, "record " + seq + " was edited: its " + column
              + " column does not match its hashed event");
        }
        running = row.hash();
        previous = row;
        expected++;
      }
      if (expected - 1 < chain.headSeq()) {
        return missing(expected, chain.headSeq());
      }
      if (!running.equals(chain.headHash())) {
        return bad(chain.headSeq(), "record " + chain.headSeq()
            + " was replaced: the chain's head hash does not match it");
      }
      return VerifyReport.intact(checked);
    }

    private VerifyReport missing(long from, long to) {
      return bad(from, from == to
          ? "record " + from + " is missing: it was deleted"
          : "records " + from + " to " + to + " are missing: they were deleted");
    }

    private VerifyReport bad(long seq, String problem) {
      return VerifyReport.broken(checked, seq, problem);
    }
  }

  /** The first filter column that disagrees with the event, or {@code null}. */
  private static String mismatchedColumn(StoredRow row) {
    AuditEvent e;
    try {
      e = AuditRows.parse(row.seq(), row.event());
    } catch (IllegalArgumentException notAnEvent) {
      return "event";
    }
    if (!e.id().equals(row.id())) {
      return "id";
    }
    if (!Objects.equals(Micros.of(e.time()), row.time())) {
      return "time";
    }
    if (!Objects.equals(e.principal(), row.principal())) {
      return "principal";
    }
    if (!Objects.equals(e.session(), row.session())) {
      return "session";
    }
    if (!Objects.equals(e.method(), row.method())) {
      return "method";
    }
    if (!Objects.equals(e.backend(), row.backend())) {
      return "backend";
    }
    if (!Objects.equals(e.name(), row.tool())) {
      return "tool";
    }
    if (!e.outcome().name().equals(row.outcome())) {
      return "outcome";
    }
    if (!Objects.equals(e.rules().isEmpty() ? null : e.rules().get(0), row.rule())) {
      return "rule";
    }
    if (!Objects.equals(e.instance(), row.instance())) {
      return "instance";
    }
    return null;
  }

  /** The chain's base and head. */
  private record ChainState(long baseSeq, String baseHash, long headSeq, String headHash) {}

  /** A row of {@code sentinel_audit} as stored, unparsed. */
  private record StoredRow(long seq, String id, Long time, String principal, String session,
      String method, String backend, String tool, String outcome, String rule, String instance,
      String event, String prevHash, String hash) {

    static StoredRow of(ResultSet rs) throws SQLException {
      long time = rs.getLong(3);
      return new StoredRow(rs.getLong(1), rs.getString(2), rs.wasNull() ? null : time,
          rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8),
          rs.getString(9), rs.getString(10), rs.getString(11), rs.getString(12),
          String.valueOf(rs.getString(13)), String.valueOf(rs.getString(14)));
    }
  }
}
