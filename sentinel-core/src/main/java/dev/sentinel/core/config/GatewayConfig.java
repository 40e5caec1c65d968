package dev.sentinel.core.config;

import dev.sentinel.core.bundle.BundleSources;
import dev.sentinel.core.bundle.RunningBundle;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyOptions;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A gateway's configuration file, loaded and checked: one format for the stdio and HTTP
 * runners. See {@code docs/config.md} for the format; {@code sentinel config schema} prints its
 * JSON Schema for editors.
 *
 * <pre>
 * gateway:  { name: my-gateway, request_timeout: 60s, max_message_bytes: 4MiB }
 * identity: { principal: { id: ann, roles: [developer] } }
 * backends:
 *   - name: fs
 *     stdio: { command: npx, args: ["-y", "@modelcontextprotocol/server-filesystem", "/w"] }
 *   - name: remote
 *     http: { url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer ${env:T}" } }
 * policy: { file: policy.yaml }
 * kill_switch: { tools: { "fs__write_*": "incident 42" } }
 * audit: { sinks: [ { database: {} }, { jsonl: audit.jsonl } ], mode: durable }
 * database: { url: "jdbc:postgresql://db:5432/sentinel", user: gw, password: "${env:PGPASSWORD}" }
 * </pre>
 *
 * <p>Loading checks every key and value and reports all problems at once, each with its file,
 * line, column and key path, suggesting the nearest key for a misspelt one. References
 * {@code ${env:NAME}}, {@code ${env:NAME:-default}} and {@code ${file:PATH}} are expanded in env
 * values, headers, {@code url}, {@code api_key} and the database's {@code url}, {@code user} and
 * {@code password} only; messages name the reference, never its
 * value. Relative paths are resolved against the config file's directory.
 *
 * <p>Immutable and thread-safe. {@link #toString()} and the components' {@code toString()}s
 * never show secret values (environment values, header values, the API key, URL queries).
 *
 * @param source the file name or label the config was loaded from, for messages
 * @param revision {@code sha256:} and the first 12 hex digits of the SHA-256 of the file's text
 * @param gateway the {@code gateway:} section (defaults when absent)
 * @param identity the stdio user's identity ({@link Identity#ANONYMOUS} when absent)
 * @param backends the backends, in file order, with unique names; not empty
 * @param policy the compiled policy
 * @param killSwitch what the config disables (empty when absent)
 * @param audit the {@code audit:} section (defaults when absent)
 * @param database the {@code database:} section ({@link DatabaseSettings#embeddedDefault} when
 *     absent); opened only when {@link #needsDatabase()}
 * @param sharedState the {@code shared_state:} section ({@link SharedState#DEFAULTS} when absent)
 * @param server the {@code server:} section, for {@code sentinel http} ({@link Server#DEFAULTS}
 *     when absent)
 * @param llm the {@code llm:} section, for the HTTP runner's model routes ({@link
 *     LlmSettings#NONE} when absent)
 * @param notifications the {@code notify:} section: where operators' events are posted ({@link
 *     NotifySettings#NONE} when absent)
 * @param telemetry the {@code telemetry:} section: OpenTelemetry traces of the calls ({@link
 *     Telemetry#NONE}, no tracing, when absent)
 * @param bundle the signed bundle the config came from, when the config file names one ({@code
 *     bundle:}); {@code null} for a config read as it is
 */
public record GatewayConfig(
    String source,
    String revision,
    Gateway gateway,
    Identity identity,
    List<Backend> backends,
    PolicyEngine policy,
    KillSwitch.State killSwitch,
    Audit audit,
    DatabaseSettings database,
    SharedState sharedState,
    Server server,
    LlmSettings llm,
    NotifySettings notifications,
    Telemetry telemetry,
    @Nullable RunningBundle bundle) {

  /** Validates and copies. */
  public GatewayConfig {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(revision, "revision");
    Objects.requireNonNull(gateway, "gateway");
    Objects.requireNonNull(identity, "identity");
    backends = List.copyOf(backends);
    if (backends.isEmpty()) {
      throw new IllegalArgumentException("a gateway needs at least one backend");
    }
    Set<String> names = new HashSet<>();
    for (Backend backend : backends) {
      if (!names.add(backend.name())) {
        throw new IllegalArgumentException("duplicate backend name '" + backend.name() + "'");
      }
      if (backend.name().contains(gateway.namespacing().separator())) {
        throw new IllegalArgumentException("backend name '" + backend.name()
            + "' contains the separator '" + gateway.namespacing().separator() + "'");
      }
    }
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(killSwitch, "killSwitch");
    Objects.requireNonNull(notifications, "notifications");
    Objects.requireNonNull(audit, "audit");
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(sharedState, "sharedState");
    Objects.requireNonNull(server, "server");
    Objects.requireNonNull(llm, "llm");
    Objects.requireNonNull(telemetry, "telemetry");
  }

  /**
   * Whether serving this config needs its database: an {@code identity.api_key} is verified
   * against the database's key store, and a {@code database} audit sink writes to it.
   */
  public boolean needsDatabase() {
    return identity.apiKey() != null || audit.usesDatabase();
  }

  /**
   * The {@link #revision()} a config file with this text gets: {@code sha256:} and the first 12
   * hex digits of the SHA-256 of its UTF-8 bytes. For watchers that tell whether a file changed.
   */
  public static String revisionOf(String text) {
    return ConfigLoader.revision(text);
  }

  /**
   * Loads and checks a config file (UTF-8). Relative paths in it are resolved against the
   * file's directory.
   *
   * @param file the config file
   * @param environment the variables {@code ${env:...}} and {@code inherit_env} read, usually
   *     {@link System#getenv()}
   * @throws ConfigException listing every problem found, each located
   */
  public static GatewayConfig load(Path file, Map<String, String> environment) {
    return load(file, environment, PolicyOptions.defaults());
  }

  /**
   * Loads and checks a config file (UTF-8) whose policy may use the condition languages of
   * {@code policyOptions} (such as CEL's {@code when_cel}). Relative paths in it are resolved
   * against the file's directory.
   *
   * @param file the config file
   * @param environment the variables {@code ${env:...}} and {@code inherit_env} read, usually
   *     {@link System#getenv()}
   * @param policyOptions how the policy is compiled
   * @throws ConfigException listing every problem found, each located
   */
  public static GatewayConfig load(
      Path file, Map<String, String> environment, PolicyOptions policyOptions) {
    return ConfigLoader.load(file, environment, policyOptions, false, BundleSources.files());
  }

  /**
   * As {@link #load(Path, Map, PolicyOptions)}, reading a signed bundle that a {@code bundle:}
   * section names through {@code sources}: a file, or a channel of the fleet's database ({@code
   * source: database}) when the sources can open one (sentinel-jdbc's {@code JdbcBundleSources}).
   *
   * @throws ConfigException listing every problem found, each located
   */
  public static GatewayConfig load(Path file, Map<String, String> environment,
      PolicyOptions policyOptions, BundleSources sources) {
    return ConfigLoader.load(file, environment, policyOptions, false, sources);
  }

  /**
   * As {@link #load(Path, Map, PolicyOptions)}, accepting a signed bundle that is not newer than
   * the one the gateway applied last: an operator's explicit choice to roll back, which the
   * gateway records in its audit trail when it applies the config ({@link RunningBundle#rollback}).
   * The bundle's signatures and threshold are checked as always.
   *
   * @throws ConfigException listing every problem found, each located
   */
  public static GatewayConfig loadAllowingRollback(
      Path file, Map<String, String> environment, PolicyOptions policyOptions) {
    return ConfigLoader.load(file, environment, policyOptions, true, BundleSources.files());
  }

  /**
   * As {@link #loadAllowingRollback(Path, Map, PolicyOptions)}, reading the bundle through
   * {@code sources} as {@link #load(Path, Map, PolicyOptions, BundleSources)} does.
   *
   * @throws ConfigException listing every problem found, each located
   */
  public static GatewayConfig loadAllowingRollback(Path file, Map<String, String> environment,
      PolicyOptions policyOptions, BundleSources sources) {
    return ConfigLoader.load(file, environment, policyOptions, true, sources);
  }

  /**
   * Parses and checks a config given as text.
   *
   * @param yaml the config
   * @param source a file name or label for messages
   * @param baseDir the directory relative paths are resolved against
   * @param environment the variables {@code ${env:...}} and {@code inherit_env} read
   * @throws ConfigException listing every problem found, each located
   */
  public static GatewayConfig parse(
      String yaml, String source, Path baseDir, Map<String, String> environment) {
    return parse(yaml, source, baseDir, environment, PolicyOptions.defaults());
  }

  /**
   * Parses and checks a config given as text, whose policy may use the condition languages of
   * {@code policyOptions}.
   *
   * @param yaml the config
   * @param source a file name or label for messages
   * @param baseDir the directory relative paths are resolved against
   * @param environment the variables {@code ${env:...}} and {@code inherit_env} read
   * @param policyOptions how the policy is compiled
   * @throws ConfigException listing every problem found, each located
   */
  public static GatewayConfig parse(String yaml, String source, Path baseDir,
      Map<String, String> environment, PolicyOptions policyOptions) {
    return ConfigLoader.parse(yaml, source, baseDir, environment, policyOptions, false,
        BundleSources.files());
  }

  /**
   * Reads only the {@code database:} section of a config file (the embedded default when it has
   * none), for commands that work on the database ({@code sentinel keys}, {@code sentinel
   * audit}): the rest of the file is not checked, so that an {@code ${env:...}} the gateway
   * needs need not be set to manage its keys.
   *
   * @throws ConfigException listing the section's problems, each located
   */
  public static DatabaseSettings loadDatabase(Path file, Map<String, String> environment) {
    return ConfigLoader.loadDatabase(file, environment);
  }

  /** The signed bundle the config came from, if it came from one. */
  public Optional<RunningBundle> fromBundle() {
    return Optional.ofNullable(bundle);
  }

  /** The backend with this name, if there is one. */
  public Optional<Backend> backend(String name) {
    for (Backend backend : backends) {
      if (backend.name().equals(name)) {
        return Optional.of(backend);
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return "GatewayConfig[source=" + source + ", revision=" + revision + ", gateway=" + gateway
        + ", identity=" + identity + ", backends=" + backends + ", policy=" + policy
        + ", killSwitch=" + killSwitch + ", audit=" + audit + ", database=" + database
        + ", sharedState=" + sharedState + "]";
  }
}
