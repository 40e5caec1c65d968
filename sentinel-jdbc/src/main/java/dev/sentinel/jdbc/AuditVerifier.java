package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import org.jdbi.v3.core.Handle;
import org.jspecify.annotations.Nullable;

/**
 * Proves a {@link JdbcAuditSink} trail intact, or names the first record that is not; and reads
 * the chain's head, the anchor that lets a later verification catch truncation.
 *
 * <p>{@link #verify} reads the chain's base and head from {@code sentinel_audit_chain} and every
 * record in sequence order, and for each record checks, in this order:
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
 * from the end, or the last replaced). The hash is defined in {@link JdbcAuditSink}. With {@link
 * AuditAnchors} (an expected head, signed checkpoints), the chain must also hold the record of
 * every anchor with the anchor's hash.
 *
 * <p>Records are read in chunks of {@value #CHUNK}, each on its own short read transaction, so that
 * verifying a long trail never holds a lock a writer waits for (on SQLite, whose rollback journal
 * makes a writer's commit wait for readers). The records checked are those up to the head as the
 * first chunk found it; records appended meanwhile are left for the next verification. A purge
 * that moves the base past the records not yet read restarts the walk at the new base (also when
 * the purge dropped a partition under a chunk's read: the records before the new base were
 * purged, not deleted by hand).
 *
 * <p>What the chain alone proves: nobody changed, removed, added or reordered records without also
 * recomputing every hash after the change and updating the chain row. Someone with write access
 * to the database can do that, and deleting the newest records together with the chain row leaves
 * a shorter chain that verifies: anchors kept outside the database ({@link #head} copied elsewhere,
 * {@link AuditCheckpoints signed checkpoints}) catch both.
 *
 * <p>Thread-safe; holds no state.
 */
public final class AuditVerifier {
  /** Records read per read transaction. */
  static final int CHUNK = 1000;

  private static final String ACTION = "verify the audit trail";
  private static final String COLUMNS =
      "seq, id, time, principal, session, method, backend, tool, outcome, rule, instance, event,"
          + " prev_hash, hash";

  private AuditVerifier() {}

  /**
   * The chain's head as it is now: the last record's seq, hash and time, or the base's seq and
   * hash when no record is kept. Read from the chain row, not verified: {@link #verify} does that.
   *
   * @throws DatabaseException if the database cannot be read
   * @throws IllegalStateException if the chain row is missing (the store was damaged)
   */
  public static AuditHead head(Database database) {
    Objects.requireNonNull(database, "database");
    return AuditRows.inSnapshot(database, "read the audit chain's head", h -> {
      ChainState chain = chain(h);
      if (chain == null) {
        throw new IllegalStateException("the audit chain row '" + AuditChain.NAME
            + "' is missing from sentinel_audit_chain in " + database.describe()
            + "; the store was damaged (run sentinel audit verify)");
      }
      Long micros = chain.headSeq() > chain.baseSeq()
          ? h.createQuery("SELECT time FROM sentinel_audit WHERE seq = :seq")
              .bind("seq", chain.headSeq())
              .mapTo(Long.class)
              .findFirst()
              .orElse(null)
          : null;
      return new AuditHead(chain.headSeq(), chain.headHash(), Micros.toInstant(micros));
    });
  }

  /**
   * Verifies the store's whole chain from its base.
   *
   * @throws DatabaseException if the database cannot be read
   */
  public static VerifyReport verify(Database database) {
    return verify(database, AuditAnchors.NONE);
  }

  /**
   * Verifies the store's whole chain from its base, and that it holds every anchor: a chain that
   * ends before an anchor was truncated; one whose record at an anchor's seq has another hash was
   * rewritten.
   *
   * @throws DatabaseException if the database cannot be read
   */
  public static VerifyReport verify(Database database, AuditAnchors anchors) {
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(anchors, "anchors");
    Walk walk = null;
    long checkedBefore = 0; // by walks abandoned when a purge moved the base past them
    long target = 0; // the head as the walk found it: where it ends
    String targetHash = null;
    long after = Long.MIN_VALUE;
    Long beyondHead = null;
    while (true) {
      long from = after;
      Chunk chunk = AuditRows.inSnapshot(database, ACTION, h -> Chunk.read(h, from));
      if (chunk.chain() == null) {
        return VerifyReport.broken(checkedBefore + (walk == null ? 0 : walk.checked), 1,
            "the chain row '" + AuditChain.NAME + "' is missing from sentinel_audit_chain");
      }
      if (walk == null || chunk.chain().baseSeq() >= walk.expected) {
        // The start, or retention purged past the records not read yet: start at the new base.
        checkedBefore += walk == null ? 0 : walk.checked;
        walk = new Walk(chunk.chain(), anchors, checkedBefore);
        target = chunk.chain().headSeq();
        targetHash = chunk.chain().headHash();
        VerifyReport early = walk.start();
        if (early != null) {
          return early;
        }
      }
      boolean caughtUp = false;
      boolean retry = false;
      for (StoredRow row : chunk.rows()) {
        if (row.seq() > target && row.seq() <= chunk.chain().headSeq()) {
          caughtUp = true; // appended since the walk began: left for the next verification
          break;
        }
        long expected = walk.expected;
        VerifyReport bad = walk.step(row, chunk.chain().headSeq());
        if (bad != null) {
          if (row.seq() > expected && baseMovedPast(database, expected)) {
            retry = true; // a purge dropped them meanwhile: read again, from the new base
            break;
          }
          return bad;
        }
      }
      if (retry) {
        continue;
      }
      beyondHead = chunk.beyondHead();
      if (caughtUp || chunk.rows().size() < CHUNK) {
        break;
      }
      after = chunk.rows().get(chunk.rows().size() - 1).seq();
    }
    return walk.finish(target, targetHash, beyondHead);
  }

  /**
   * Whether the chain's base, read now, lies at or after {@code seq}. Dropping a partition is
   * not isolated from a read transaction as deleting rows is: a chunk whose snapshot still shows
   * the old base may find the dropped partition's records gone. Such a gap is no tampering when
   * a purge has since moved the base past it.
   */
  private static boolean baseMovedPast(Database database, long seq) {
    ChainState now = AuditRows.inSnapshot(database, ACTION, AuditVerifier::chain);
    return now != null && now.baseSeq() >= seq;
  }

  private static @Nullable ChainState chain(Handle h) {
    return h.createQuery(
            "SELECT base_seq, base_hash, head_seq, head_hash FROM sentinel_audit_chain"
                + " WHERE name = :name")
        .bind("name", AuditChain.NAME)
        .map((rs, ctx) -> new ChainState(rs.getLong(1), rs.getString(2), rs.getLong(3),
            rs.getString(4)))
        .findOne()
        .orElse(null);
  }

  /**
   * One read transaction's view: the chain row, up to {@value #CHUNK} records after a seq, and
   * the first record beyond the head, if any.
   */
  private record Chunk(
      @Nullable ChainState chain, List<StoredRow> rows, @Nullable Long beyondHead) {
    static Chunk read(Handle h, long after) {
      ChainState chain = AuditVerifier.chain(h);
      if (chain == null) {
        return new Chunk(null, List.of(), null);
      }
      List<StoredRow> rows =
          h.createQuery("SELECT " + COLUMNS + " FROM sentinel_audit WHERE seq > :after"
                  + " ORDER BY seq LIMIT " + CHUNK)
              .bind("after", after)
              .map((rs, ctx) -> StoredRow.of(rs))
              .list();
      Long beyond =
          h.createQuery("SELECT min(seq) FROM sentinel_audit WHERE seq > :head")
              .bind("head", chain.headSeq())
              .mapTo(Long.class)
              .one();
      return new Chunk(chain, rows, beyond);
    }
  }

  /** The walk along the chain. Not thread-safe; one per verification. */
  private static final class Walk {
    private final ChainState chain;
    private final List<AuditAnchors.Anchor> anchors;
    private final AuditAnchors.@Nullable Anchor newestCheckpoint;
    private final long checkedBefore;
    private long checked;
    private long expected;
    private String running;
    private @Nullable StoredRow previous;
    private int nextAnchor;
    private long anchorsChecked;
    private long anchorsBeforeBase;

    Walk(ChainState chain, AuditAnchors anchors, long checkedBefore) {
      this.chain = chain;
      this.anchors = anchors.all();
      this.newestCheckpoint = anchors.newestCheckpoint();
      this.checkedBefore = checkedBefore;
      this.expected = chain.baseSeq() + 1;
      this.running = chain.baseHash();
    }

    /** Checks the anchors at or before the base; a report if one fails, else null. */
    @Nullable VerifyReport start() {
      while (nextAnchor < anchors.size() && anchors.get(nextAnchor).seq() <= chain.baseSeq()) {
        AuditAnchors.Anchor a = anchors.get(nextAnchor++);
        if (a.seq() == chain.baseSeq()) {
          if (!a.hash().equals(chain.baseHash())) {
            return bad(a.seq(), a.label() + " does not match the chain: the chain's base (seq "
                + a.seq() + ", where retention last purged) has another hash: the chain was"
                + " rewritten");
          }
          anchorsChecked++;
        } else if (a.kind() == AuditAnchors.Kind.EXPECTED_HEAD) {
          return bad(a.seq(), a.label() + " lies before the chain's base (seq " + chain.baseSeq()
              + "): its record was purged, so the chain can no longer be checked against it;"
              + " anchor a newer head (sentinel audit head)");
        } else if (a == newestCheckpoint) {
          return bad(a.seq() + 1, "even the newest checkpoint, " + a.label() + ", lies before"
              + " the chain's base (seq " + chain.baseSeq() + "): every record after it is gone."
              + " Retention purges only records older than the retention period, and a gateway"
              + " takes checkpoints as it writes: records were deleted and the base moved to hide"
              + " it, unless checkpoints stopped long ago");
        } else {
          anchorsBeforeBase++;
        }
      }
      return null;
    }

    /** Checks the next record; a report if it is not intact, else null. */
    @Nullable VerifyReport step(StoredRow row, long head) {
      checked++;
      long seq = row.seq();
      if (seq <= chain.baseSeq()) {
        return bad(seq, "record " + seq + " lies at or before the chain's base (seq "
            + chain.baseSeq() + ", where retention last purged): it was inserted");
      }
      if (seq > head) {
        if (seq > expected) {
          return missing(expected, seq - 1);
        }
        return bad(seq, "record " + seq + " lies beyond the chain's head (seq "
            + head + "): it was inserted");
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
      while (nextAnchor < anchors.size() && anchors.get(nextAnchor).seq() == seq) {
        AuditAnchors.Anchor a = anchors.get(nextAnchor++);
        if (!a.hash().equals(row.hash())) {
          return bad(seq, a.label() + " does not match the chain: record " + seq + " has hash "
              + row.hash() + ": the chain was rewritten at or before this record (and every"
              + " hash after the change recomputed)");
        }
        if (a.time() != null && !a.time().equals(Micros.toInstant(row.time()))) {
          return bad(seq, a.label() + " does not match the chain: record " + seq + " has its"
              + " hash but the time " + Micros.toInstant(row.time()));
        }
        anchorsChecked++;
      }
      running = row.hash();
      previous = row;
      expected++;
      return null;
    }

    /** The checks after the last record: the head, records beyond it, anchors after it. */
    VerifyReport finish(long head, @Nullable String headHash, @Nullable Long beyondHead) {
      if (expected - 1 < head) {
        return missing(expected, head);
      }
      if (!running.equals(headHash)) {
        return bad(head, "record " + head
            + " was replaced: the chain's head hash does not match it");
      }
      if (beyondHead != null) {
        return bad(beyondHead, "record " + beyondHead + " lies beyond the chain's head: it was"
            + " inserted");
      }
      if (nextAnchor < anchors.size()) {
        AuditAnchors.Anchor a = anchors.get(nextAnchor);
        return bad(head + 1, a.label() + " lies beyond the chain's end: the chain now ends at"
            + " seq " + head + ". The records after " + head + " were deleted, and the chain's"
            + " head row rewritten to match");
      }
      return new VerifyReport(true, checkedBefore + checked, OptionalLong.empty(), "",
          anchorsChecked, anchorsBeforeBase);
    }

    private VerifyReport missing(long from, long to) {
      return bad(from, from == to
          ? "record " + from + " is missing: it was deleted"
          : "records " + from + " to " + to + " are missing: they were deleted");
    }

    private VerifyReport bad(long seq, String problem) {
      return new VerifyReport(false, checkedBefore + checked, OptionalLong.of(seq), problem,
          anchorsChecked, anchorsBeforeBase);
    }
  }

  /** The first filter column that disagrees with the event, or {@code null}. */
  private static @Nullable String mismatchedColumn(StoredRow row) {
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
  private record StoredRow(long seq, String id, @Nullable Long time, String principal,
      String session, String method, String backend, String tool, String outcome, String rule,
      String instance, String event, String prevHash, String hash) {

    static StoredRow of(ResultSet rs) throws SQLException {
      long time = rs.getLong(3);
      return new StoredRow(rs.getLong(1), rs.getString(2), rs.wasNull() ? null : time,
          rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8),
          rs.getString(9), rs.getString(10), rs.getString(11), rs.getString(12),
          String.valueOf(rs.getString(13)), String.valueOf(rs.getString(14)));
    }
  }
}
