package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.limit.LimitSync;
import dev.sentinel.core.limit.SharedLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code shared_state:} section: how shared limits sync, and the Redis that may hold them. */
class SharedStateConfigTest {
  private static final String BASE = "backends:\n  - name: fs\n    stdio: { command: s }\n"
      + "policy: { rules: [] }\n";

  @TempDir Path dir;

  private GatewayConfig parse(String yaml, Map<String, String> env) {
    return GatewayConfig.parse(BASE + yaml, "sentinel.yaml", dir, env);
  }

  private String problems(String yaml) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml, Map.of()));
    assertThat(e).as("expected a ConfigException for:\n" + yaml).isNotNull();
    return e.getMessage();
  }

  @Test
  void parse_withoutSection_isExactAndDeniesWhileTheStoreIsAway() {
    assertThat(parse("", Map.of()).sharedState()).isEqualTo(SharedState.DEFAULTS);
    assertThat(SharedState.DEFAULTS.limits().sync()).isEqualTo(LimitSync.exact());
    assertThat(SharedState.DEFAULTS.limits().onUnavailable())
        .isEqualTo(SharedLimits.OnUnavailable.DENY);
    assertThat(SharedState.DEFAULTS.redisSettings()).isEmpty();
  }

  @Test
  void parse_eachSyncMode() {
    assertThat(parse("shared_state: { limits: { sync: exact } }\n", Map.of())
        .sharedState().limits().sync()).isEqualTo(LimitSync.exact());
    assertThat(parse("shared_state: { limits: { sync: \"batched(20)\" } }\n", Map.of())
        .sharedState().limits().sync()).isEqualTo(LimitSync.batched(20));
    assertThat(parse("shared_state: { limits: { sync: \"delayed(250ms)\", on_unavailable: local } }\n",
        Map.of()).sharedState().limits())
        .isEqualTo(new SharedLimits(LimitSync.delayed(Duration.ofMillis(250)),
            SharedLimits.OnUnavailable.LOCAL));
  }

  @Test
  void parse_badSync_namesTheForms() {
    assertThat(problems("shared_state: { limits: { sync: \"batched\" } }\n"))
        .contains("/shared_state/limits/sync").contains("batched(N)").contains("delayed(interval)");
    assertThat(problems("shared_state: { limits: { sync: \"batched(0)\" } }\n"))
        .contains("between 1 and 1000000");
    assertThat(problems("shared_state: { limits: { sync: \"delayed(2h)\" } }\n"))
        .contains("at most 1h");
    assertThat(problems("shared_state: { limits: { on_unavailable: allow } }\n"))
        .contains("on_unavailable").contains("deny").contains("local");
    assertThat(problems("shared_state: { limits: { synk: exact } }\n")).contains("sync");
  }

  @Test
  void parse_redisWithPasswordFromEnvironment_neverShowsThePassword() {
    GatewayConfig config = parse("shared_state:\n  redis:\n"
        + "    url: \"rediss://ann:${env:RPASS}@redis.internal:6380/0\"\n"
        + "    password: \"${env:RPASS}\"\n    ca_file: certs/ca.pem\n    timeout: 500ms\n"
        + "    kill_switch: false\n",
        Map.of("RPASS", "hunter2-secret"));
    RedisSettings redis = config.sharedState().redisSettings().orElseThrow();
    assertThat(redis.url()).contains("hunter2-secret");
    assertThat(redis.password()).isEqualTo("hunter2-secret");
    assertThat(redis.tls()).isTrue();
    assertThat(redis.caFile()).isEqualTo(dir.toAbsolutePath().normalize().resolve("certs/ca.pem"));
    assertThat(redis.timeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(redis.killSwitch()).isFalse();
    assertThat(redis.safeUrl()).isEqualTo("rediss://redis.internal:6380/0");
    assertThat(redis.toString() + config).doesNotContain("hunter2");
  }

  @Test
  void parse_redisDefaults() {
    RedisSettings redis = parse("shared_state: { redis: { url: \"redis://127.0.0.1:6379\" } }\n",
        Map.of()).sharedState().redisSettings().orElseThrow();
    assertThat(redis.timeout()).isEqualTo(RedisSettings.DEFAULT_TIMEOUT);
    assertThat(redis.killSwitch()).isTrue();
    assertThat(redis.tls()).isFalse();
  }

  @Test
  void parse_badRedis_isRefusedWithoutShowingTheValue() {
    String message = problems("shared_state: { redis: { url: \"http://u:hunter2@h:1\" } }\n");
    assertThat(message).contains("/shared_state/redis/url").contains("redis://")
        .doesNotContain("hunter2");
    assertThat(problems("shared_state: { redis: { url: \"redis://h:1\", ca_file: ca.pem } }\n"))
        .contains("ca_file is for TLS");
    assertThat(problems("shared_state: { redis: { password: x } }\n")).contains("url");
  }

  @Test
  void parse_redisCaFileThatIsNoPath_isRefusedNotDropped() {
    // Such a ca_file was dropped silently, and rediss:// then trusted the JVM's CAs instead.
    assertThat(problems("shared_state: { redis: { url: \"rediss://h:1\", ca_file: \"ca\\0.pem\" } }\n"))
        .contains("/shared_state/redis/ca_file").contains("is not a valid path");
    assertThat(problems("shared_state: { redis: { url: \"rediss://h:1\", ca_file: \" \" } }\n"))
        .contains("/shared_state/redis/ca_file").contains("is not a valid path");
  }

  @Test
  void limitSync_maxOverAdmission() {
    var rate = dev.sentinel.api.Rate.parse("100/min");
    assertThat(LimitSync.exact().maxOverAdmission(rate, 8)).isZero();
    assertThat(LimitSync.batched(20).maxOverAdmission(rate, 4)).isEqualTo(60);
    assertThat(LimitSync.batched(20).maxOverAdmission(rate, 1)).isZero();
    // 100 burst + 100/min over 3 s = 5 tokens, for each of the 3 others.
    assertThat(LimitSync.delayed(Duration.ofSeconds(3)).maxOverAdmission(rate, 4))
        .isEqualTo(3 * 105);
  }
}
