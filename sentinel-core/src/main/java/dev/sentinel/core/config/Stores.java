package dev.sentinel.core.config;

import dev.sentinel.api.AuditSink;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.approval.ApprovalStore;
import dev.sentinel.core.breakglass.BreakGlassStore;
import dev.sentinel.core.killswitch.KillSwitchStore;
import dev.sentinel.core.limit.LimitSync;
import dev.sentinel.core.limit.SharedLimits;
import dev.sentinel.core.operator.AuditTrail;
import dev.sentinel.core.pinning.PinStore;
import java.time.Instant;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a database brings to a gateway: the key store that {@code identity.api_key} is verified
 * against, the {@code database} audit sink and its retention, and what gateways on one database
 * share (rate limits, the operators' kill switch). sentinel-core does not depend on a database
 * module, so the runners open an implementation (sentinel-jdbc's {@code JdbcStores}) from the
 * config's {@link DatabaseSettings} and hand it to sentinel-mcp's {@code
 * GatewayRuntime.start(config, clock, stores)}; {@link #none()} stands for no database.
 *
 * <p>Implementations are thread-safe.
 */
public interface Stores extends AutoCloseable {

  /**
   * A new audit sink writing to the database, or empty without one. Each call opens a sink; the
   * caller owns it (the audit dispatcher closes it).
   */
  Optional<AuditSink> auditSink();

  /**
   * A new audit sink writing to the database that also signs checkpoints of its chain as {@code
   * checkpoint} says, or empty without a database. The default serves a {@code null} checkpoint
   * with {@link #auditSink()} and refuses any other: stores that cannot sign checkpoints must not
   * pretend to.
   *
   * @param checkpoint the {@code audit.checkpoint} setting, or {@code null} for none
   * @throws UnsupportedOperationException if checkpoints are asked of stores that cannot take them
   * @throws dev.sentinel.api.SentinelException naming the file, if the checkpoint key cannot be
   *     read or the checkpoint file's folder cannot be created
   */
  default Optional<AuditSink> auditSink(Audit.@Nullable Checkpoint checkpoint) {
    if (checkpoint != null) {
      throw new UnsupportedOperationException(
          "audit.checkpoint needs stores that sign checkpoints, such as sentinel-jdbc's; "
              + description() + " does not");
    }
    return auditSink();
  }

  /** The database's key store, or empty without one. */
  Optional<KeyStore> keyStore();

  /**
   * A rate limiter whose buckets the database shares with every gateway on it, or empty when
   * limits are per process (no database, or one a single process owns, such as SQLite). The
   * gateway uses it instead of a local limiter when present.
   */
  default Optional<RateLimiter> rateLimiter() {
    return Optional.empty();
  }

  /**
   * The shared rate limiter, kept in step with the store as the config's {@code
   * shared_state.limits} says. The default serves exact settings that refuse while the store is
   * away with {@link #rateLimiter()} (what every shared limiter does), and refuses any other
   * settings: stores that cannot batch or fall back must not pretend to.
   *
   * @throws UnsupportedOperationException if the settings ask for what these stores cannot do
   */
  default Optional<RateLimiter> rateLimiter(SharedLimits limits) {
    if (!limits.equals(SharedLimits.DEFAULTS) && rateLimiter().isPresent()) {
      throw new UnsupportedOperationException("shared_state.limits (sync: " + limits.sync()
          + ") needs stores that support it, such as sentinel-jdbc's; " + description()
          + " does not");
    }
    return rateLimiter();
  }

  /**
   * The store of the operators' kill switch that every gateway on the database follows, or
   * empty without one (the kill switch is then this process's alone).
   */
  default Optional<KillSwitchStore> killSwitchStore() {
    return Optional.empty();
  }

  /**
   * The store of tool-definition pins that every gateway on the database shares, or empty
   * without one (the gateway then pins in its own memory, for as long as it runs).
   */
  default Optional<PinStore> pinStore() {
    return Optional.empty();
  }

  /**
   * The signing key and redemptions of the states of multi round-trip requests, shared by every
   * gateway on the database, or empty without one (each gateway then keeps its own).
   */
  default Optional<dev.sentinel.core.state.RequestStateLedger> requestStateLedger() {
    return Optional.empty();
  }

  /**
   * Deletes the {@code database} audit sink's records older than {@code before}, leaving what
   * remains verifiable, and answers how many were deleted: what {@code audit.retention} runs on
   * a schedule, off the request path. Without a database trail, deletes nothing.
   *
   * @throws RuntimeException if the database cannot be written; nothing was deleted then
   */
  default long purgeAudit(Instant before) {
    return 0;
  }

  /**
   * The {@code database} audit sink's trail, for operators to query, verify and purge
   * (sentinel-core's operator service), or empty without a database trail.
   */
  default Optional<AuditTrail> auditTrail() {
    return Optional.empty();
  }

  /**
   * The queue of approvals that {@code confirm} rules wait for, shared by every gateway on the
   * database, or empty without one (such calls are then refused).
   */
  default Optional<ApprovalStore> approvalStore() {
    return Optional.empty();
  }

  /**
   * The break-glass windows and TOTP enrolments, shared by every gateway on the database, or
   * empty without one (a gateway then keeps them in its own memory).
   */
  default Optional<BreakGlassStore> breakGlassStore() {
    return Optional.empty();
  }

  /**
   * Where signed bundles are published for the gateways on the database ({@code bundle: {
   * source: database }}), or empty without one.
   */
  default Optional<dev.sentinel.core.bundle.BundleStore> bundleStore() {
    return Optional.empty();
  }

  /**
   * Housekeeping that the gateway runs every minute or so, off the request path: such as
   * deleting shared rate-limit buckets that have refilled. The default does nothing.
   *
   * @throws RuntimeException if it fails; the gateway logs it and tries again next time
   */
  default void sweep() {}

  /** What the stores are, for messages: such as {@code SQLite database /srv/sentinel.db}. */
  String description();

  /** Releases the database. Sinks opened earlier must be closed first. */
  @Override
  void close();

  /** No database: no key store and no database audit sink. */
  static Stores none() {
    return NoStores.INSTANCE;
  }
}
