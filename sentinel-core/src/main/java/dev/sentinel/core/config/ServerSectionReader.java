package dev.sentinel.core.config;

import dev.sentinel.api.Principal;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code server:} section (the HTTP runner's address, limits, timeouts,
 * {@code tls}, {@code admin}, {@code jwt}, {@code oauth} and {@code metrics}) into {@link Server},
 * recording every problem in the shared reader. Not thread-safe: one per load.
 */
final class ServerSectionReader {
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

  private final ConfigReader in;
  private final Expander expander;

  ServerSectionReader(ConfigReader in, Expander expander) {
    this.in = in;
    this.expander = expander;
  }

  /** The section, or {@link Server#DEFAULTS} when absent; problems are recorded. */
  Server read() {
    String p = "/server";
    if (!in.section(p, null, SERVER_KEYS)) {
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
    int sessions = in.integer(p + "/max_sessions", null, "max_sessions", d.maxSessions(), 1_000_000);
    int connections = in.integer(p + "/max_connections", null, "max_connections",
        d.maxConnections(), 1_000_000);
    // Unset, a principal's share follows the limit it divides.
    int sessionsEach = in.integer(p + "/max_sessions_per_principal", null,
        "max_sessions_per_principal", Server.perPrincipal(sessions), sessions);
    int streamsEach = in.integer(p + "/max_streams_per_principal", null,
        "max_streams_per_principal", Server.perPrincipal(connections), connections);
    Duration headerTimeout = in.duration(p + "/header_timeout", null, d.headerTimeout());
    Duration keepAlive = in.duration(p + "/keep_alive", null, d.keepAlive());
    Duration idle = in.duration(p + "/session_idle_timeout", null, d.sessionIdleTimeout());
    Duration drain = in.duration(p + "/drain_timeout", null, d.drainTimeout());
    Optional<Principal> anonymous = Optional.empty();
    if (in.present(p + "/anonymous", null, false)) {
      anonymous = Optional.ofNullable(
          new IdentitySectionReader(in, expander).principal(p + "/anonymous"));
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
    if (!in.section(p, subject, TLS_KEYS)) {
      return Optional.empty();
    }
    Path certificate = expander.file(p + "/certificate", subject, "a PEM file of the certificate chain,"
        + " such as /etc/sentinel/tls/fullchain.pem");
    Path key = expander.file(p + "/key", subject, "a PEM file of the certificate's private key (PKCS#8),"
        + " such as /etc/sentinel/tls/privkey.pem");
    if (certificate == null || key == null) {
      return Optional.empty();
    }
    return Optional.of(new Tls(certificate, key));
  }

  private Optional<Jwt> jwt(String p) {
    if (!in.section(p, null, JWT_KEYS)) {
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
      for (int i = 0; audiences != null && i < audiences.size(); i++) {
        if (audiences.get(i).isBlank()) {
          in.error(in.node(p + "/audience").isArray() ? YamlDocument.child(p + "/audience", i) : p + "/audience",
              null, "an audience must not be blank");
          audiences = null;
        }
      }
      if (audiences != null && audiences.isEmpty()) {
        in.error(p + "/audience", null, "the audience must name at least one value");
      }
    }
    URI jwks = null;
    if (in.present(p + "/jwks_url", null, true)) {
      String raw = in.string(p + "/jwks_url", null,
          "the URL of the signing keys, such as https://idp.example.com/.well-known/jwks.json");
      String text = raw == null ? null : expander.expand(raw, p + "/jwks_url", null);
      if (raw != null && text != null) {
        jwks = in.httpUrl(text, raw, p + "/jwks_url", null);
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
          ? Duration.ZERO : in.duration(p + "/clock_skew", null, Jwt.DEFAULT_CLOCK_SKEW);
    }
    String principalClaim = claim(p + "/principal_claim", Jwt.DEFAULT_PRINCIPAL_CLAIM);
    String rolesClaim = claim(p + "/roles_claim", Jwt.DEFAULT_ROLES_CLAIM);
    List<String> attributeClaims = Jwt.DEFAULT_ATTRIBUTE_CLAIMS;
    if (in.present(p + "/attribute_claims", null, false)) {
      List<String> named = in.names(p + "/attribute_claims", null, "claim names such as [email, groups]");
      attributeClaims = named == null ? attributeClaims : named;
    }
    Duration ttl = in.duration(p + "/jwks_cache_ttl", null, Jwt.DEFAULT_JWKS_CACHE_TTL);
    Duration refresh = in.duration(p + "/jwks_min_refresh_interval", null,
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
    if (!in.section(p, null, OAUTH_KEYS)) {
      return OAuth.DEFAULTS;
    }
    Optional<URI> resource = Optional.empty();
    if (in.present(p + "/resource", null, false)) {
      String raw = in.string(p + "/resource", null, "the resource URL, such as https://mcp.example.com/mcp");
      String text = raw == null ? null : expander.expand(raw, p + "/resource", null);
      if (raw != null && text != null) {
        resource = Optional.ofNullable(in.httpUrl(text, raw, p + "/resource", null));
      }
    }
    List<URI> servers = new ArrayList<>();
    if (in.present(p + "/authorization_servers", null, false)) {
      List<String> named = in.names(p + "/authorization_servers", null,
          "authorization server URLs, such as [https://idp.example.com/]");
      if (named != null) {
        for (String text : named) {
          URI uri = in.httpUrl(text, text, p + "/authorization_servers", null);
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
    return in.section(p, null, METRICS_KEYS) && in.bool(p + "/public", null, false);
  }

  private Optional<Admin> admin(String p) {
    if (!in.section(p, null, ADMIN_KEYS)) {
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
    String raw = in.secretText(p + "/token", null, what);
    String token = raw == null ? null : expander.expand(raw, p + "/token", null);
    if (raw == null || token == null) {
      return Optional.empty();
    }
    if (token.isBlank() || token.length() < Admin.MIN_TOKEN_LENGTH) {
      in.error(p + "/token", null, "the admin token " + ConfigReader.describeSecret(raw) + " is too short: use"
          + " at least " + Admin.MIN_TOKEN_LENGTH + " random characters, such as the output of"
          + " 'openssl rand -base64 32'");
      return Optional.empty();
    }
    return Optional.of(new Admin(token, roles));
  }
}
