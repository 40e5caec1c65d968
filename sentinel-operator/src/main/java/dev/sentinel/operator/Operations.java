package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.core.operator.AuditTrail;
import dev.sentinel.core.operator.KillSwitchControl;
import dev.sentinel.core.operator.Reloading;
import dev.sentinel.api.Clock;
import dev.sentinel.api.KeyStore;
import dev.sentinel.core.approval.ApprovalStore;
import dev.sentinel.core.breakglass.BreakGlassStore;
import dev.sentinel.core.bundle.BundleStore;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.core.pinning.PinStore;
import dev.sentinel.core.policy.BreakGlassSettings;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The operator service: every operation operators run on a gateway, in one place, for the CLI,
 * the admin API and the operator page to adapt. Built from what is at hand: a running gateway
 * gives its kill switch and its reload; a database gives keys, the audit trail and the stored
 * kill switch. An operation whose part is missing throws {@link OperatorException} ({@code
 * UNSUPPORTED}) saying what it needs.
 *
 * <pre>{@code
 * Operations ops = Operations.builder()
 *     .stores(stores)                                  // keys and the audit trail
 *     .killSwitch(runtime.killSwitchControl())         // applied at once, stored for the others
 *     .reloading(ConfigReloader.of(runtime, file, System.getenv()))
 *     .build();
 * IssuedKey key = ops.keys().create("alice", List.of("dev"), "laptop", "30d", "expires");
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class Operations {
  private final @Nullable KeyOperations keys;
  private final @Nullable KillSwitchOperations killSwitch;
  private final @Nullable AuditOperations audit;
  private final @Nullable PinOperations pins;
  private final @Nullable Reloading reloading;
  private final @Nullable ApprovalOperations approvals;
  private final @Nullable BreakGlassOperations breakGlass;
  private final @Nullable BundleOperations bundles;
  private final @Nullable FleetOperations fleet;
  private final @Nullable RolloutOperations rollouts;
  private final Clock clock;

  private Operations(Builder b) {
    this.clock = b.clock;
    this.keys = b.keyStore == null ? null : new KeyOperations(b.keyStore, b.clock);
    this.killSwitch = b.killSwitch == null ? null : new KillSwitchOperations(b.killSwitch);
    this.audit = b.trail == null ? null : new AuditOperations(b.trail, b.clock);
    this.pins = b.pinStore == null ? null : new PinOperations(b.pinStore, b.clock, b.notifier);
    this.reloading = b.reloading;
    this.approvals = b.approvals == null ? null
        : new ApprovalOperations(b.approvals, b.clock, b.notifier);
    this.breakGlass = b.breakGlassStore == null ? null : new BreakGlassOperations(
        b.breakGlassStore, b.breakGlassSettings, b.clock, b.notifier, b.breakGlassChanged);
    this.bundles = b.bundleStore == null ? null : new BundleOperations(b.bundleStore, b.clock);
    this.fleet = b.bundleStore == null ? null : new FleetOperations(b.bundleStore, b.clock);
    this.rollouts = b.bundleStore == null ? null : new RolloutOperations(b.bundleStore, b.clock);
  }

  /** A builder; every part is optional. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The API keys.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) without a key store
   */
  public KeyOperations keys() {
    if (keys == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "API keys need the"
          + " gateway's database, which this gateway was started without");
    }
    return keys;
  }

  /**
   * The kill switch.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) without a gateway or a kill-switch store
   */
  public KillSwitchOperations killSwitch() {
    if (killSwitch == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "the kill switch needs a"
          + " running gateway or a database its gateways share");
    }
    return killSwitch;
  }

  /**
   * The audit trail.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) without a database trail
   */
  public AuditOperations audit() {
    if (audit == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "the audit trail is read"
          + " from the gateway's database, which this gateway was started without");
    }
    return audit;
  }

  /**
   * The approval queue of {@code confirm} rules.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) without a database
   */
  public ApprovalOperations approvals() {
    if (approvals == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "approvals are kept in"
          + " the gateway's database, which this gateway was started without");
    }
    return approvals;
  }

  /**
   * Break-glass windows and TOTP enrolment.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) without a break-glass store
   */
  public BreakGlassOperations breakGlass() {
    if (breakGlass == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "break-glass windows are"
          + " kept in the gateway's database (or a running gateway), which this was started"
          + " without");
    }
    return breakGlass;
  }

  /**
   * The tool-definition pins.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) without a pin store
   */
  public PinOperations pins() {
    if (pins == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "tool pins need a running"
          + " gateway or the database its gateways share");
    }
    return pins;
  }

  /**
   * The signed bundles published for the fleet.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) without a bundle store
   */
  public BundleOperations bundles() {
    if (bundles == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "publishing bundles needs"
          + " the database the fleet's gateways share");
    }
    return bundles;
  }

  /**
   * The fleet of gateways that follow a bundle channel: desired against running.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) without a bundle store
   */
  public FleetOperations fleet() {
    if (fleet == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "the fleet's status needs"
          + " the database its gateways share");
    }
    return fleet;
  }

  /**
   * Rollouts of a channel's bundle to canary gateways.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) without a bundle store
   */
  public RolloutOperations rollouts() {
    if (rollouts == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "rollouts need the"
          + " database the fleet's gateways share");
    }
    return rollouts;
  }

  /**
   * Reloads the gateway's config file.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) for a gateway not started from a file
   */
  public Reloading.Result reload() {
    if (reloading == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "reload needs the config"
          + " file: this gateway was not started from one");
    }
    return reloading.reload();
  }

  /**
   * Reloads the gateway's config file accepting a signed bundle that is not newer than the one
   * it runs: an operator forcing a rollback, which the audit trail records under {@code actor}.
   *
   * @throws OperatorException ({@code UNSUPPORTED}) for a gateway not started from a file
   */
  public Reloading.Result reloadAllowingRollback(String actor) {
    if (reloading == null) {
      throw new OperatorException(OperatorException.Kind.UNSUPPORTED, "reload needs the config"
          + " file: this gateway was not started from one");
    }
    return reloading.reloadAllowingRollback(actor);
  }

  /** Which parts this service has, for a status page. */
  public boolean has(Part part) {
    switch (Objects.requireNonNull(part, "part")) {
      case KEYS:
        return keys != null;
      case KILL_SWITCH:
        return killSwitch != null;
      case AUDIT:
        return audit != null;
      case APPROVALS:
        return approvals != null;
      case PINS:
        return pins != null;
      case BREAK_GLASS:
        return breakGlass != null;
      case BUNDLES:
        return bundles != null;
      default:
        return reloading != null;
    }
  }

  /** The parts of the service. */
  public enum Part {
    /** {@link #keys()}. */
    KEYS,
    /** {@link #killSwitch()}. */
    KILL_SWITCH,
    /** {@link #audit()}. */
    AUDIT,
    /** {@link #pins()}. */
    PINS,
    /** {@link #reload()}. */
    RELOAD,
    /** {@link #approvals()}. */
    APPROVALS,
    /** {@link #breakGlass()}. */
    BREAK_GLASS,
    /** {@link #bundles()}. */
    BUNDLES
  }

  /** The clock the service reads relative times and stamps changes with. */
  public Clock clock() {
    return clock;
  }

  /** Assembles {@link Operations}. Not thread-safe. */
  public static final class Builder {
    private @Nullable KeyStore keyStore;
    private @Nullable KillSwitchControl killSwitch;
    private @Nullable AuditTrail trail;
    private @Nullable PinStore pinStore;
    private @Nullable Reloading reloading;
    private @Nullable ApprovalStore approvals;
    private @Nullable BreakGlassStore breakGlassStore;
    private @Nullable BundleStore bundleStore;
    private Supplier<Optional<BreakGlassSettings>> breakGlassSettings = Optional::empty;
    private Runnable breakGlassChanged = () -> { };
    private Notifier notifier = Notifier.none();
    private Clock clock = Clock.system();

    private Builder() {}

    /**
     * The keys, the audit trail, the approvals, the tool pins and the bundles of a database's stores,
     * whichever it has. The kill switch is given apart ({@link #killSwitch}): a running gateway's, or {@link KillSwitchControl#of} the
     * stores' kill-switch store.
     */
    public Builder stores(Stores stores) {
      Objects.requireNonNull(stores, "stores");
      stores.keyStore().ifPresent(this::keyStore);
      stores.auditTrail().ifPresent(this::auditTrail);
      stores.approvalStore().ifPresent(this::approvalStore);
      stores.pinStore().ifPresent(this::pinStore);
      stores.breakGlassStore().ifPresent(this::breakGlassStore);
      stores.bundleStore().ifPresent(this::bundleStore);
      return this;
    }

    /** Where signed bundles are published for the fleet. */
    public Builder bundleStore(BundleStore store) {
      this.bundleStore = Objects.requireNonNull(store, "store");
      return this;
    }

    /** Where break-glass windows and TOTP enrolments are kept. */
    public Builder breakGlassStore(BreakGlassStore store) {
      this.breakGlassStore = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * The {@code break_glass:} section of the policy in force, asked at each opening (a running
     * gateway's follows its reloads); without it, or while it answers empty, no window opens.
     */
    public Builder breakGlassSettings(Supplier<Optional<BreakGlassSettings>> settings) {
      this.breakGlassSettings = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /**
     * Run after a window is opened or closed through this service: a running gateway reads its
     * windows again ({@code BreakGlassWindows#refresh}) so that the change applies at once.
     */
    public Builder onBreakGlassChange(Runnable changed) {
      this.breakGlassChanged = Objects.requireNonNull(changed, "changed");
      return this;
    }

    /** Where decisions are announced (the config's {@code notify:} webhook); none by default. */
    public Builder notifier(Notifier notifier) {
      this.notifier = Objects.requireNonNull(notifier, "notifier");
      return this;
    }

    /** The queue of approvals that {@code confirm} rules wait for. */
    public Builder approvalStore(ApprovalStore store) {
      this.approvals = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * The tool pins reviewed: a running gateway's (sentinel-mcp's {@code
     * GatewayRuntime#pinStore()}, whose changes apply at once) or a database's.
     */
    public Builder pinStore(PinStore store) {
      this.pinStore = Objects.requireNonNull(store, "store");
      return this;
    }

    /** The key store the keys are managed in. */
    public Builder keyStore(KeyStore keyStore) {
      this.keyStore = Objects.requireNonNull(keyStore, "keyStore");
      return this;
    }

    /** Where the kill switch is changed. */
    public Builder killSwitch(KillSwitchControl control) {
      this.killSwitch = Objects.requireNonNull(control, "control");
      return this;
    }

    /** The audit trail queried, verified and purged. */
    public Builder auditTrail(AuditTrail trail) {
      this.trail = Objects.requireNonNull(trail, "trail");
      return this;
    }

    /** The gateway's reload. */
    public Builder reloading(Reloading reloading) {
      this.reloading = Objects.requireNonNull(reloading, "reloading");
      return this;
    }

    /** The clock for relative times and key times; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Builds the service. */
    public Operations build() {
      return new Operations(this);
    }
  }
}
