package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code server.jwt:} and {@code server.oauth:} sections: values, defaults, located errors. */
class JwtConfigTest {
  @TempDir Path dir;

  private GatewayConfig parse(String server) {
    return GatewayConfig.parse(server + GatewayConfigTest.MINIMAL, "sentinel.yaml", dir,
        Map.of("IDP", "https://idp.example.com"));
  }

  private String problems(String server) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(server));
    assertThat(e).as("expected a ConfigException for:\n" + server).isNotNull();
    return e.getMessage();
  }

  @Test
  void absent_meansApiKeysOnly() {
    Server server = parse("").server();
    assertThat(server.jwt()).isEmpty();
    assertThat(server.oauth()).isEqualTo(OAuth.DEFAULTS);
  }

  @Test
  void minimal_takesTheDefaults() {
    Jwt jwt = parse("server:\n  jwt:\n    issuer: ${env:IDP}/\n    audience: https://mcp.example.com/mcp\n"
        + "    jwks_url: ${env:IDP}/.well-known/jwks.json\n").server().jwt().orElseThrow();

    assertThat(jwt).isEqualTo(Jwt.of("https://idp.example.com/", "https://mcp.example.com/mcp",
        URI.create("https://idp.example.com/.well-known/jwks.json")));
    assertThat(jwt.algorithms()).contains("RS256", "ES256").doesNotContain("HS256", "none");
  }

  @Test
  void everyKey_isRead() {
    Server server = parse("server:\n  jwt:\n    issuer: https://idp.example.com/\n"
        + "    audience: [a, b]\n    jwks_url: http://127.0.0.1:9000/jwks\n"
        + "    algorithms: [ES256, RS256]\n    clock_skew: 0s\n    principal_claim: email\n"
        + "    roles_claim: scope\n    attribute_claims: [groups]\n    jwks_cache_ttl: 1m\n"
        + "    jwks_min_refresh_interval: 5s\n"
        + "  oauth:\n    resource: https://mcp.example.com/mcp\n"
        + "    authorization_servers: [https://login.example.com/]\n    scopes_supported: [mcp:tools]\n")
        .server();

    assertThat(server.jwt()).contains(new Jwt("https://idp.example.com/", List.of("a", "b"),
        URI.create("http://127.0.0.1:9000/jwks"), List.of("ES256", "RS256"), Duration.ZERO, "email",
        "scope", List.of("groups"), Duration.ofMinutes(1), Duration.ofSeconds(5)));
    assertThat(server.oauth()).isEqualTo(new OAuth(Optional.of(URI.create("https://mcp.example.com/mcp")),
        List.of(URI.create("https://login.example.com/")), List.of("mcp:tools")));
  }

  @Test
  void badValues_areLocated() {
    String message = problems("server:\n  jwt:\n    issuer: https://idp.example.com/\n"
        + "    audience: mcp\n    jwks_url: ftp://idp.example.com/jwks\n"
        + "    algorithms: [none, HS256, RS257]\n    clock_skew: 60\n    roles_claims: x\n");

    assertThat(message)
        .contains("sentinel.yaml:5:5: at /server/jwt/jwks_url: the url 'ftp://idp.example.com/jwks' is not an"
            + " http or https URL")
        .contains("at /server/jwt/algorithms/0: algorithm 'none' means an unsigned token and is never accepted")
        .contains("at /server/jwt/algorithms/1: algorithm 'HS256' is a shared-secret (HMAC) signature")
        .contains("at /server/jwt/algorithms/2: unknown algorithm 'RS257'")
        .contains("did you mean 'RS256'")
        .contains("clock_skew: a bare number is ambiguous")
        .contains("did you mean 'roles_claim'");
  }

  @Test
  void aBlankAudience_isALocatedProblem_notAnException() {
    String message = problems("server:\n  jwt:\n    issuer: https://idp.example.com/\n"
        + "    audience: [mcp, \"  \"]\n    jwks_url: https://idp.example.com/jwks\n");

    assertThat(message).contains("at /server/jwt/audience/1: an audience must not be blank");
  }

  @Test
  void missingKeys_areNamed() {
    String message = problems("server:\n  jwt: { issuer: https://idp.example.com/ }\n  oauth: { resource: nope }\n");

    assertThat(message).contains("missing required key 'audience'")
        .contains("missing required key 'jwks_url'")
        .contains("at /server/oauth/resource: the url 'nope' is not an http or https URL");
  }

  @Test
  void record_refusesWhatTheLoaderRefuses() {
    URI jwks = URI.create("https://idp.example.com/jwks");
    Jwt good = Jwt.of("https://idp.example.com/", "aud", jwks);
    assertThatThrownBy(() -> new Jwt(good.issuer(), good.audiences(), jwks, List.of("none"), good.clockSkew(),
        "sub", "roles", List.of(), good.jwksCacheTtl(), good.jwksMinRefreshInterval()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not supported");
    assertThatThrownBy(() -> Jwt.of("https://idp.example.com/", "aud", URI.create("file:///etc/jwks")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jwks_url");
    assertThatThrownBy(() -> Jwt.of(" ", "aud", jwks)).isInstanceOf(IllegalArgumentException.class);
  }
}
