package dev.sentinel.core.config;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleSources;
import dev.sentinel.core.bundle.RunningBundle;
import dev.sentinel.core.config.ConfigException.Problem;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyOptions;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Reads a gateway config file into a {@link GatewayConfig}: reads the file (or the config inside
 * a verified bundle), checks the top-level keys, has each section read by its own
 * {@code …SectionReader} over one shared {@link ConfigReader} and {@link Expander}, and assembles
 * the result, reporting every problem of every section together. Not thread-safe: one per load.
 *
 * <p>{@link #SECTIONS} is the format's whole vocabulary, gathered from the section readers; the
 * JSON Schema shipped beside this class must list the same keys (a test walks both).
 */
final class ConfigLoader {
  static final List<String> TOP_KEYS =
      List.of("gateway", "identity", "backends", "policy", "kill_switch", "audit", "database",
          "shared_state", "server", "llm", "notify", "telemetry", "bundle");

  /**
   * Every mapping of the format by its name in the JSON Schema's {@code $defs} ({@code ""} for
   * the root), with the keys the loader accepts there.
   */
  static final Map<String, List<String>> SECTIONS = Map.ofEntries(
      Map.entry("", TOP_KEYS),
      Map.entry("gateway", GatewaySectionReader.GATEWAY_KEYS),
      Map.entry("namespacing", GatewaySectionReader.NAMESPACING_KEYS),
      Map.entry("identity", IdentitySectionReader.IDENTITY_KEYS),
      Map.entry("principal", IdentitySectionReader.PRINCIPAL_KEYS),
      Map.entry("backend", BackendsSectionReader.BACKEND_KEYS),
      Map.entry("pinning", BackendsSectionReader.PINNING_KEYS),
      Map.entry("stdio", BackendsSectionReader.STDIO_KEYS),
      Map.entry("http", BackendsSectionReader.HTTP_KEYS),
      Map.entry("policyFile", PolicySectionReader.POLICY_FILE_KEYS),
      Map.entry("killSwitch", KillSwitchSectionReader.KILL_SWITCH_KEYS),
      Map.entry("audit", AuditSectionReader.AUDIT_KEYS),
      Map.entry("auditCheckpoint", AuditSectionReader.CHECKPOINT_KEYS),
      Map.entry("sink", AuditSectionReader.SINK_KINDS),
      Map.entry("jsonlSink", AuditSectionReader.JSONL_KEYS),
      Map.entry("slf4jSink", AuditSectionReader.SLF4J_KEYS),
      Map.entry("databaseSink", AuditSectionReader.DATABASE_SINK_KEYS),
      Map.entry("database", DatabaseSectionReader.DATABASE_KEYS),
      Map.entry("sharedState", SharedStateSectionReader.SHARED_STATE_KEYS),
      Map.entry("sharedLimits", SharedStateSectionReader.SHARED_LIMITS_KEYS),
      Map.entry("redis", SharedStateSectionReader.REDIS_KEYS),
      Map.entry("server", ServerSectionReader.SERVER_KEYS),
      Map.entry("admin", ServerSectionReader.ADMIN_KEYS),
      Map.entry("jwt", ServerSectionReader.JWT_KEYS),
      Map.entry("oauth", ServerSectionReader.OAUTH_KEYS),
      Map.entry("metrics", ServerSectionReader.METRICS_KEYS),
      Map.entry("tls", ServerSectionReader.TLS_KEYS),
      Map.entry("llm", LlmSectionReader.LLM_KEYS),
      Map.entry("llmUpstream", LlmSectionReader.UPSTREAM_KEYS),
      Map.entry("llmAlias", LlmSectionReader.ALIAS_KEYS),
      Map.entry("llmBudget", LlmSectionReader.BUDGET_KEYS),
      Map.entry("notify", NotifySectionReader.NOTIFY_KEYS),
      Map.entry("telemetry", TelemetrySectionReader.TELEMETRY_KEYS),
      Map.entry("otlp", TelemetrySectionReader.OTLP_KEYS),
      Map.entry("bundle", BundleConfigLoader.BUNDLE_KEYS));

  private final YamlDocument document;
  private final ConfigReader in;
  private final Map<String, String> environment;
  private final Path baseDir;
  private final Expander expander;
  private final PolicyOptions policyOptions;
  /** The signed bundle the config comes from (its policy is read from it), or null. */
  private final @Nullable Bundle bundle;
  private final @Nullable RunningBundle running;

  private ConfigLoader(YamlDocument document, Map<String, String> environment, Path baseDir,
      PolicyOptions policyOptions) {
    this(document, environment, baseDir, policyOptions, null, null);
  }

  private ConfigLoader(YamlDocument document, Map<String, String> environment, Path baseDir,
      PolicyOptions policyOptions, @Nullable Bundle bundle, @Nullable RunningBundle running) {
    this.bundle = bundle;
    this.running = running;
    this.document = document;
    this.policyOptions = policyOptions;
    this.in = new ConfigReader(document);
    this.environment = environment;
    this.baseDir = baseDir;
    this.expander = new Expander(in, environment, baseDir);
  }

  static GatewayConfig load(Path file, Map<String, String> environment,
      PolicyOptions policyOptions, boolean allowRollback, BundleSources sources) {
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(policyOptions, "policyOptions");
    Objects.requireNonNull(sources, "sources");
    return parse(read(file), file.toString(), directory(file), environment, policyOptions,
        allowRollback, sources);
  }

  /** The config inside a verified bundle: see {@link BundleConfigLoader}. */
  static GatewayConfig fromBundle(YamlDocument document, Map<String, String> environment,
      Path baseDir, PolicyOptions policyOptions, Bundle bundle, RunningBundle running) {
    return new ConfigLoader(document, Map.copyOf(environment), baseDir, policyOptions, bundle,
        running).read();
  }

  static DatabaseSettings loadDatabase(Path file, Map<String, String> environment) {
    Objects.requireNonNull(environment, "environment");
    YamlDocument document = YamlDocument.parse(read(file), file.toString());
    if (BundleConfigLoader.namesBundle(document)) {
      return BundleConfigLoader.database(document, directory(file), environment);
    }
    return databaseOf(document, environment, directory(file));
  }

  /** The {@code database:} section of a config document alone. */
  static DatabaseSettings databaseOf(YamlDocument document, Map<String, String> environment,
      Path baseDir) {
    ConfigReader in = new ConfigReader(document);
    Expander expander = new Expander(in, Map.copyOf(environment), baseDir);
    DatabaseSettings settings = new DatabaseSectionReader(in, expander, baseDir).read();
    in.throwIfErrors();
    return settings;
  }

  private static Path directory(Path file) {
    Path absolute = file.toAbsolutePath().normalize();
    return absolute.getParent() == null ? absolute.getRoot() : absolute.getParent();
  }

  private static String read(Path file) {
    Objects.requireNonNull(file, "file");
    String source = file.toString();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw fileProblem(source, "the config file does not exist; check the path (a relative one"
          + " starts from " + Path.of("").toAbsolutePath() + ")", e);
    } catch (AccessDeniedException e) {
      throw fileProblem(source, "permission denied reading the config file; make it readable by"
          + " the user running sentinel (" + System.getProperty("user.name") + ")", e);
    } catch (CharacterCodingException e) {
      throw fileProblem(source, "the config file is not valid UTF-8; save it as UTF-8", e);
    } catch (IOException e) {
      throw fileProblem(source, "cannot read the config file: " + e, e);
    }
    return text;
  }

  static GatewayConfig parse(String yaml, String source, Path baseDir,
      Map<String, String> environment, PolicyOptions policyOptions, boolean allowRollback,
      BundleSources sources) {
    Objects.requireNonNull(yaml, "yaml");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(baseDir, "baseDir");
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(policyOptions, "policyOptions");
    YamlDocument document = YamlDocument.parse(yaml, source);
    Path base = baseDir.toAbsolutePath().normalize();
    if (BundleConfigLoader.namesBundle(document)) {
      return BundleConfigLoader.load(document, base, environment, policyOptions, allowRollback,
          sources);
    }
    ConfigLoader loader = new ConfigLoader(document, Map.copyOf(environment), base, policyOptions);
    return loader.read();
  }

  private static ConfigException fileProblem(String source, String message, Exception cause) {
    return new ConfigException(List.of(new Problem(source, 0, 0, "", null, message)), cause);
  }

  private GatewayConfig read() {
    if (!in.checkKeys("", null, TOP_KEYS)) {
      in.throwIfErrors();
    }
    if (in.present("/bundle", null, false)) {
      in.error("/bundle", null, "a config that runs a bundle holds only 'bundle:'");
    }
    Gateway gateway = new GatewaySectionReader(in, expander).read();
    Identity identity = new IdentitySectionReader(in, expander).read();
    List<Backend> backends =
        new BackendsSectionReader(in, expander, environment, baseDir).read(gateway);
    PolicySectionReader policyReader =
        new PolicySectionReader(in, expander, baseDir, policyOptions, bundle);
    PolicyEngine policy = policyReader.read();
    List<Problem> foreign = policyReader.foreign();
    KillSwitch.State killSwitch = new KillSwitchSectionReader(in, expander).read(backends);
    Audit audit = new AuditSectionReader(in, expander).read();
    DatabaseSettings database = new DatabaseSectionReader(in, expander, baseDir).read();
    SharedState sharedState = new SharedStateSectionReader(in, expander).read();
    Server server = new ServerSectionReader(in, expander).read();
    LlmSettings llm = new LlmSectionReader(in, expander).read();
    NotifySettings notify = new NotifySectionReader(in, expander).read();
    Telemetry telemetry = new TelemetrySectionReader(in, expander).read();
    if (in.hasErrors() || !foreign.isEmpty()) {
      List<Problem> all = new ArrayList<>();
      try {
        in.throwIfErrors();
      } catch (ConfigException e) {
        all.addAll(e.problems());
      }
      all.addAll(foreign);
      throw new ConfigException(all);
    }
    if (policy == null) {
      throw new IllegalStateException("the policy was refused without a problem recorded");
    }
    return new GatewayConfig(document.source(), revision(document.text()), gateway, identity,
        backends, policy, killSwitch, audit, database, sharedState, server, llm, notify, telemetry,
        running);
  }

  static String revision(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return "sha256:" + HexFormat.of().formatHex(digest).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
