package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.api.Principal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code server:} section of {@code sentinel http}: values, defaults and located errors. */
class ServerConfigTest {
  @TempDir Path dir;

  private GatewayConfig parse(String server) {
    return GatewayConfig.parse(server + GatewayConfigTest.MINIMAL, "sentinel.yaml", dir, Map.of());
  }

  private String problems(String server) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(server));
    assertThat(e).as("expected a ConfigException for:\n" + server).isNotNull();
    return e.getMessage();
  }

  @Test
  void absent_isLoopbackDefaults() {
    assertThat(parse("").server()).isEqualTo(Server.DEFAULTS);
    assertThat(Server.DEFAULTS.host()).isEqualTo("127.0.0.1");
    assertThat(Server.DEFAULTS.anonymous()).isEmpty();
  }

  @Test
  void everyKey_isRead() {
    Server server = parse("server:\n  host: 0.0.0.0\n  port: 9443\n  path: /gateway/mcp\n"
        + "  allowed_origins: [https://app.example.com]\n  allowed_hosts: mcp.example.com\n"
        + "  max_sessions: 50\n  max_sessions_per_principal: 5\n  max_streams_per_principal: 7\n"
        + "  max_connections: 200\n  header_timeout: 4s\n  keep_alive: 10s\n"
        + "  session_idle_timeout: 5m\n  drain_timeout: 3s\n"
        + "  anonymous: { id: dev, roles: [developer] }\n  metrics: { public: true }\n").server();

    assertThat(server).isEqualTo(new Server("0.0.0.0", 9443, "/gateway/mcp",
        Set.of("https://app.example.com"), Set.of("mcp.example.com"), 50, 5, 7, 200,
        Duration.ofSeconds(4), Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofSeconds(3),
        Optional.of(new Principal("dev", Set.of("developer"), Map.of())), Optional.empty(),
        Optional.empty(), OAuth.DEFAULTS, true));
  }

  @Test
  void tls_filesAreResolvedAgainstTheConfigsDirectory() {
    Server server = parse("server:\n  tls: { certificate: tls/fullchain.pem, key: "
        + dir.resolve("privkey.pem") + " }\n").server();

    assertThat(server.tls()).contains(new Tls(dir.resolve("tls/fullchain.pem"),
        dir.resolve("privkey.pem")));
    assertThat(Server.DEFAULTS.tls()).isEmpty();
  }

  @Test
  void tls_withoutTheKey_isLocated() {
    String message = problems("server:\n  tls: { certificate: cert.pem, keyfile: key.pem }\n");

    assertThat(message).contains("sentinel.yaml:2:3: at /server/tls/key: missing required key 'key'")
        .contains("unknown key 'keyfile'");
  }

  @Test
  void perPrincipalCaps_defaultToAQuarterOfTheirLimit() {
    assertThat(Server.DEFAULTS.maxSessionsPerPrincipal()).isEqualTo(250);
    assertThat(Server.DEFAULTS.maxStreamsPerPrincipal()).isEqualTo(250);
    assertThat(Server.DEFAULTS.headerTimeout()).isEqualTo(Duration.ofSeconds(10));

    Server small = parse("server: { max_sessions: 8, max_connections: 2 }\n").server();

    assertThat(small.maxSessionsPerPrincipal()).isEqualTo(2);
    assertThat(small.maxStreamsPerPrincipal()).isEqualTo(1);
  }

  @Test
  void perPrincipalCaps_overTheirLimit_areLocated() {
    String message = problems("server:\n  max_sessions: 10\n  max_sessions_per_principal: 20\n"
        + "  max_streams_per_principal: 0\n  header_timeout: 0s\n");

    assertThat(message)
        .contains("sentinel.yaml:3:3: at /server/max_sessions_per_principal:"
            + " max_sessions_per_principal must be at most 10, got 20")
        .contains("/server/max_streams_per_principal")
        .contains("header_timeout: must be longer than zero");
  }

  @Test
  void adminToken_isExpandedAndNeverShown() {
    String token = "t0ken-of-the-operators-0123456789abcdef";
    GatewayConfig config = GatewayConfig.parse(
        "server: { admin: { token: \"${env:ADMIN}\" } }\n" + GatewayConfigTest.MINIMAL,
        "sentinel.yaml", dir, Map.of("ADMIN", token));

    assertThat(config.server().admin()).contains(new Admin(token));
    assertThat(config.server().toString()).doesNotContain(token);
  }

  @Test
  void shortAdminToken_isRefusedWithoutShowingIt() {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> GatewayConfig.parse(
        "server: { admin: { token: \"${env:ADMIN}\" } }\n" + GatewayConfigTest.MINIMAL,
        "sentinel.yaml", dir, Map.of("ADMIN", "hunter2")));

    assertThat(e.getMessage()).contains("at /server/admin/token: the admin token")
        .contains("is too short: use at least 32 random characters")
        .doesNotContain("hunter2");
  }

  @Test
  void badValues_areLocated() {
    String message = problems("server:\n  port: 70000\n  path: mcp\n  max_connections: 0\n"
        + "  keep_alive: 25\n  anonymous: { roles: [x] }\n  hots: [a]\n");

    assertThat(message)
        .contains("sentinel.yaml:2:3: at /server/port: expected a port from 0 (any free port) to"
            + " 65535, got 70000")
        .contains("sentinel.yaml:3:3: at /server/path: the path must start with '/' and name an"
            + " endpoint, such as /mcp, got 'mcp'")
        .contains("max_connections must be positive, got 0")
        .contains("keep_alive: a bare number is ambiguous")
        .contains("/server/anonymous")
        .contains("did you mean 'host'");
  }

  @Test
  void stdioConfigs_mayCarryAServerSection() {
    GatewayConfig config = parse("server: { port: 0 }\n");

    assertThat(config.server().port()).isZero();
    assertThat(config.needsDatabase()).isTrue();
  }
}
