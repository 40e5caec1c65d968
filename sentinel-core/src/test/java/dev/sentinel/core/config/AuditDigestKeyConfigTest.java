package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.audit.DigestKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code audit.digest_key}: the secret that keys the trail's digests. */
class AuditDigestKeyConfigTest {
  private static final String BASE = "backends:\n  - name: fs\n    stdio: { command: s }\n"
      + "policy: { rules: [] }\n";
  private static final String SECRET = "k7Yq2mWv9sXz4Rb1Nc8Td3Lf6Hg0Jp5A";

  @TempDir Path dir;

  private GatewayConfig parse(String yaml, Map<String, String> env) {
    return GatewayConfig.parse(BASE + yaml, "sentinel.yaml", dir, env);
  }

  private String problems(String yaml, Map<String, String> env) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml, env));
    assertThat(e).as("expected a ConfigException for:\n" + yaml).isNotNull();
    return e.getMessage();
  }

  @Test
  void parse_withoutDigestKey_leavesItToTheProcessKey() {
    assertThat(parse("", Map.of()).audit().digestKey()).isNull();
    assertThat(parse("audit: { mode: async }\n", Map.of()).audit().digestKey()).isNull();
  }

  @Test
  void parse_digestKeyFromEnvironment() {
    GatewayConfig config = parse("audit: { digest_key: \"${env:D}\" }\n", Map.of("D", SECRET));

    assertThat(config.audit().digestKey()).isEqualTo(DigestKey.fromSecret(SECRET));
    assertThat(config.audit().toString()).doesNotContain(SECRET);
  }

  @Test
  void parse_digestKeyFromFile() throws Exception {
    Files.writeString(dir.resolve("digest.key"), SECRET + "\n");

    GatewayConfig config = parse("audit: { digest_key: \"${file:digest.key}\" }\n", Map.of());

    assertThat(config.audit().digestKey()).isEqualTo(DigestKey.fromSecret(SECRET));
  }

  @Test
  void parse_shortDigestKey_isALocatedErrorThatNeverShowsIt() {
    String problems = problems("audit: { digest_key: \"${env:D}\" }\n", Map.of("D", "hunter2"));

    assertThat(problems).contains("sentinel.yaml:5:").contains("/audit/digest_key")
        .contains("the audit digest key '${env:D}' is too short").contains("at least 32")
        .doesNotContain("hunter2");
    assertThat(problems("audit: { digest_key: short-literal-key }\n", Map.of()))
        .contains("(as written in the file) is too short").doesNotContain("short-literal-key");
  }

  @Test
  void parse_missingDigestKeyVariable_namesTheReference() {
    assertThat(problems("audit: { digest_key: \"${env:NOPE}\" }\n", Map.of()))
        .contains("/audit/digest_key").contains("environment variable NOPE is not set");
    assertThat(problems("audit: { digest_key: [a] }\n", Map.of()))
        .contains("/audit/digest_key").contains("expected a key reference");
  }
}
