package dev.sentinel.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.Rate;
import dev.sentinel.api.RateLimiter;
import dev.sentinel.core.config.RedisSettings;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rediss://} against a real redis-server serving TLS only, with self-signed certificates
 * this test makes with {@code openssl}: the gateway connects when {@code ca_file} holds the
 * server's certificate and its address is in the certificate, and refuses to start otherwise
 * (a server it cannot verify is treated as one it cannot reach).
 */
class RedisTlsTest {
  @TempDir Path dir;
  private RedisServer redis;
  private final List<RedisStores> opened = new ArrayList<>();

  @AfterEach
  void stop() {
    for (RedisStores stores : opened) {
      try {
        stores.close();
      } catch (RuntimeException e) {
        // The server is gone already: nothing more to release.
      }
    }
    if (redis != null) {
      redis.close();
    }
  }

  /** Makes a self-signed EC certificate and its key named {@code name}.pem / -key.pem. */
  private Path[] selfSigned(String name, String subjectAltName) throws Exception {
    Assumptions.assumeTrue(onPath("openssl"), "SKIPPED LOUDLY: openssl is not installed");
    Path cert = dir.resolve(name + ".pem");
    Path key = dir.resolve(name + "-key.pem");
    Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec",
        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(), "-out",
        cert.toString(), "-days", "2", "-subj", "/CN=" + name, "-addext",
        "subjectAltName=" + subjectAltName).redirectErrorStream(true).start();
    String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(openssl.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(openssl.exitValue()).as(output).isZero();
    return new Path[] {cert, key};
  }

  private static boolean onPath(String program) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) {
        return true;
      }
    }
    return false;
  }

  private RedisStores open(String url, Path caFile) {
    RedisStores stores = RedisStores.open(
        new RedisSettings(url, null, null, caFile, Duration.ofSeconds(2), true), Stores.none(),
        new ManualClock());
    opened.add(stores);
    return stores;
  }

  @Test
  void tls_serverCertificateInCaFile_connectsAndSharesLimits() throws Exception {
    Path[] server = selfSigned("redis-server", "IP:127.0.0.1");
    redis = RedisServer.startTls(server[0], server[1]);

    RateLimiter first = open(redis.url(), server[0]).rateLimiter().orElseThrow();
    RateLimiter second = open(redis.url(), server[0]).rateLimiter().orElseThrow();

    Rate rate = Rate.parse("2/h");
    assertThat(first.tryAcquire("k", rate, 1).allowed()).isTrue();
    assertThat(second.tryAcquire("k", rate, 1).allowed()).isTrue();
    assertThat(first.tryAcquire("k", rate, 1).allowed()).isFalse();
  }

  @Test
  void tls_certificateFromAnotherCa_isRefusedAtStart() throws Exception {
    Path[] server = selfSigned("redis-server", "IP:127.0.0.1");
    Path[] stranger = selfSigned("someone-else", "IP:127.0.0.1");
    redis = RedisServer.startTls(server[0], server[1]);

    assertThatThrownBy(() -> open(redis.url(), stranger[0]))
        .isInstanceOf(RedisStoreException.class)
        .hasMessageContaining("Cannot connect to");
  }

  @Test
  void tls_certificateForAnotherHost_isRefusedAtStart() throws Exception {
    // Trusted, but issued to another name: hostname verification must refuse it.
    Path[] server = selfSigned("redis-server", "DNS:redis.elsewhere.example");
    redis = RedisServer.startTls(server[0], server[1]);

    assertThatThrownBy(() -> open(redis.url(), server[0]))
        .isInstanceOf(RedisStoreException.class)
        .hasMessageContaining("Cannot connect to");
  }

  @Test
  void plainUrl_toATlsOnlyServer_isRefusedAtStart() throws Exception {
    Path[] server = selfSigned("redis-server", "IP:127.0.0.1");
    redis = RedisServer.startTls(server[0], server[1]);

    assertThatThrownBy(() -> open(redis.url().replace("rediss://", "redis://"), null))
        .isInstanceOf(RedisStoreException.class);
  }
}
