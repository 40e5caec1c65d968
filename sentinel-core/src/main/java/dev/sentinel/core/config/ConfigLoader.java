package dev.sentinel.core.config;

import dev.sentinel.api.Principal;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.AuditMode;
import dev.sentinel.core.audit.DigestKey;
import dev.sentinel.core.auth.ApiKeys;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleSources;
import dev.sentinel.core.bundle.RunningBundle;
import dev.sentinel.core.config.ConfigException.Problem;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.limit.LimitSync;
import dev.sentinel.core.limit.SharedLimits;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.policy.PolicyEngine;
import dev.sentinel.core.policy.PolicyOptions;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Reads a gateway config file into a {@link GatewayConfig}, checking every key and value and
 * collecting every problem with its location. Not thread-safe: one per load.
 *
 * <p>The key lists below are the loader's whole vocabulary; the JSON Schema shipped beside this
 * class must list the same keys (a test walks both).
 */
final class ConfigLoader {
  static final List<String> TOP_KEYS =
      List.of("gateway", "identity", "backends", "policy", "kill_switch", "audit", "database",
          "shared_state", "server", "llm", "notify", "telemetry", "bundle");
  static final List<String> GATEWAY_KEYS =
      List.of("name", "namespacing", "request_timeout", "start_timeout", "max_pending_requests",
          "max_message_bytes", "max_depth", "max_in_flight_per_principal");
  static final List<String> NAMESPACING_KEYS = List.of("separator", "prefix_single_backend");
  static final List<String> IDENTITY_KEYS = List.of("principal", "api_key");
  static final List<String> PRINCIPAL_KEYS = List.of("id", "roles", "attributes");
  static final List<String> BACKEND_KEYS = List.of("name", "stdio", "http", "isolation",
      "max_connections", "max_connections_per_principal", "idle_timeout", "resource_prefixes", "validate",
      "pinning");
  static final List<String> PINNING_KEYS = List.of("mode", "block_hidden_instructions");
  static final List<String> STDIO_KEYS = List.of("command", "args", "env", "inherit_env", "cwd");
  static final List<String> HTTP_KEYS =
      List.of("url", "headers", "connect_timeout", "request_timeout");
  static final List<String> POLICY_FILE_KEYS = List.of("file");
  static final List<String> KILL_SWITCH_KEYS = List.of("all", "backends", "tools", "principals");
  static final List<String> AUDIT_KEYS = List.of("sinks", "mode", "on_sink_failure",
      "when_full", "queue_capacity", "retention", "checkpoint", "digest_key", "llm_bodies");
  static final List<String> CHECKPOINT_KEYS = List.of("key", "file", "every", "records");
  static final List<String> SINK_KINDS = List.of("jsonl", "slf4j", "database");
  static final List<String> DATABASE_SINK_KEYS = List.of();
  static final List<String> DATABASE_KEYS = List.of("url", "user", "password", "sync_interval");
  static final List<String> SHARED_STATE_KEYS = List.of("limits", "redis");
  static final List<String> SHARED_LIMITS_KEYS = List.of("sync", "on_unavailable");
  static final List<String> REDIS_KEYS =
      List.of("url", "username", "password", "ca_file", "timeout", "kill_switch");
  static final List<String> SERVER_KEYS = List.of("host", "port", "path", "allowed_origins",
      "allowed_hosts", "max_sessions", "max_sessions_per_principal", "max_streams_per_principal",
      "max_connections", "header_timeout", "keep_alive", "session_idle_timeout", "drain_timeout",
      "anonymous", "admin", "jwt", "oauth", "metrics", "tls");
  static final List<String> TLS_KEYS = List.of("certificate", "key");
  static final List<String> ADMIN_KEYS = List.of("token", "roles");
  static final List<String> JWT_KEYS = List.of("issuer", "audience", "jwks_url", "algorithms",
      "clock_skew", "principal_claim", "roles_claim", "attribute_claims", "jwks_cache_ttl",
      "jwks_min_refresh_interval");
  static final List<String> OAUTH_KEYS =
      List.of("resource", "authorization_servers", "scopes_supported");
  static final List<String> METRICS_KEYS = List.of("public");
  static final List<String> JSONL_KEYS = List.of("file", "fsync");
  static final List<String> SLF4J_KEYS = List.of("logger");

  /**
   * Every mapping of the format by its name in the JSON Schema's {@code $defs} ({@code ""} for
   * the root), with the keys the loader accepts there.
   */
  static final Map<String, List<String>> SECTIONS = Map.ofEntries(
      Map.entry("", TOP_KEYS),
      Map.entry("gateway", GATEWAY_KEYS),
      Map.entry("namespacing", NAMESPACING_KEYS),
      Map.entry("identity", IDENTITY_KEYS),
      Map.entry("principal", PRINCIPAL_KEYS),
      Map.entry("backend", BACKEND_KEYS),
      Map.entry("pinning", PINNING_KEYS),
      Map.entry("stdio", STDIO_KEYS),
      Map.entry("http", HTTP_KEYS),
      Map.entry("policyFile", POLICY_FILE_KEYS),
      Map.entry("killSwitch", KILL_SWITCH_KEYS),
      Map.entry("audit", AUDIT_KEYS),
      Map.entry("auditCheckpoint", CHECKPOINT_KEYS),
      Map.entry("sink", SINK_KINDS),
      Map.entry("jsonlSink", JSONL_KEYS),
      Map.entry("slf4jSink", SLF4J_KEYS),
      Map.entry("databaseSink", DATABASE_SINK_KEYS),
      Map.entry("database", DATABASE_KEYS),
      Map.entry("sharedState", SHARED_STATE_KEYS),
      Map.entry("sharedLimits", SHARED_LIMITS_KEYS),
      Map.entry("redis", REDIS_KEYS),
      Map.entry("server", SERVER_KEYS),
      Map.entry("admin", ADMIN_KEYS),
      Map.entry("jwt", JWT_KEYS),
      Map.entry("oauth", OAUTH_KEYS),
      Map.entry("metrics", METRICS_KEYS),
      Map.entry("tls", TLS_KEYS),
      // The LLM route's section has its own reader.
      Map.entry("llm", LlmSectionReader.LLM_KEYS),
      Map.entry("llmUpstream", LlmSectionReader.UPSTREAM_KEYS),
      Map.entry("llmAlias", LlmSectionReader.ALIAS_KEYS),
      Map.entry("llmBudget", LlmSectionReader.BUDGET_KEYS),
      Map.entry("notify", NotifySectionReader.NOTIFY_KEYS),
      Map.entry("telemetry", TelemetrySectionReader.TELEMETRY_KEYS),
      Map.entry("otlp", TelemetrySectionReader.OTLP_KEYS),
      Map.entry("bundle", BundleConfigLoader.BUNDLE_KEYS));

  /**
   * What a stdio backend inherits without {@code inherit_env}: the variables a program needs to
   * find other programs and its user's files, as the MCP SDKs do.
   */
  static final List<String> DEFAULT_INHERITED_ENV =
      List.of("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER");

  /** Headers that the HTTP client or the gateway sets itself. */
  private static final Set<String> RESERVED_HEADERS = Set.of("connection", "content-length",
      "expect", "host", "upgrade", "mcp-session-id", "mcp-protocol-version");
  private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
  private static final int MAX_QUEUE_CAPACITY = 1 << 24;

  private final YamlDocument document;
  private final ConfigReader in;
  private final Map<String, String> environment;
  private final Path baseDir;
  private final Expander expander;
  private final PolicyOptions policyOptions;
  /** Problems of other files (the policy file), reported after the config's own. */
  private final List<Problem> foreign = new ArrayList<>();
  /** The signed bundle the config comes from (its policy is read from it), or null. */
  private final Bundle bundle;
  private final RunningBundle running;

  private ConfigLoader(YamlDocument document, Map<String, String> environment, Path baseDir,
      PolicyOptions policyOptions) {
    this(document, environment, baseDir, policyOptions, null, null);
  }

  private ConfigLoader(YamlDocument document, Map<String, String> environment, Path baseDir,
      PolicyOptions policyOptions, Bundle bundle, RunningBundle running) {
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
    ConfigLoader loader = new ConfigLoader(document, Map.copyOf(environment), baseDir,
        PolicyOptions.defaults());
    DatabaseSettings settings = loader.database();
    loader.in.throwIfErrors();
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
    Gateway gateway = gateway();
    Identity identity = identity();
    List<Backend> backends = backends(gateway);
    PolicyEngine policy = policy();
    KillSwitch.State killSwitch = killSwitch(backends);
    Audit audit = audit();
    DatabaseSettings database = database();
    SharedState sharedState = sharedState();
    Server server = server();
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

  // ---- gateway -----------------------------------------------------------------------------

  private Gateway gateway() {
    String p = "/gateway";
    if (!section(p, null, GATEWAY_KEYS)) {
      return Gateway.DEFAULTS;
    }
    String name = Gateway.DEFAULT_NAME;
    if (in.present(p + "/name", null, false)) {
      String text = in.string(p + "/name", null, "the gateway's name");
      if (text != null && text.isBlank()) {
        in.error(p + "/name", null, "the gateway's name must not be blank");
      } else if (text != null) {
        name = text;
      }
    }
    Gateway.Namespacing namespacing = namespacing(p + "/namespacing");
    Duration requestTimeout = duration(p + "/request_timeout", null, Gateway.DEFAULT_REQUEST_TIMEOUT);
    Duration startTimeout = duration(p + "/start_timeout", null, Gateway.DEFAULT_START_TIMEOUT);
    int pending = integer(p + "/max_pending_requests", null, "max_pending_requests",
        Gateway.DEFAULT_MAX_PENDING_REQUESTS, 1_000_000);
    long bytes = size(p + "/max_message_bytes", null, Gateway.DEFAULT_MAX_MESSAGE_BYTES,
        Gateway.MAX_MESSAGE_BYTES_LIMIT);
    int depth = integer(p + "/max_depth", null, "max_depth", Gateway.DEFAULT_MAX_DEPTH,
        Gateway.MAX_DEPTH_LIMIT);
    int inFlight = integer(p + "/max_in_flight_per_principal", null, "max_in_flight_per_principal",
        Gateway.DEFAULT_MAX_IN_FLIGHT_PER_PRINCIPAL, 1_000_000);
    return new Gateway(name, namespacing, requestTimeout, startTimeout, pending, bytes, depth, inFlight);
  }

  private Gateway.Namespacing namespacing(String p) {
    if (!section(p, null, NAMESPACING_KEYS)) {
      return Gateway.Namespacing.DEFAULTS;
    }
    String separator = Gateway.Namespacing.DEFAULTS.separator();
    if (in.present(p + "/separator", null, false)) {
      String text = in.string(p + "/separator", null, "a separator such as \"__\"");
      if (text != null) {
        if (text.isEmpty() || text.chars().anyMatch(Character::isWhitespace)) {
          in.error(p + "/separator", null,
              "the separator must be non-empty and contain no whitespace, such as \"__\"");
        } else {
          separator = text;
        }
      }
    }
    boolean prefix = bool(p + "/prefix_single_backend", null,
        Gateway.Namespacing.DEFAULTS.prefixSingleBackend());
    return new Gateway.Namespacing(separator, prefix);
  }

  // ---- identity ----------------------------------------------------------------------------

  private Identity identity() {
    String p = "/identity";
    if (!section(p, null, IDENTITY_KEYS)) {
      return Identity.ANONYMOUS;
    }
    boolean hasPrincipal = in.present(p + "/principal", null, false);
    boolean hasKey = in.present(p + "/api_key", null, false);
    if (hasPrincipal == hasKey) {
      in.error(p, null, hasKey
          ? "give either principal or api_key, not both"
          : "expected principal: { id: ..., roles: [...] } or api_key: \"${env:SENTINEL_API_KEY}\"");
      return Identity.ANONYMOUS;
    }
    if (hasKey) {
      String raw = secretText(p + "/api_key", null, "an API key reference such as "
          + "\"${env:SENTINEL_API_KEY}\"");
      if (raw == null) {
        return Identity.ANONYMOUS;
      }
      String key = expander.expand(raw, p + "/api_key", null);
      if (key == null) {
        return Identity.ANONYMOUS;
      }
      if (!ApiKeys.looksLikeKey(key)) {
        in.error(p + "/api_key", null, "the api_key " + describeSecret(raw)
            + " is not a Sentinel API key (snk_<id>_<secret>); issue one with the key store");
        return Identity.ANONYMOUS;
      }
      return Identity.ofApiKey(key);
    }
    Principal principal = principal(p + "/principal");
    return principal == null ? Identity.ANONYMOUS : Identity.of(principal);
  }

  /** A {@code principal} mapping, or {@code null} after recording its problems. */
  private Principal principal(String pp) {
    if (!in.checkKeys(pp, null, PRINCIPAL_KEYS)) {
      return null;
    }
    String id = null;
    if (in.present(pp + "/id", null, true)) {
      id = in.string(pp + "/id", null, "a principal id");
      if (id != null && id.isBlank()) {
        in.error(pp + "/id", null, "the principal id must not be blank");
        id = null;
      }
    }
    Set<String> roles = new LinkedHashSet<>();
    if (in.present(pp + "/roles", null, false)) {
      roles.addAll(in.names(pp + "/roles", null, "role names"));
    }
    Map<String, List<String>> attributes = new LinkedHashMap<>();
    String ap = pp + "/attributes";
    if (in.present(ap, null, false)) {
      JsonNode node = in.node(ap);
      if (!node.isObject()) {
        in.error(ap, null, "expected a mapping of attribute names to values, got "
            + ConfigReader.describe(node));
      } else {
        for (String name : node.propertyNames()) {
          attributes.put(name, in.names(YamlDocument.child(ap, name), null, "attribute values"));
        }
      }
    }
    return id == null ? null : new Principal(id, roles, attributes);
  }

  // ---- server ------------------------------------------------------------------------------

  private Server server() {
    String p = "/server";
    if (!section(p, null, SERVER_KEYS)) {
      return Server.DEFAULTS;
    }
    Server d = Server.DEFAULTS;
    String host = d.host();
    if (in.present(p + "/host", null, false)) {
      String text = in.string(p + "/host", null, "an address to bind, such as 127.0.0.1");
      if (text != null && text.isBlank()) {
        in.error(p + "/host", null, "the host must not be blank; 127.0.0.1 binds loopback only");
      } else if (text != null) {
        host = text.strip();
      }
    }
    int port = d.port();
    if (in.present(p + "/port", null, false)) {
      JsonNode node = in.node(p + "/port");
      if (!node.isIntegralNumber() || !node.canConvertToInt() || node.intValue() < 0
          || node.intValue() > 65_535) {
        in.error(p + "/port", null, "expected a port from 0 (any free port) to 65535, got "
            + ConfigReader.describe(node));
      } else {
        port = node.intValue();
      }
    }
    String path = d.path();
    if (in.present(p + "/path", null, false)) {
      String text = in.string(p + "/path", null, "an endpoint path such as /mcp");
      if (text != null && (!text.startsWith("/") || text.length() < 2 || text.contains("?")
          || text.contains("#"))) {
        in.error(p + "/path", null, "the path must start with '/' and name an endpoint, such as"
            + " /mcp, got '" + text + "'");
      } else if (text != null) {
        path = text;
      }
    }
    Set<String> origins = new LinkedHashSet<>();
    if (in.present(p + "/allowed_origins", null, false)) {
      origins.addAll(in.names(p + "/allowed_origins", null,
          "origins such as https://app.example.com, https://host:* or *"));
    }
    Set<String> hosts = new LinkedHashSet<>();
    if (in.present(p + "/allowed_hosts", null, false)) {
      hosts.addAll(in.names(p + "/allowed_hosts", null,
          "Host header values such as mcp.example.com or mcp.example.com:8443"));
    }
    int sessions = integer(p + "/max_sessions", null, "max_sessions", d.maxSessions(), 1_000_000);
    int connections = integer(p + "/max_connections", null, "max_connections",
        d.maxConnections(), 1_000_000);
    // Unset, a principal's share follows the limit it divides.
    int sessionsEach = integer(p + "/max_sessions_per_principal", null,
        "max_sessions_per_principal", Server.perPrincipal(sessions), sessions);
    int streamsEach = integer(p + "/max_streams_per_principal", null,
        "max_streams_per_principal", Server.perPrincipal(connections), connections);
    Duration headerTimeout = duration(p + "/header_timeout", null, d.headerTimeout());
    Duration keepAlive = duration(p + "/keep_alive", null, d.keepAlive());
    Duration idle = duration(p + "/session_idle_timeout", null, d.sessionIdleTimeout());
    Duration drain = duration(p + "/drain_timeout", null, d.drainTimeout());
    Optional<Principal> anonymous = Optional.empty();
    if (in.present(p + "/anonymous", null, false)) {
      anonymous = Optional.ofNullable(principal(p + "/anonymous"));
    }
    return new Server(host, port, path, origins, hosts, sessions, sessionsEach, streamsEach,
        connections, headerTimeout, keepAlive, idle, drain, anonymous, admin(p + "/admin"),
        jwt(p + "/jwt"), oauth(p + "/oauth"), publicMetrics(p + "/metrics"), tls(p + "/tls"));
  }

  /**
   * The certificate and key files, resolved against the config's directory. They are read when
   * the HTTP gateway starts (and whenever they change), not here: a config check names them,
   * the runner says what is wrong with their contents.
   */
  private Optional<Tls> tls(String p) {
    String subject = null;
    if (!section(p, subject, TLS_KEYS)) {
      return Optional.empty();
    }
    Path certificate = file(p + "/certificate", subject, "a PEM file of the certificate chain,"
        + " such as /etc/sentinel/tls/fullchain.pem");
    Path key = file(p + "/key", subject, "a PEM file of the certificate's private key (PKCS#8),"
        + " such as /etc/sentinel/tls/privkey.pem");
    if (certificate == null || key == null) {
      return Optional.empty();
    }
    return Optional.of(new Tls(certificate, key));
  }

  private Optional<Jwt> jwt(String p) {
    if (!section(p, null, JWT_KEYS)) {
      return Optional.empty();
    }
    String issuer = null;
    if (in.present(p + "/issuer", null, true)) {
      String raw = in.string(p + "/issuer", null, "the issuer of tokens, such as https://idp.example.com/");
      issuer = raw == null ? null : expander.expand(raw, p + "/issuer", null);
      if (issuer != null && issuer.isBlank()) {
        in.error(p + "/issuer", null, "the issuer must not be blank");
        issuer = null;
      }
    }
    List<String> audiences = List.of();
    if (in.present(p + "/audience", null, true)) {
      audiences = in.names(p + "/audience", null,
          "the audience tokens must name, such as https://mcp.example.com/mcp, or a list");
      if (audiences != null && audiences.isEmpty()) {
        in.error(p + "/audience", null, "the audience must name at least one value");
      }
    }
    URI jwks = null;
    if (in.present(p + "/jwks_url", null, true)) {
      String raw = in.string(p + "/jwks_url", null,
          "the URL of the signing keys, such as https://idp.example.com/.well-known/jwks.json");
      String text = raw == null ? null : expander.expand(raw, p + "/jwks_url", null);
      if (text != null) {
        jwks = url(text, raw, p + "/jwks_url", null);
      }
    }
    List<String> algorithms = Jwt.DEFAULT_ALGORITHMS;
    if (in.present(p + "/algorithms", null, false)) {
      List<String> named = in.names(p + "/algorithms", null, "algorithms such as [RS256, ES256]");
      if (named != null) {
        List<String> valid = new ArrayList<>();
        for (int i = 0; i < named.size(); i++) {
          String algorithm = named.get(i).strip();
          String upper = algorithm.toUpperCase(Locale.ROOT);
          String at = in.node(p + "/algorithms").isArray() ? p + "/algorithms/" + i : p + "/algorithms";
          if (upper.equals("NONE")) {
            in.error(at, null, "algorithm 'none' means an unsigned token and is never accepted");
          } else if (upper.startsWith("HS")) {
            in.error(at, null, "algorithm '" + algorithm + "' is a shared-secret (HMAC) signature,"
                + " which the gateway does not accept: use the identity provider's RS256 or ES256 keys");
          } else if (!Jwt.SUPPORTED_ALGORITHMS.contains(algorithm)) {
            in.error(at, null, ConfigReader.unknown("algorithm", algorithm, Jwt.SUPPORTED_ALGORITHMS));
          } else if (!valid.contains(algorithm)) {
            valid.add(algorithm);
          }
        }
        if (named.isEmpty()) {
          in.error(p + "/algorithms", null, "name at least one algorithm, such as [RS256]");
        }
        algorithms = valid;
      }
    }
    Duration skew = Jwt.DEFAULT_CLOCK_SKEW;
    if (in.present(p + "/clock_skew", null, false)) {
      JsonNode node = in.node(p + "/clock_skew");
      skew = node.isString() && node.stringValue().strip().matches("0+\\s*(ms|s|m|h)")
          ? Duration.ZERO : duration(p + "/clock_skew", null, Jwt.DEFAULT_CLOCK_SKEW);
    }
    String principalClaim = claim(p + "/principal_claim", Jwt.DEFAULT_PRINCIPAL_CLAIM);
    String rolesClaim = claim(p + "/roles_claim", Jwt.DEFAULT_ROLES_CLAIM);
    List<String> attributeClaims = Jwt.DEFAULT_ATTRIBUTE_CLAIMS;
    if (in.present(p + "/attribute_claims", null, false)) {
      List<String> named = in.names(p + "/attribute_claims", null, "claim names such as [email, groups]");
      attributeClaims = named == null ? attributeClaims : named;
    }
    Duration ttl = duration(p + "/jwks_cache_ttl", null, Jwt.DEFAULT_JWKS_CACHE_TTL);
    Duration refresh = duration(p + "/jwks_min_refresh_interval", null,
        Jwt.DEFAULT_JWKS_MIN_REFRESH_INTERVAL);
    if (issuer == null || audiences == null || audiences.isEmpty() || jwks == null
        || algorithms.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Jwt(issuer, audiences, jwks, algorithms, skew, principalClaim,
        rolesClaim, attributeClaims, ttl, refresh));
  }

  private String claim(String p, String fallback) {
    if (!in.present(p, null, false)) {
      return fallback;
    }
    String text = in.string(p, null, "a claim name such as " + fallback);
    if (text == null || text.isBlank()) {
      if (text != null) {
        in.error(p, null, "the claim name must not be blank");
      }
      return fallback;
    }
    return text.strip();
  }

  private OAuth oauth(String p) {
    if (!section(p, null, OAUTH_KEYS)) {
      return OAuth.DEFAULTS;
    }
    Optional<URI> resource = Optional.empty();
    if (in.present(p + "/resource", null, false)) {
      String raw = in.string(p + "/resource", null, "the resource URL, such as https://mcp.example.com/mcp");
      String text = raw == null ? null : expander.expand(raw, p + "/resource", null);
      if (text != null) {
        resource = Optional.ofNullable(url(text, raw, p + "/resource", null));
      }
    }
    List<URI> servers = new ArrayList<>();
    if (in.present(p + "/authorization_servers", null, false)) {
      List<String> named = in.names(p + "/authorization_servers", null,
          "authorization server URLs, such as [https://idp.example.com/]");
      if (named != null) {
        for (String text : named) {
          URI uri = url(text, text, p + "/authorization_servers", null);
          if (uri != null) {
            servers.add(uri);
          }
        }
      }
    }
    List<String> scopes = List.of();
    if (in.present(p + "/scopes_supported", null, false)) {
      List<String> named = in.names(p + "/scopes_supported", null, "scope names such as [mcp:tools]");
      scopes = named == null ? scopes : named;
    }
    return new OAuth(resource, servers, scopes);
  }

  private boolean publicMetrics(String p) {
    return section(p, null, METRICS_KEYS) && bool(p + "/public", null, false);
  }

  private Optional<Admin> admin(String p) {
    if (!section(p, null, ADMIN_KEYS)) {
      return Optional.empty();
    }
    List<String> roles = in.present(p + "/roles", null, false)
        ? List.copyOf(in.names(p + "/roles", null, "operator role names")) : List.of();
    if (roles.stream().anyMatch(String::isBlank)) {
      in.error(p + "/roles", null, "an operator role must not be blank");
      return Optional.empty();
    }
    boolean tokenGiven = in.present(p + "/token", null, roles.isEmpty());
    if (!tokenGiven) {
      return roles.isEmpty() ? Optional.empty() : Optional.of(new Admin(null, roles));
    }
    String what = "a token reference such as \"${env:SENTINEL_ADMIN_TOKEN}\"";
    String raw = secretText(p + "/token", null, what);
    String token = raw == null ? null : expander.expand(raw, p + "/token", null);
    if (token == null) {
      return Optional.empty();
    }
    if (token.isBlank() || token.length() < Admin.MIN_TOKEN_LENGTH) {
      in.error(p + "/token", null, "the admin token " + describeSecret(raw) + " is too short: use"
          + " at least " + Admin.MIN_TOKEN_LENGTH + " random characters, such as the output of"
          + " 'openssl rand -base64 32'");
      return Optional.empty();
    }
    return Optional.of(new Admin(token, roles));
  }

  // ---- backends ----------------------------------------------------------------------------

  private List<Backend> backends(Gateway gateway) {
    String p = "/backends";
    List<Backend> out = new ArrayList<>();
    if (!in.present(p, null, true)) {
      return out;
    }
    JsonNode list = in.node(p);
    if (!list.isArray()) {
      in.error(p, null, "expected a list of backends (each '- name: ...'), got "
          + ConfigReader.describe(list));
      return out;
    }
    if (list.isEmpty()) {
      in.error(p, null, "expected at least one backend");
      return out;
    }
    Map<String, Integer> seen = new HashMap<>();
    Map<String, String> paths = new HashMap<>();
    for (int i = 0; i < list.size(); i++) {
      Backend backend = backend(YamlDocument.child(p, i), gateway, seen);
      if (backend != null) {
        out.add(backend);
        paths.put(backend.name(), YamlDocument.child(p, i) + "/name");
      }
    }
    ambiguousNames(out, paths, gateway.namespacing());
    return out;
  }

  /**
   * Refuses backend names that make namespaced names ambiguous: with {@code b} and {@code b_}
   * and the separator {@code __}, {@code b___x} is both {@code b}'s {@code _x} and {@code b_}'s
   * {@code x}, and a rule for {@code b__*} would match a tool of {@code b_}.
   */
  private void ambiguousNames(List<Backend> backends, Map<String, String> paths, Gateway.Namespacing namespacing) {
    if (!namespacing.prefixes(backends.size())) {
      return;
    }
    String separator = namespacing.separator();
    for (Backend a : backends) {
      for (Backend b : backends) {
        if (a != b && (b.name() + separator).startsWith(a.name() + separator)) {
          in.error(paths.get(b.name()), "backend '" + b.name() + "'", "the names '" + a.name() + "' and '"
              + b.name() + "' make qualified names ambiguous with the separator '" + separator + "' ('"
              + b.name() + separator + "x' could be a tool of either); rename one of them");
        }
      }
    }
  }

  private Backend backend(String p, Gateway gateway, Map<String, Integer> seen) {
    String separator = gateway.namespacing().separator();
    JsonNode node = in.node(p);
    String name = null;
    if (node.isObject() && in.present(p + "/name", null, true)) {
      name = in.string(p + "/name", null, "a backend name");
    }
    String subject = name == null ? null : "backend '" + name + "'";
    if (!in.checkKeys(p, subject, BACKEND_KEYS)) {
      return null;
    }
    boolean unknownKeys = false;
    for (String key : node.propertyNames()) {
      unknownKeys |= !BACKEND_KEYS.contains(key);
    }
    boolean valid = false;
    if (name != null) {
      if (!Backend.NAME.matcher(name).matches()) {
        in.error(p + "/name", subject, "invalid backend name: use lowercase letters, digits, "
            + "'_' and '-', starting with a letter or digit, at most 63 characters");
      } else if (name.contains(separator)) {
        in.error(p + "/name", subject, "the name contains the namespacing separator '"
            + separator + "', which would make qualified names ambiguous; rename it");
      } else if (seen.containsKey(name)) {
        in.error(p + "/name", subject, "duplicate backend name (first at line "
            + seen.get(name) + "); backend names must be unique");
      } else {
        seen.put(name, document.location(p + "/name").line());
        valid = true;
      }
    }
    boolean stdio = in.present(p + "/stdio", subject, false);
    boolean http = in.present(p + "/http", subject, false);
    if (stdio && http) {
      in.error(p + "/http", subject,
          "a backend is either stdio or http, not both; split it into two backends");
      return null;
    }
    if (!stdio && !http) {
      if (!unknownKeys) {
        in.error(p, subject, "expected one of stdio: { command: ... } or http: { url: ... }");
      }
      return null;
    }
    // The transport's section is checked even when the name is bad; the record needs a good one.
    String good = valid ? name : null;
    Connections connections = connections(p, subject);
    Backend backend = stdio ? stdio(p + "/stdio", good, subject)
        : http(p + "/http", good, subject, gateway.requestTimeout());
    if (backend instanceof StdioBackend) {
      StdioBackend s = (StdioBackend) backend;
      return new StdioBackend(s.name(), s.command(), s.env(), s.cwd(), connections);
    }
    if (backend instanceof HttpBackend) {
      HttpBackend h = (HttpBackend) backend;
      return new HttpBackend(h.name(), h.url(), h.headers(), h.connectTimeout(), h.requestTimeout(), connections);
    }
    return backend;
  }

  private Connections connections(String p, String subject) {
    Isolation isolation = null;
    if (in.present(p + "/isolation", subject, false)) {
      String text = in.string(p + "/isolation", subject, "one of shared, per_principal, per_session");
      if (text != null) {
        try {
          isolation = Isolation.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          in.error(p + "/isolation", subject, "expected one of shared, per_principal, per_session, got '" + text + "'");
        }
      }
    }
    int max = integer(p + "/max_connections", subject, "max_connections", 0, 100_000);
    int perPrincipal = integer(p + "/max_connections_per_principal", subject, "max_connections_per_principal",
        0, 100_000);
    if (max > 0 && perPrincipal > max) {
      in.error(p + "/max_connections_per_principal", subject,
          "max_connections_per_principal (" + perPrincipal + ") must not exceed max_connections (" + max + ")");
      perPrincipal = 0;
    }
    Duration idle = in.present(p + "/idle_timeout", subject, false)
        ? duration(p + "/idle_timeout", subject, null) : null;
    List<String> prefixes = new ArrayList<>();
    if (in.present(p + "/resource_prefixes", subject, false)) {
      JsonNode node = in.node(p + "/resource_prefixes");
      if (!node.isArray()) {
        in.error(p + "/resource_prefixes", subject, "expected a list of URI prefixes such as [\"file:///data/\"]");
      } else {
        for (int i = 0; i < node.size(); i++) {
          JsonNode item = node.get(i);
          if (!item.isString() || item.stringValue().isEmpty()) {
            in.error(YamlDocument.child(p + "/resource_prefixes", i), subject, "expected a non-empty URI prefix");
          } else {
            prefixes.add(item.stringValue());
          }
        }
      }
    }
    Validation validation = null;
    if (in.present(p + "/validate", subject, false)) {
      String text = in.string(p + "/validate", subject, "one of enforce, warn, off");
      if (text != null) {
        try {
          validation = Validation.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          in.error(p + "/validate", subject, "expected one of enforce, warn, off, got '" + text + "'");
        }
      }
    }
    Pinning.Mode pinning = null;
    boolean blockHidden = false;
    if (in.present(p + "/pinning", subject, false)) {
      JsonNode node = in.node(p + "/pinning");
      String modeAt = p + "/pinning";
      if (node.isObject()) {
        in.checkKeys(p + "/pinning", subject, PINNING_KEYS);
        blockHidden = bool(p + "/pinning/block_hidden_instructions", subject, false);
        modeAt = p + "/pinning/mode";
      }
      if (!node.isObject() || in.present(modeAt, subject, false)) {
        String text = in.string(modeAt, subject, "one of enforce, warn, off");
        if (text != null) {
          try {
            pinning = Pinning.Mode.valueOf(text.toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            in.error(modeAt, subject, "expected one of enforce, warn, off, got '" + text + "'");
          }
        }
      }
    }
    return new Connections(isolation, max, perPrincipal, idle, prefixes, validation, pinning, blockHidden);
  }

  private StdioBackend stdio(String p, String name, String subject) {
    if (!in.checkKeys(p, subject, STDIO_KEYS)) {
      return null;
    }
    boolean ok = true;
    List<String> command = new ArrayList<>();
    if (in.present(p + "/command", subject, true)) {
      String program = in.string(p + "/command", subject, "a program name or path");
      if (program == null) {
        ok = false;
      } else if (program.isBlank()) {
        in.error(p + "/command", subject, "the command must not be blank");
        ok = false;
      } else if (program.indexOf('/') < 0 && program.chars().anyMatch(Character::isWhitespace)) {
        in.error(p + "/command", subject, "the command '" + program + "' contains spaces, but "
            + "it is run without a shell; put the program in command and each argument in args");
        ok = false;
      } else {
        expander.forbid(program, p + "/command", subject, "command");
        Path path = program.indexOf('/') >= 0 ? resolve(program) : null;
        if (program.indexOf('/') >= 0 && path == null) {
          in.error(p + "/command", subject, "'" + program + "' is not a valid path");
          ok = false;
        } else {
          command.add(path != null ? path.toString() : program);
        }
      }
    } else {
      ok = false;
    }
    if (in.present(p + "/args", subject, false)) {
      List<String> args = in.names(p + "/args", subject, "arguments");
      for (int i = 0; i < args.size(); i++) {
        expander.forbid(args.get(i), YamlDocument.child(p + "/args", i), subject, "args");
      }
      command.addAll(args);
    }
    Map<String, String> env = new LinkedHashMap<>();
    List<String> inherit = DEFAULT_INHERITED_ENV;
    if (in.present(p + "/inherit_env", subject, false)) {
      inherit = in.names(p + "/inherit_env", subject, "environment variable names");
      for (String variable : inherit) {
        if (!Expander.ENV_NAME.matcher(variable).matches()) {
          in.error(p + "/inherit_env", subject, "invalid environment variable name '"
              + variable + "'");
        }
      }
    } else if (in.node(p + "/inherit_env").isNull()) {
      inherit = List.of();
    }
    for (String variable : inherit) {
      String value = environment.get(variable);
      if (value != null) {
        env.put(variable, value);
      }
    }
    Map<String, String> explicit = expandedMap(p + "/env", subject, "environment variables");
    for (String variable : explicit.keySet()) {
      if (!Expander.ENV_NAME.matcher(variable).matches()) {
        in.error(YamlDocument.child(p + "/env", variable), subject,
            "invalid environment variable name '" + variable
                + "' (expected letters, digits and '_', not starting with a digit)");
      }
    }
    env.putAll(explicit);
    Path cwd = baseDir;
    if (in.present(p + "/cwd", subject, false)) {
      String text = in.string(p + "/cwd", subject, "a directory");
      if (text == null) {
        ok = false;
      } else {
        expander.forbid(text, p + "/cwd", subject, "cwd");
        cwd = resolve(text);
        if (cwd == null) {
          in.error(p + "/cwd", subject, "'" + text + "' is not a valid path");
          ok = false;
        } else if (!Files.isDirectory(cwd)) {
          in.error(p + "/cwd", subject, "the working directory " + cwd + " does not exist "
              + "or is not a directory");
          ok = false;
        }
      }
    }
    return ok && name != null ? new StdioBackend(name, command, env, cwd) : null;
  }

  private HttpBackend http(String p, String name, String subject, Duration defaultTimeout) {
    if (!in.checkKeys(p, subject, HTTP_KEYS)) {
      return null;
    }
    URI url = null;
    if (in.present(p + "/url", subject, true)) {
      String raw = secretText(p + "/url", subject, "a URL such as https://mcp.example.com/mcp");
      String text = raw == null ? null : expander.expand(raw, p + "/url", subject);
      if (text != null) {
        url = url(text, raw, p + "/url", subject);
      }
    }
    Map<String, String> headers = new LinkedHashMap<>();
    Map<String, String> raw = rawMap(p + "/headers", subject, "headers");
    raw.forEach((header, template) -> {
      String hp = YamlDocument.child(p + "/headers", header);
      if (!HEADER_NAME.matcher(header).matches()) {
        in.error(hp, subject, "invalid header name '" + header + "'");
        return;
      }
      if (RESERVED_HEADERS.contains(header.toLowerCase(Locale.ROOT))) {
        in.error(hp, subject, "the header '" + header + "' is set by the gateway and cannot be"
            + " configured");
        return;
      }
      String value = expander.expand(template, hp, subject);
      if (value == null) {
        return;
      }
      if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        in.error(hp, subject, "the value of header '" + header + "' " + describeSecret(template)
            + " contains a line break");
        return;
      }
      headers.put(header, value);
    });
    Duration connect = duration(p + "/connect_timeout", subject, HttpBackend.DEFAULT_CONNECT_TIMEOUT);
    Duration request = duration(p + "/request_timeout", subject, defaultTimeout);
    if (url == null || name == null) {
      return null;
    }
    return new HttpBackend(name, url, headers, connect, request);
  }

  private URI url(String text, String raw, String p, String subject) {
    String problem = null;
    URI uri = null;
    try {
      uri = new URI(text.strip());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))) {
        problem = "is not an http or https URL";
      } else if (uri.getHost() == null) {
        problem = "has no host";
      }
    } catch (URISyntaxException e) {
      problem = "is not a valid URL";
    }
    if (problem != null) {
      in.error(p, subject, "the url '" + raw + "' " + problem
          + " (expected such as https://mcp.example.com/mcp)");
      return null;
    }
    return uri;
  }

  // ---- policy ------------------------------------------------------------------------------

  private PolicyEngine policy() {
    String p = "/policy";
    if (!in.present(p, null, false)) {
      in.error(p, null, "missing required key 'policy': give policy: { file: policy.yaml } or "
          + "an inline policy with rules (without one, every request would be denied)");
      return null;
    }
    JsonNode node = in.node(p);
    String written;
    String at;
    if (node.isString()) {
      written = node.stringValue();
      at = p;
    } else if (node.isObject() && node.has("file")) {
      if (!in.checkKeys(p, null, POLICY_FILE_KEYS)) {
        return null;
      }
      at = p + "/file";
      written = in.string(at, null, "a policy file name");
      if (written == null) {
        return null;
      }
    } else if (node.isObject()) {
      try {
        return PolicyEngine.compile(document, p, policyOptions);
      } catch (ConfigException e) {
        for (Problem problem : e.problems()) {
          in.error(problem.path(), problem.subject(), problem.message());
        }
        return null;
      }
    } else {
      in.error(p, null, "expected { file: policy.yaml } or an inline policy mapping with "
          + "roles, rules and limits, got " + ConfigReader.describe(node));
      return null;
    }
    Path file = resolve(written);
    if (file == null || written.isBlank()) {
      in.error(at, null, "'" + written + "' is not a valid path");
      return null;
    }
    String display = displayName(written);
    if (bundle != null) {
      return bundledPolicy(at, file, display);
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      in.error(at, null, "the policy file " + file + " does not exist");
      return null;
    } catch (CharacterCodingException e) {
      in.error(at, null, "the policy file " + file + " is not valid UTF-8; save it as UTF-8");
      return null;
    } catch (IOException | SecurityException e) {
      in.error(at, null, "cannot read the policy file " + file + ": " + e);
      return null;
    }
    try {
      return PolicyEngine.parse(text, display, policyOptions);
    } catch (ConfigException e) {
      foreign.addAll(e.problems());
      return null;
    }
  }

  /** The policy of a bundled config: the bundle's file of that name, never one on the disk. */
  private PolicyEngine bundledPolicy(String at, Path file, String display) {
    String name = file.startsWith(baseDir)
        ? baseDir.relativize(file).toString().replace('\\', '/') : null;
    if (name == null || !bundle.entries().stream().anyMatch(e -> e.name().equals(name))) {
      in.error(at, null, "the policy file is not in the bundle (it holds "
          + bundle.entries().stream().map(Bundle.Entry::name).toList() + "): a bundled config's"
          + " policy is read from the bundle, never from the disk");
      return null;
    }
    try {
      return PolicyEngine.parse(BundleConfigLoader.utf8(bundle, name, display), display,
          policyOptions);
    } catch (ConfigException e) {
      foreign.addAll(e.problems());
      return null;
    }
  }

  /** The policy file's name as shown in messages: relative to the config's own name. */
  private String displayName(String written) {
    try {
      Path path = Path.of(written);
      if (path.isAbsolute()) {
        return path.normalize().toString();
      }
      Path config = Path.of(document.source());
      return config.resolveSibling(path).normalize().toString();
    } catch (InvalidPathException e) {
      return written;
    }
  }

  // ---- kill switch -------------------------------------------------------------------------

  private KillSwitch.State killSwitch(List<Backend> backends) {
    String p = "/kill_switch";
    if (!section(p, null, KILL_SWITCH_KEYS)) {
      return KillSwitch.State.EMPTY;
    }
    String all = null;
    if (in.present(p + "/all", null, false)) {
      all = reason(p + "/all", null);
    }
    List<String> names = new ArrayList<>();
    for (Backend backend : backends) {
      names.add(backend.name());
    }
    Map<String, String> disabledBackends = reasons(p + "/backends", "backend names");
    for (String backend : disabledBackends.keySet()) {
      if (!names.contains(backend)) {
        StringBuilder message = new StringBuilder("unknown backend '").append(backend).append('\'');
        Suggestions.nearest(backend, names)
            .ifPresent(s -> message.append("; did you mean '").append(s).append("'?"));
        message.append(" (backends: ").append(String.join(", ", names)).append(')');
        in.error(YamlDocument.child(p + "/backends", backend), null, message.toString());
      }
    }
    Map<String, String> tools = reasons(p + "/tools", "tool globs");
    Map<String, String> principals = reasons(p + "/principals", "principal ids");
    Map<String, String> knownBackends = new LinkedHashMap<>(disabledBackends);
    knownBackends.keySet().retainAll(names);
    return new KillSwitch.State(all, knownBackends, tools, principals);
  }

  private Map<String, String> reasons(String p, String what) {
    Map<String, String> out = new LinkedHashMap<>();
    if (!in.present(p, null, false)) {
      return out;
    }
    JsonNode node = in.node(p);
    if (!node.isObject()) {
      in.error(p, null, "expected a mapping of " + what + " to reasons, such as "
          + "{ name: \"maintenance\" }, got " + ConfigReader.describe(node));
      return out;
    }
    for (String key : node.propertyNames()) {
      String kp = YamlDocument.child(p, key);
      if (key.isBlank()) {
        in.error(kp, null, "a name must not be blank");
        continue;
      }
      String reason = reason(kp, null);
      if (reason != null) {
        out.put(key, reason);
      }
    }
    return out;
  }

  private String reason(String p, String subject) {
    JsonNode node = in.node(p);
    if (!node.isString() || node.stringValue().isBlank()) {
      in.error(p, subject, "expected the reason as text, such as \"maintenance\", got "
          + ConfigReader.describe(node));
      return null;
    }
    return node.stringValue();
  }

  // ---- audit -------------------------------------------------------------------------------

  private Audit audit() {
    String p = "/audit";
    if (!section(p, null, AUDIT_KEYS)) {
      return Audit.DEFAULTS;
    }
    List<Audit.Sink> sinks = new ArrayList<>(Audit.DEFAULTS.sinks());
    if (in.present(p + "/sinks", null, false)) {
      sinks.clear();
      JsonNode list = in.node(p + "/sinks");
      if (!list.isArray()) {
        in.error(p + "/sinks", null, "expected a list of sinks, such as "
            + "[ { jsonl: audit.jsonl } ], got " + ConfigReader.describe(list));
      } else if (list.isEmpty()) {
        // Every call leaves an audit event (DESIGN guarantee 2): there is no "record nothing".
        in.error(p + "/sinks", null, "at least one sink is required: every call is recorded; "
            + "to keep events only in the log, use [ { slf4j: dev.sentinel.audit } ]");
      } else {
        for (int i = 0; i < list.size(); i++) {
          Audit.Sink sink = sink(YamlDocument.child(p + "/sinks", i));
          if (sink != null) {
            sinks.add(sink);
          }
        }
      }
    } else if (in.node(p + "/sinks").isNull()) {
      in.error(p + "/sinks", null, "at least one sink is required: every call is recorded; "
          + "remove the key for the default (the database), or list sinks");
    }
    AuditDispatcher.OnSinkFailure onFailure = choice(p + "/on_sink_failure",
        AuditDispatcher.OnSinkFailure.class, Audit.DEFAULTS.onSinkFailure());
    AuditDispatcher.WhenFull whenFull =
        choice(p + "/when_full", AuditDispatcher.WhenFull.class, Audit.DEFAULTS.whenFull());
    int capacity = integer(p + "/queue_capacity", null, "queue_capacity",
        Audit.DEFAULT_QUEUE_CAPACITY, MAX_QUEUE_CAPACITY);
    AuditMode mode = choice(p + "/mode", AuditMode.class, Audit.DEFAULTS.mode());
    if (mode == AuditMode.DURABLE && sinks.stream().noneMatch(Audit.Sink::durable)) {
      in.error(p + "/mode", null, "audit mode durable needs a durable sink, but "
          + (sinks.isEmpty() ? "there is none" : "none of " + kinds(sinks) + " is")
          + "; add { database: {} } or { jsonl: { file: audit.jsonl, fsync: true } } to sinks,"
          + " or use mode: async");
      mode = AuditMode.ASYNC;
    }
    Duration retention = duration(p + "/retention", null, null);
    if (retention != null && !sinks.contains(Audit.DatabaseSink.INSTANCE)) {
      in.error(p + "/retention", null, "retention purges the database sink's trail, but sinks "
          + "has no { database: {} } (only " + kinds(sinks) + "); add the database sink, or "
          + "remove retention and rotate the other sinks' files with your own tools");
      retention = null;
    }
    Audit.Checkpoint checkpoint = checkpoint(p + "/checkpoint");
    if (checkpoint != null && !sinks.contains(Audit.DatabaseSink.INSTANCE)) {
      in.error(p + "/checkpoint", null, "checkpoint signs the database sink's hash chain, but "
          + "sinks has no { database: {} } (only " + kinds(sinks) + "); add the database sink, "
          + "or remove checkpoint");
      checkpoint = null;
    }
    return new Audit(sinks, onFailure, whenFull, capacity, mode, retention, checkpoint,
        digestKey(p));
  }

  private Audit.Checkpoint checkpoint(String p) {
    String subject = "audit checkpoint";
    if (!section(p, subject, CHECKPOINT_KEYS)) {
      return null;
    }
    Path key = file(p + "/key", subject, "an Ed25519 private key file (PEM), such as "
        + "checkpoint.key from openssl genpkey -algorithm ed25519 -out checkpoint.key");
    Path file = file(p + "/file", subject, "the file checkpoints are appended to, such as "
        + "/var/log/sentinel/audit-checkpoints.jsonl");
    Duration every = duration(p + "/every", subject, Audit.Checkpoint.DEFAULT_EVERY);
    long records = in.present(p + "/records", subject, false)
        ? in.positiveLong(p + "/records", subject, "records").orElse(0) : 0;
    if (key == null || file == null) {
      return null;
    }
    return new Audit.Checkpoint(key, file, every, records);
  }

  /** A required file name, resolved against the config's directory; null after an error. */
  private Path file(String p, String subject, String what) {
    if (!in.present(p, subject, true)) {
      return null;
    }
    String text = in.string(p, subject, what);
    if (text == null) {
      return null;
    }
    Path file = resolve(text);
    if (file == null || text.isBlank()) {
      in.error(p, subject, "'" + text + "' is not a valid path");
      return null;
    }
    return file;
  }

  /** The audit digest key, or {@code null} when absent or after recording a problem. */
  private DigestKey digestKey(String p) {
    String kp = p + "/digest_key";
    if (!in.present(kp, null, false)) {
      return null;
    }
    String raw = secretText(kp, null,
        "a key reference such as \"${env:SENTINEL_AUDIT_DIGEST_KEY}\"");
    String key = raw == null ? null : expander.expand(raw, kp, null);
    if (key == null) {
      return null;
    }
    try {
      return DigestKey.fromSecret(key);
    } catch (IllegalArgumentException e) {
      in.error(kp, null, "the audit digest key " + describeSecret(raw) + " is too short: use at"
          + " least " + DigestKey.MIN_LENGTH + " random characters, such as the output of"
          + " 'openssl rand -base64 32' (a guessable key makes the digests reversible)");
      return null;
    }
  }

  private static String kinds(List<Audit.Sink> sinks) {
    List<String> out = new ArrayList<>();
    for (Audit.Sink sink : sinks) {
      out.add(sink.kind() + (sink instanceof Audit.JsonLinesSink ? " (without fsync)" : ""));
    }
    return String.join(", ", out);
  }

  private Audit.Sink sink(String p) {
    JsonNode node = in.node(p);
    if (!node.isObject() || node.size() != 1) {
      in.error(p, null, "expected a sink with one key, one of " + String.join(", ", SINK_KINDS)
          + ", such as { jsonl: audit.jsonl }, got " + (node.isObject()
              ? "a mapping with " + node.size() + " keys" : ConfigReader.describe(node)));
      return null;
    }
    String kind = node.propertyNames().iterator().next();
    String kp = YamlDocument.child(p, kind);
    JsonNode value = node.get(kind);
    switch (kind) {
      case "jsonl": {
        String fp = kp;
        boolean fsync = false;
        if (value.isObject()) {
          if (!in.checkKeys(kp, "jsonl sink", JSONL_KEYS)) {
            return null;
          }
          fp = kp + "/file";
          if (!in.present(fp, "jsonl sink", true)) {
            return null;
          }
          fsync = bool(kp + "/fsync", "jsonl sink", false);
        }
        String text = in.string(fp, "jsonl sink", "a file name, such as audit.jsonl");
        if (text == null) {
          return null;
        }
        Path file = resolve(text);
        if (file == null || text.isBlank()) {
          in.error(fp, "jsonl sink", "'" + text + "' is not a valid path");
          return null;
        }
        return new Audit.JsonLinesSink(file, fsync);
      }
      case "slf4j": {
        if (value.isNull()) {
          return new Audit.Slf4jSink(Audit.DEFAULT_LOGGER);
        }
        String lp = kp;
        if (value.isObject()) {
          if (!in.checkKeys(kp, "slf4j sink", SLF4J_KEYS)) {
            return null;
          }
          lp = kp + "/logger";
          if (!in.present(lp, "slf4j sink", false)) {
            return new Audit.Slf4jSink(Audit.DEFAULT_LOGGER);
          }
        }
        String logger = in.string(lp, "slf4j sink", "a logger name");
        if (logger == null || logger.isBlank()) {
          if (logger != null) {
            in.error(lp, "slf4j sink", "the logger name must not be blank");
          }
          return null;
        }
        return new Audit.Slf4jSink(logger);
      }
      case "database": {
        if (value.isObject() && !in.checkKeys(kp, "database sink", DATABASE_SINK_KEYS)) {
          return null;
        }
        if (!value.isObject() && !value.isNull()) {
          in.error(kp, "database sink", "expected { database: {} }: the sink writes to the "
              + "database of the database: section; got " + ConfigReader.describe(value));
          return null;
        }
        return Audit.DatabaseSink.INSTANCE;
      }
      default:
        in.error(kp, null, ConfigReader.unknown("audit sink", kind, SINK_KINDS));
        return null;
    }
  }

  // ---- database ----------------------------------------------------------------------------

  private DatabaseSettings database() {
    String p = "/database";
    DatabaseSettings fallback = DatabaseSettings.embeddedDefault(baseDir);
    if (!section(p, null, DATABASE_KEYS)) {
      return fallback;
    }
    String url = null;
    if (in.present(p + "/url", null, true)) {
      String raw = secretText(p + "/url", null,
          "a JDBC URL such as jdbc:sqlite:sentinel.db or jdbc:postgresql://host:5432/sentinel");
      String text = raw == null ? null : expander.expand(raw, p + "/url", null);
      if (text != null) {
        url = jdbcUrl(text.strip(), raw, p + "/url");
      }
    }
    String user = optionalSecret(p + "/user", "a user name");
    String password = optionalSecret(p + "/password", "a password reference such as "
        + "\"${env:PGPASSWORD}\"");
    Duration syncInterval =
        duration(p + "/sync_interval", null, DatabaseSettings.DEFAULT_SYNC_INTERVAL);
    if (url != null && (user != null || password != null) && url.startsWith("jdbc:sqlite:")) {
      in.error(p, null, "a SQLite database has no user or password; remove them, or use a "
          + "jdbc:postgresql: url");
      return fallback;
    }
    return url == null ? fallback : new DatabaseSettings(url, user, password, true, syncInterval);
  }

  // ---- shared state ------------------------------------------------------------------------


  private SharedState sharedState() {
    String p = "/shared_state";
    if (!section(p, null, SHARED_STATE_KEYS)) {
      return SharedState.DEFAULTS;
    }
    SharedLimits limits = SharedLimits.DEFAULTS;
    if (section(p + "/limits", null, SHARED_LIMITS_KEYS)) {
      limits = new SharedLimits(limitSync(p + "/limits/sync"),
          choice(p + "/limits/on_unavailable", SharedLimits.OnUnavailable.class,
              SharedLimits.OnUnavailable.DENY));
    }
    RedisSettings redis = null;
    String r = p + "/redis";
    if (section(r, null, REDIS_KEYS) && in.present(r + "/url", null, true)) {
      String raw = secretText(r + "/url", null, "a Redis URL such as redis://127.0.0.1:6379/0");
      String url = raw == null ? null : expander.expand(raw, r + "/url", null);
      String username = optionalSecret(r + "/username", "a user name");
      String password = optionalSecret(r + "/password", "a password reference such as "
          + "\"${env:REDIS_PASSWORD}\"");
      Path caFile = null;
      if (in.present(r + "/ca_file", null, false)) {
        String file = in.string(r + "/ca_file", null, "a PEM file of CA certificates");
        caFile = file == null ? null : resolve(file);
      }
      Duration timeout = duration(r + "/timeout", null, RedisSettings.DEFAULT_TIMEOUT);
      boolean killSwitch = bool(r + "/kill_switch", null, true);
      if (url != null) {
        String lower = url.strip().toLowerCase(Locale.ROOT);
        if (!lower.startsWith("redis://") && !lower.startsWith("rediss://")) {
          in.error(r + "/url", null, "unsupported Redis url " + describeSecret(raw)
              + ": expected redis://host:6379/0, or rediss://host:6380/0 for TLS");
        } else if (caFile != null && !lower.startsWith("rediss://")) {
          in.error(r + "/ca_file", null, "ca_file is for TLS, but the url is not rediss://; "
              + "use rediss://, or remove ca_file");
        } else {
          redis = new RedisSettings(url.strip(), username, password, caFile, timeout, killSwitch);
        }
      }
    }
    return new SharedState(limits, redis);
  }

  /** {@code exact}, {@code batched(N)} or {@code delayed(interval)}; exact when absent. */
  private LimitSync limitSync(String p) {
    if (!in.present(p, null, false)) {
      return LimitSync.exact();
    }
    JsonNode node = in.node(p);
    if (!node.isString()) {
      in.error(p, null, LimitSync.EXPECTED + ", got " + ConfigReader.describe(node));
      return LimitSync.exact();
    }
    try {
      return LimitSync.parse(node.stringValue());
    } catch (IllegalArgumentException e) {
      in.error(p, null, "sync: " + e.getMessage() + ", got " + ConfigReader.describe(node));
      return LimitSync.exact();
    }
  }

  /** An optional expanded value, or {@code null} when absent or after recording a problem. */
  private String optionalSecret(String p, String what) {
    if (!in.present(p, null, false)) {
      return null;
    }
    String raw = secretText(p, null, what);
    return raw == null ? null : expander.expand(raw, p, null);
  }

  /** A checked JDBC URL with a relative SQLite path resolved, or {@code null} (recorded). */
  private String jdbcUrl(String text, String raw, String p) {
    String shown = DatabaseSettings.redact(raw);
    if (text.startsWith("jdbc:postgresql:")) {
      if (!text.startsWith("jdbc:postgresql://")) {
        in.error(p, null, "the url '" + shown + "' is not a PostgreSQL JDBC URL; expected "
            + "jdbc:postgresql://host:5432/database");
        return null;
      }
      return text;
    }
    if (!text.startsWith("jdbc:sqlite:")) {
      in.error(p, null, "unsupported database url '" + shown + "': expected "
          + "jdbc:sqlite:<file> (such as jdbc:sqlite:sentinel.db) or "
          + "jdbc:postgresql://host:5432/database");
      return null;
    }
    String rest = text.substring("jdbc:sqlite:".length());
    String prefix = "jdbc:sqlite:";
    String query = "";
    if (rest.startsWith("file:")) {
      prefix = "jdbc:sqlite:file:";
      rest = rest.substring("file:".length());
      int q = rest.indexOf('?');
      if (q >= 0) {
        query = rest.substring(q);
        rest = rest.substring(0, q);
      }
    }
    if (rest.isBlank() || rest.startsWith(":memory:") || rest.startsWith(":resource:")) {
      in.error(p, null, "the url '" + shown + "' is not a SQLite file: in-memory databases "
          + "are not supported (every connection would see a different one); give a file, "
          + "such as jdbc:sqlite:sentinel.db");
      return null;
    }
    Path file = resolve(rest);
    if (file == null) {
      in.error(p, null, "'" + rest + "' in the url is not a valid path");
      return null;
    }
    return prefix + file + query;
  }

  // ---- values ------------------------------------------------------------------------------

  /**
   * Whether an optional section is present: absent or {@code null} is not; a mapping is, after
   * its keys are checked; anything else is recorded as a problem.
   */
  private boolean section(String p, String subject, List<String> keys) {
    JsonNode node = in.node(p);
    if (node.isMissingNode() || node.isNull()) {
      return false;
    }
    return in.checkKeys(p, subject, keys);
  }

  /** A path resolved against the config's directory, or {@code null} if it is not valid. */
  private Path resolve(String text) {
    try {
      return baseDir.resolve(text.strip()).normalize();
    } catch (InvalidPathException e) {
      return null;
    }
  }

  private Duration duration(String p, String subject, Duration fallback) {
    if (!in.present(p, subject, false)) {
      return fallback;
    }
    JsonNode node = in.node(p);
    String key = p.substring(p.lastIndexOf('/') + 1);
    if (node.isNumber()) {
      in.error(p, subject, key + ": a bare number is ambiguous; add a unit, such as "
          + node.asString() + "s or " + node.asString() + "ms");
      return fallback;
    }
    if (!node.isString()) {
      in.error(p, subject, key + ": expected a duration such as 500ms, 30s, 5m or 1h, got "
          + ConfigReader.describe(node));
      return fallback;
    }
    try {
      Duration d = Units.parseDuration(node.stringValue());
      if (d.isZero()) {
        in.error(p, subject, key + ": must be longer than zero");
        return fallback;
      }
      return d;
    } catch (IllegalArgumentException e) {
      in.error(p, subject, key + ": " + e.getMessage() + ", got "
          + ConfigReader.describe(node));
      return fallback;
    }
  }

  private long size(String p, String subject, long fallback, long max) {
    if (!in.present(p, subject, false)) {
      return fallback;
    }
    JsonNode node = in.node(p);
    String key = p.substring(p.lastIndexOf('/') + 1);
    long bytes;
    if (node.isIntegralNumber() && node.canConvertToLong()) {
      bytes = node.longValue();
    } else if (node.isString()) {
      try {
        bytes = Units.parseSize(node.stringValue());
      } catch (IllegalArgumentException e) {
        in.error(p, subject, key + ": " + e.getMessage() + ", got "
            + ConfigReader.describe(node));
        return fallback;
      }
    } else {
      in.error(p, subject, key + ": expected a size such as 4MiB, 512KiB or a number of bytes, "
          + "got " + ConfigReader.describe(node));
      return fallback;
    }
    if (bytes <= 0 || bytes > max) {
      in.error(p, subject, key + ": must be between 1 byte and " + Units.formatSize(max)
          + ", got " + ConfigReader.describe(node));
      return fallback;
    }
    return bytes;
  }

  private int integer(String p, String subject, String what, int fallback, int max) {
    if (!in.present(p, subject, false)) {
      return fallback;
    }
    OptionalLong value = in.positiveLong(p, subject, what);
    if (value.isEmpty()) {
      return fallback;
    }
    if (value.getAsLong() > max) {
      in.error(p, subject, what + " must be at most " + max + ", got " + value.getAsLong());
      return fallback;
    }
    return (int) value.getAsLong();
  }

  private boolean bool(String p, String subject, boolean fallback) {
    if (!in.present(p, subject, false)) {
      return fallback;
    }
    JsonNode node = in.node(p);
    if (!node.isBoolean()) {
      in.error(p, subject, "expected true or false, got " + ConfigReader.describe(node));
      return fallback;
    }
    return node.booleanValue();
  }

  private <E extends Enum<E>> E choice(String p, Class<E> type, E fallback) {
    if (!in.present(p, null, false)) {
      return fallback;
    }
    List<String> names = new ArrayList<>();
    for (E constant : type.getEnumConstants()) {
      names.add(constant.name().toLowerCase(Locale.ROOT));
    }
    JsonNode node = in.node(p);
    if (node.isString()) {
      int index = names.indexOf(node.stringValue());
      if (index >= 0) {
        return type.getEnumConstants()[index];
      }
      in.error(p, null, ConfigReader.unknown("value", node.stringValue(), names));
      return fallback;
    }
    in.error(p, null, "expected one of " + String.join(", ", names) + ", got "
        + ConfigReader.describe(node));
    return fallback;
  }

  /**
   * The text of a value that may hold a secret; the problem for a wrong type does not quote the
   * value.
   */
  private String secretText(String p, String subject, String what) {
    JsonNode node = in.node(p);
    if (node.isString() || node.isNumber() || node.isBoolean()) {
      return node.asString();
    }
    in.error(p, subject, "expected " + what + ", got "
        + (node.isObject() ? "a mapping" : node.isArray() ? "a list" : "nothing (null)"));
    return null;
  }

  /** A mapping of names to text, as written (not expanded). */
  private Map<String, String> rawMap(String p, String subject, String what) {
    Map<String, String> out = new LinkedHashMap<>();
    if (!in.present(p, subject, false)) {
      return out;
    }
    JsonNode node = in.node(p);
    if (!node.isObject()) {
      in.error(p, subject, "expected a mapping of " + what + ", such as { NAME: value }, got "
          + ConfigReader.describe(node));
      return out;
    }
    for (String key : node.propertyNames()) {
      String text = secretText(YamlDocument.child(p, key), subject, "a text value");
      if (text != null) {
        out.put(key, text);
      }
    }
    return out;
  }

  /** A mapping of names to text with every reference expanded. */
  private Map<String, String> expandedMap(String p, String subject, String what) {
    Map<String, String> out = new LinkedHashMap<>();
    rawMap(p, subject, what).forEach((key, raw) -> {
      String value = expander.expand(raw, YamlDocument.child(p, key), subject);
      if (value != null) {
        out.put(key, value);
      }
    });
    return out;
  }

  /** How a possibly secret value is named in messages: its reference, or nothing. */
  private static String describeSecret(String raw) {
    return raw.contains("${") ? "'" + raw + "'" : "(as written in the file)";
  }
}
