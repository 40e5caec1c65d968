package dev.sentinel.mcp.gateway;

import dev.sentinel.api.Clock;
import dev.sentinel.core.bundle.BundleSources;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.policy.PolicyOptions;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * What a runner needs besides the config, the same for {@code StdioGateway.run} and {@code
 * HttpGateway.run}: the clock, the config file to reload (and whether to watch it), the
 * environment and policy options a reload reads it with, and how the database's stores are
 * wrapped for shared state (sentinel-redis's {@code RedisStores::wrap}, when the application has
 * it). The CLI only parses arguments into these. Immutable and thread-safe.
 */
public final class RunOptions {
  private final Clock clock;
  private final @Nullable Path configFile;
  private final boolean watch;
  private final Map<String, String> environment;
  private final PolicyOptions policyOptions;
  private final UnaryOperator<Stores> sharedState;
  private final BundleSources bundleSources;

  private RunOptions(Builder b) {
    this.bundleSources = b.bundleSources;
    this.clock = b.clock;
    this.configFile = b.configFile;
    this.watch = b.watch;
    this.environment = b.environment;
    this.policyOptions = b.policyOptions;
    this.sharedState = b.sharedState;
  }

  /** The defaults: the system clock, no config file (so no reload), stores as opened. */
  public static RunOptions defaults() {
    return builder().build();
  }

  /** A builder from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The clock. */
  public Clock clock() {
    return clock;
  }

  /** The config file the gateway reloads, if it was started from one. */
  public Optional<Path> configFile() {
    return Optional.ofNullable(configFile);
  }

  /** Whether the config file is watched and reloaded when it changes on disk. */
  public boolean watch() {
    return watch && configFile != null;
  }

  /** The variables {@code ${env:...}} reads when the config file is reloaded. */
  public Map<String, String> environment() {
    return environment;
  }

  /** How a reloaded config's policy is compiled. */
  public PolicyOptions policyOptions() {
    return policyOptions;
  }

  /** Where a reload reads the signed bundle a {@code bundle:} section names. */
  public BundleSources bundleSources() {
    return bundleSources;
  }

  /** Wraps the database's stores for the config's shared state. */
  public Stores sharedState(Stores stores) {
    return Objects.requireNonNull(sharedState.apply(stores), "shared state stores");
  }

  /** Assembles {@link RunOptions}. Not thread-safe. */
  public static final class Builder {
    private Clock clock = Clock.system();
    private @Nullable Path configFile;
    private boolean watch = true;
    private Map<String, String> environment = Map.of();
    private PolicyOptions policyOptions = PolicyOptions.defaults();
    private UnaryOperator<Stores> sharedState = UnaryOperator.identity();
    private BundleSources bundleSources = BundleSources.files();

    private Builder() {}

    /**
     * Where a reload reads the signed bundle a {@code bundle:} section names: pass those the
     * config was first loaded with (sentinel-jdbc's {@code JdbcBundleSources} for a database
     * channel); bundle files only by default.
     */
    public Builder bundleSources(BundleSources sources) {
      this.bundleSources = Objects.requireNonNull(sources, "sources");
      return this;
    }

    /** The clock; the system clock by default. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The config file, read again on reload with {@code environment} and {@code policyOptions}:
     * {@code sentinel http}'s {@code POST /admin/api/reload}, and, unless {@link #watch} is off,
     * whenever it or its policy file changes on disk.
     */
    public Builder configFile(Path file, Map<String, String> environment,
        PolicyOptions policyOptions) {
      this.configFile = Objects.requireNonNull(file, "file");
      this.environment = Map.copyOf(environment);
      this.policyOptions = Objects.requireNonNull(policyOptions, "policyOptions");
      return this;
    }

    /** Whether to reload the config file when it changes on disk; on by default. */
    public Builder watch(boolean watch) {
      this.watch = watch;
      return this;
    }

    /**
     * How the database's stores are wrapped for {@code shared_state:}, such as sentinel-redis's
     * {@code stores -> RedisStores.wrap(config.sharedState(), stores, clock)}; the stores as
     * opened by default.
     */
    public Builder sharedState(UnaryOperator<Stores> sharedState) {
      this.sharedState = Objects.requireNonNull(sharedState, "sharedState");
      return this;
    }

    /** The options. */
    public RunOptions build() {
      return new RunOptions(this);
    }
  }
}
