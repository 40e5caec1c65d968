package dev.sentinel.mcp.gateway;

import dev.sentinel.api.Outcome;
import dev.sentinel.core.bundle.BundleSources;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.notify.Notification;
import dev.sentinel.core.operator.Reloading;
import dev.sentinel.core.policy.PolicyOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * Reloads a running gateway from its config file: loads and checks the file whole ({@link
 * GatewayConfig#load}), then {@link GatewayRuntime#reload swaps it in}. A config that does not
 * load, or that changes what needs a restart, is refused with its located problems and the old
 * config keeps serving. The admin API and the {@link ConfigWatcher} both reload through one
 * reloader.
 *
 * <pre>{@code
 * ConfigReloader reloader = ConfigReloader.of(runtime, Path.of("sentinel.yaml"), System.getenv());
 * Reloading.Result result = reloader.reload();
 * }</pre>
 *
 * <p>Thread-safe: reloads are serialized. A reload's outcome is logged (a refusal as a warning
 * listing its problems).
 */
public final class ConfigReloader implements Reloading {
  private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

  private final GatewayRuntime runtime;
  private final Path file;
  private final Map<String, String> environment;
  private final PolicyOptions policyOptions;
  private final BundleSources sources;

  private ConfigReloader(GatewayRuntime runtime, Path file, Map<String, String> environment,
      PolicyOptions policyOptions, BundleSources sources) {
    this.runtime = runtime;
    this.file = file;
    this.environment = environment;
    this.policyOptions = policyOptions;
    this.sources = sources;
  }

  /**
   * A reloader of the runtime from a config file, whose policy is compiled with
   * {@link PolicyOptions#defaults()}.
   *
   * @param environment the variables {@code ${env:...}} read, usually {@link System#getenv()}
   */
  public static ConfigReloader of(GatewayRuntime runtime, Path file, Map<String, String> environment) {
    return of(runtime, file, environment, PolicyOptions.defaults());
  }

  /**
   * A reloader of the runtime from a config file, whose policy is compiled with
   * {@code policyOptions}: pass the options the gateway was first loaded with.
   *
   * @param environment the variables {@code ${env:...}} read, usually {@link System#getenv()}
   */
  public static ConfigReloader of(GatewayRuntime runtime, Path file,
      Map<String, String> environment, PolicyOptions policyOptions) {
    return of(runtime, file, environment, policyOptions, BundleSources.files());
  }

  /**
   * A reloader of the runtime from a config file that may name a signed bundle in the fleet's
   * database ({@code bundle: { source: database }}), read through {@code sources}: pass the
   * sources the gateway was first loaded with.
   */
  public static ConfigReloader of(GatewayRuntime runtime, Path file,
      Map<String, String> environment, PolicyOptions policyOptions, BundleSources sources) {
    return new ConfigReloader(Objects.requireNonNull(runtime, "runtime"),
        Objects.requireNonNull(file, "file"),
        Map.copyOf(Objects.requireNonNull(environment, "environment")),
        Objects.requireNonNull(policyOptions, "policyOptions"),
        Objects.requireNonNull(sources, "sources"));
  }

  /** Where the reloader reads signed bundles. */
  public BundleSources bundleSources() {
    return sources;
  }

  /** The config file reloaded. */
  public Path file() {
    return file;
  }

  /** The runtime reloaded. */
  public GatewayRuntime runtime() {
    return runtime;
  }

  /** Loads the file and swaps it in, or refuses it; never throws for a bad config. */
  @Override
  public synchronized Result reload() {
    String previous = runtime.sentinel().revision();
    GatewayConfig next;
    try {
      next = GatewayConfig.load(file, environment, policyOptions, sources);
    } catch (ConfigException e) {
      return refused(previous, e.problems());
    }
    return apply(next);
  }

  /**
   * As {@link #reload()}, reading a bundle channel as the fleet member {@code member}: a started
   * rollout that names it as a canary selects the rollout's bundle ({@link
   * BundleSources#asMember}). The channel watcher reloads this way.
   */
  public synchronized Result reloadAsMember(String member) {
    Objects.requireNonNull(member, "member");
    String previous = runtime.sentinel().revision();
    GatewayConfig next;
    try {
      next = GatewayConfig.load(file, environment, policyOptions, sources.asMember(member));
    } catch (ConfigException e) {
      return refused(previous, e.problems());
    }
    return apply(next);
  }

  /**
   * As {@link #reload()}, accepting a signed bundle that is not newer than the running one: an
   * operator's forced rollback, recorded in the audit trail under {@code actor}. Signatures and
   * the threshold are checked as always; a config that names no bundle reloads as usual.
   */
  @Override
  public synchronized Result reloadAllowingRollback(String actor) {
    Objects.requireNonNull(actor, "actor");
    String previous = runtime.sentinel().revision();
    GatewayConfig next;
    try {
      next = GatewayConfig.loadAllowingRollback(file, environment, policyOptions, sources);
    } catch (ConfigException e) {
      return refused(previous, e.problems());
    }
    return apply(next, actor);
  }

  /**
   * As {@link #reload()}, for a file that may be changing: after loading, {@code unchanged}
   * says whether the files are still as they were before (the {@link ConfigWatcher} compares
   * their contents); if not, nothing is applied or refused (the load may have read a save in
   * progress) and the answer is empty.
   */
  synchronized Optional<Result> reloadIf(BooleanSupplier unchanged) {
    String previous = runtime.sentinel().revision();
    GatewayConfig next = null;
    List<ConfigException.Problem> problems = List.of();
    try {
      next = GatewayConfig.load(file, environment, policyOptions, sources);
    } catch (ConfigException e) {
      problems = e.problems();
    }
    if (!unchanged.getAsBoolean()) {
      return Optional.empty();
    }
    return Optional.of(next == null ? refused(previous, problems) : apply(next));
  }

  /** Swaps in an already loaded config, or refuses it; never throws for a bad config. */
  public synchronized Result apply(GatewayConfig next) {
    return apply(next, "sentinel");
  }

  private Result apply(GatewayConfig next, String actor) {
    Objects.requireNonNull(next, "next");
    String previous = runtime.sentinel().revision();
    try {
      String revision = runtime.reload(next, actor);
      if (revision.equals(previous)) {
        log.debug("config {} reloaded: unchanged (revision {})", file, revision);
      } else {
        log.info("config {} reloaded: revision {} replaces {}", file, revision, previous);
      }
      return new Result(true, revision, previous, List.of());
    } catch (ConfigException e) {
      return refused(previous, e.problems());
    } catch (RuntimeException e) {
      // The result reaches the admin API's answer: the exception's text stays in the log.
      String id = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
      log.warn("applying config {} failed (error id {})", file, id, e);
      return refused(previous, List.of(new ConfigException.Problem(next.source(), 0, 0, "", null,
          "cannot apply the config: an unexpected error (error id " + id
              + "); the gateway's log has the details")));
    }
  }

  private Result refused(String previous, List<ConfigException.Problem> problems) {
    StringBuilder text = new StringBuilder();
    for (ConfigException.Problem problem : problems) {
      text.append(System.lineSeparator()).append("  ").append(problem);
    }
    log.warn("config {} not reloaded; revision {} keeps serving:{}", file, previous, text);
    if (runtime.config().fromBundle().isPresent()) {
      // A refused bundle may be an attack on the fleet's config: the trail keeps it.
      String reason = "bundle refused; " + runtime.config().fromBundle().get().describe()
          + " keeps serving:"
          + text.toString().replace(System.lineSeparator(), " ").replaceAll("\\s+", " ");
      String location = runtime.config().fromBundle().get().settings().location();
      runtime.sentinel().recordEvent("sentinel", "sentinel/bundle.refuse", location,
          Outcome.DENIED, reason);
      // Operators hear of a failed apply at once, not at the next look at the fleet.
      runtime.notifier().send(new Notification("bundle.refused", runtime.clock().instant(),
          "gateway " + runtime.sentinel().instance() + ": " + reason,
          JsonNodeFactory.instance.objectNode()
              .put("instance", runtime.sentinel().instance())
              .put("source", location)
              .put("running", runtime.config().fromBundle().get().digest())
              .put("reason", reason)));
    }
    return new Result(false, previous, previous, problems);
  }
}
