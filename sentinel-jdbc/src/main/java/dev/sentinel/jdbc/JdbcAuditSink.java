package dev.sentinel.jdbc;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.AuditSink;
import dev.sentinel.api.Clock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;
import org.jspecify.annotations.Nullable;

/**
 * Audit events in the {@code sentinel_audit} table of a SQLite or PostgreSQL {@link Database}, as
 * one tamper-evident hash chain per store.
 *
 * <p>Each {@link #write} appends its whole batch in one transaction (group commit): it locks the
 * chain's head row in {@code sentinel_audit_chain} ({@code SELECT ... FOR UPDATE} on PostgreSQL;
 * on SQLite the transaction is {@code BEGIN IMMEDIATE}, which takes the database's write lock),
 * gives the events the next sequence numbers, inserts them with one prepared batch and moves the
 * head. So any number of writers, in one process or several (two gateways on one PostgreSQL),
 * produce one linear chain with no gaps; a batch that fails leaves nothing behind, and the
 * dispatcher may retry it.
 *
 * <p>Record {@code n} holds the event's canonical JSON ({@link
 * dev.sentinel.core.audit.AuditEventJson#toJson} written by {@link
 * dev.sentinel.core.audit.CanonicalJson#bytes}) in its {@code event} column, and
 *
 * <pre>
 * hash(n) = "sha256:" + lowercase-hex(SHA-256(
 *     UTF-8(prev_hash(n)) || "\n" || decimal(seq(n)) || "\n" || UTF-8 bytes of event(n)))
 * </pre>
 *
 * with {@code prev_hash(n) = hash(n - 1)}, and for the first record the chain's base hash: 64
 * zeros after {@code sha256:} for a new store, or the hash of the last purged record after
 * {@link AuditRetention#purge}. The other columns (time, principal, tool, outcome, first rule,
 * ...) are copies of the event's fields for filtering; {@link AuditVerifier} checks them against
 * the event. See {@code docs/audit.md}.
 *
 * <p>Durability: {@link #durable()} is true: a returned write is committed. On SQLite the commit
 * survives a crash of the process (a rollback journal with {@code synchronous=NORMAL}, which
 * syncs the journal and the database at each commit); with {@link Builder#synchronousFull} the
 * emptied journal is synced too, so that a power cut or operating-system crash cannot undo the
 * last batch.
 *
 * <p>Storage faults: a batch that cannot be committed (a disk error, a full or read-only disk, a
 * file that cannot be opened) throws, and nothing of it was stored; the connection is dropped and
 * a new one, whose settings are checked again ({@link Database}), is opened for the next attempt.
 * The {@link dev.sentinel.core.audit.AuditDispatcher} keeps the batch and retries it until the
 * disk recovers, refusing calls meanwhile when the gateway is set to {@code on_sink_failure:
 * block}. No file of a SQLite database is memory-mapped, so a failing disk cannot crash the
 * process.
 *
 * <p>A retried batch whose first attempt committed but could not be confirmed (a connection lost
 * during {@code COMMIT}) is stored twice; both copies are part of the chain, so this never breaks
 * verification. Failures are {@link DatabaseException}s naming the database and the cause (a full
 * disk, a lock held longer than the busy timeout, an unreachable server); writing after {@link
 * #close} throws {@link IOException}.
 *
 * <p>Thread-safe: writes are serialized on the sink, which keeps one connection open between them
 * (reopened after a failure). On SQLite that connection has a 64 MiB page cache.
 */
public final class JdbcAuditSink implements AuditSink {
  private static final String INSERT =
      "INSERT INTO sentinel_audit (seq, id, time, principal, session, method, backend, tool,"
          + " outcome, rule, instance, event, prev_hash, hash)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  private final Database database;
  private final Clock clock;
  private final boolean synchronousFull;
  private final String lockHead;
  private final @Nullable Checkpointer checkpointer; // null without checkpoints; guarded by this
  private @Nullable Handle handle; // guarded by this
  private boolean closed; // guarded by this

  private JdbcAuditSink(Builder builder) {
    this.database = builder.database;
    this.clock = builder.clock;
    this.synchronousFull = builder.synchronousFull;
    this.lockHead =
        "SELECT head_seq, head_hash FROM sentinel_audit_chain WHERE name = :name"
            + (database.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : "");
    this.checkpointer = builder.checkpointKey == null
        ? null
        // Builder.checkpoints sets the key, the file and the period together.
        : new Checkpointer(builder.checkpointKey, Objects.requireNonNull(builder.checkpointFile),
            Objects.requireNonNull(builder.checkpointEvery), builder.checkpointRecords,
            builder.clock);
  }

  /** A sink on the database, with the system clock and SQLite's {@code synchronous=NORMAL}. */
  public static JdbcAuditSink create(Database database) {
    return builder(database).build();
  }

  /** A builder for a sink on the database. */
  public static Builder builder(Database database) {
    return new Builder(database);
  }

  /** {@inheritDoc} Always true: a returned write is committed to the database. */
  @Override
  public boolean durable() {
    return true;
  }

  /**
   * Appends the events to the chain, in order, in one transaction.
   *
   * @throws IOException if the sink is closed
   * @throws DatabaseException if the transaction failed; nothing of the batch was stored
   */
  @Override
  public synchronized void write(List<AuditEvent> events) throws IOException {
    Objects.requireNonNull(events, "events");
    if (closed) {
      throw new IOException("the audit sink on " + database.describe() + " is closed");
    }
    if (events.isEmpty()) {
      return;
    }
    // The canonical form and filter columns are built before the lock is taken.
    Row[] rows = new Row[events.size()];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = Row.of(events.get(i));
    }
    String action = "append " + rows.length + " audit events";
    Handle h = handle(action);
    Head head;
    try {
      head = h.inTransaction(tx -> append(tx, rows));
    } catch (JdbiException | IllegalStateException e) {
      discardHandle();
      throw database.failure(action, e);
    } catch (RuntimeException | Error e) {
      discardHandle();
      throw e;
    }
    if (checkpointer != null) {
      checkpointer.committed(head.seq(), head.hash());
    }
  }

  private Head append(Handle tx, Row[] rows) {
    Head head =
        tx.createQuery(lockHead)
            .bind("name", AuditChain.NAME)
            .map((rs, ctx) -> new Head(rs.getLong(1), rs.getString(2)))
            .findOne()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "the audit chain row '"
                            + AuditChain.NAME
                            + "' is missing from sentinel_audit_chain; the store was damaged"
                            + " (run sentinel audit verify)"));
    long seq = head.seq();
    String prev = head.hash();
    // A JDBC prepared batch on Jdbi's connection: Jdbi's PreparedBatch resolves an argument
    // factory for every bound value, which measured about a fifth of the insert's cost here.
    try (PreparedStatement insert = tx.getConnection().prepareStatement(INSERT)) {
      for (Row row : rows) {
        seq++;
        String hash = AuditChain.hash(prev, seq, row.content());
        AuditEvent e = row.event();
        insert.setLong(1, seq);
        insert.setString(2, e.id());
        insert.setLong(3, Micros.at(e.time()));
        insert.setString(4, e.principal());
        insert.setString(5, e.session());
        insert.setString(6, e.method());
        insert.setString(7, e.backend());
        insert.setString(8, e.name());
        insert.setString(9, e.outcome().name());
        insert.setString(10, e.rules().isEmpty() ? null : e.rules().get(0));
        insert.setString(11, e.instance());
        insert.setString(12, row.text());
        insert.setString(13, prev);
        insert.setString(14, hash);
        insert.addBatch();
        prev = hash;
      }
      insert.executeBatch();
    } catch (SQLException e) {
      // Thrown inside the transaction, so Jdbi rolls the whole batch back.
      throw new UnableToExecuteStatementException(e, null);
    }
    tx.createUpdate(
            "UPDATE sentinel_audit_chain SET head_seq = :seq, head_hash = :hash, updated_at = :now"
                + " WHERE name = :name")
        .bind("seq", seq)
        .bind("hash", prev)
        .bind("now", Micros.of(clock.instant()))
        .bind("name", AuditChain.NAME)
        .execute();
    return new Head(seq, prev);
  }

  private Handle handle(String action) {
    if (handle == null) {
      Handle h = database.openHandle(action);
      if (database.dialect() == Dialect.SQLITE) {
        try {
          // Six indexes are updated per row: keep their pages cached (64 MiB) between batches.
          h.execute("PRAGMA cache_size = -65536");
          if (synchronousFull) {
            h.execute("PRAGMA synchronous = FULL");
          }
        } catch (JdbiException e) {
          h.close();
          throw database.failure(action, e);
        }
      }
      handle = h;
    }
    return handle;
  }

  private void discardHandle() {
    if (handle != null) {
      try {
        handle.close();
      } catch (RuntimeException ignored) {
        // the connection is broken already; a new one is opened for the next write
      }
      handle = null;
    }
  }

  /**
   * Closes the sink's connection, after a last checkpoint if checkpoints are on and the head moved
   * since the last one; later writes throw. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (!closed && checkpointer != null) {
      checkpointer.closing();
    }
    closed = true;
    discardHandle();
  }

  /** The chain head read under the lock. */
  private record Head(long seq, String hash) {}

  /** An event with its canonical content, as text and as the bytes hashed. */
  private record Row(AuditEvent event, String text, byte[] content) {
    static Row of(AuditEvent event) {
      byte[] content = AuditChain.content(event);
      return new Row(event, new String(content, StandardCharsets.UTF_8), content);
    }
  }

  /** Options for a {@link JdbcAuditSink}. Each setter validates at once; not thread-safe. */
  public static final class Builder {
    private final Database database;
    private Clock clock = Clock.system();
    private boolean synchronousFull;
    private @Nullable PrivateKey checkpointKey; // null without checkpoints
    private @Nullable Path checkpointFile;
    private @Nullable Duration checkpointEvery;
    private long checkpointRecords;

    private Builder(Database database) {
      this.database = Objects.requireNonNull(database, "database");
    }

    /** The clock that stamps the chain's {@code updated_at}; default the system clock. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * On SQLite, whether each batch's commit is also made safe from a power cut or
     * operating-system crash ({@code synchronous=FULL} on the sink's connection: the emptied
     * journal is synced too), not only from a crash of the process; default false ({@code
     * NORMAL}). Costs one more fsync per batch.
     * Ignored for PostgreSQL, whose commits are durable as its server is configured.
     */
    public Builder synchronousFull(boolean synchronousFull) {
      this.synchronousFull = synchronousFull;
      return this;
    }

    /**
     * Signs checkpoints of the chain ({@link AuditCheckpoint}) with the key and appends them to
     * the file ({@link AuditCheckpoints#append}, which also logs them): after the first batch
     * this sink writes, then after a batch once {@code every} has passed (by the sink's clock) or
     * {@code records} records were written since the last checkpoint, whichever comes first, and
     * when the sink closes. A checkpoint that cannot be written is logged and tried again after
     * the next batch; it never fails a write. Default: none.
     *
     * @param records the most records between checkpoints, or 0 for no such bound
     * @throws IllegalArgumentException if {@code every} is not positive or {@code records} is
     *     negative
     */
    public Builder checkpoints(PrivateKey key, Path file, Duration every, long records) {
      // Validates now; built with the final clock in build().
      new Checkpointer(key, file, every, records, clock);
      this.checkpointKey = key;
      this.checkpointFile = file;
      this.checkpointEvery = every;
      this.checkpointRecords = records;
      return this;
    }

    /** Builds the sink; it opens its connection at the first write. */
    public JdbcAuditSink build() {
      return new JdbcAuditSink(this);
    }
  }
}
