package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GuardTest {
  private final Guard defaults = Guard.of(null, null, "127.0.0.1", 8080);

  @Test
  void hostAllowed_defaults_loopbackWithTheBoundPort() {
    assertThat(defaults.hostAllowed("localhost:8080")).isTrue();
    assertThat(defaults.hostAllowed("127.0.0.1:8080")).isTrue();
    assertThat(defaults.hostAllowed("[::1]:8080")).isTrue();
    assertThat(defaults.hostAllowed("LOCALHOST:8080")).isTrue();
    assertThat(defaults.hostAllowed("localhost:8081")).isFalse();
    assertThat(defaults.hostAllowed("localhost")).isFalse();
    assertThat(defaults.hostAllowed("evil.example:8080")).isFalse();
    assertThat(defaults.hostAllowed("127.0.0.1.evil.example:8080")).isFalse();
    assertThat(defaults.hostAllowed(null)).isFalse();
    assertThat(defaults.hostAllowed("")).isFalse();
  }

  @Test
  void hostAllowed_configured() {
    Guard guard = Guard.of(null, Set.of("mcp.example.com", "gw.internal:9000"), "0.0.0.0", 9000);
    assertThat(guard.hostAllowed("mcp.example.com")).isTrue();
    assertThat(guard.hostAllowed("mcp.example.com:443")).isTrue();
    assertThat(guard.hostAllowed("gw.internal:9000")).isTrue();
    assertThat(guard.hostAllowed("gw.internal:9001")).isFalse();
    assertThat(guard.hostAllowed("localhost:9000")).isFalse();
    assertThat(Guard.of(null, Set.of("*"), "0.0.0.0", 1).hostAllowed("anything")).isTrue();
  }

  @Test
  void defaultHosts_includeASpecificBindAddress() {
    assertThat(Guard.defaultHosts("10.1.2.3", 80)).contains("10.1.2.3:80");
    assertThat(Guard.defaultHosts("0.0.0.0", 80)).doesNotContain("0.0.0.0:80");
    assertThat(Guard.defaultHosts("::1", 80)).contains("[::1]:80");
  }

  @Test
  void originAllowed_defaults_localSoftwareOnAnyPort() {
    for (String origin : List.of("http://localhost:3000", "http://localhost", "http://127.0.0.1:6274",
        "https://localhost:8443", "http://[::1]:5173")) {
      assertThat(defaults.originAllowed(origin)).as(origin).isTrue();
    }
    for (String origin : List.of("https://evil.example", "null", "http://localhost.evil.example",
        "http://evil.example:8080", "file://", "http://localhost:abc")) {
      assertThat(defaults.originAllowed(origin)).as(origin).isFalse();
    }
  }

  @Test
  void originAllowed_configured() {
    Guard guard = Guard.of(Set.of("https://app.example.com", "http://dev.example.com:*"), null, "127.0.0.1", 1);
    assertThat(guard.originAllowed("https://app.example.com")).isTrue();
    assertThat(guard.originAllowed("https://app.example.com:444")).isFalse();
    assertThat(guard.originAllowed("http://dev.example.com:9999")).isTrue();
    assertThat(guard.originAllowed("http://localhost:3000")).isFalse();
  }

  /** Found by GuardFuzzTest: the default entry's text itself was accepted as an Origin. */
  @Test
  void originAllowed_wildcardEntrySentAsOrigin_isRefused() {
    Guard guard = Guard.of(null, null, "127.0.0.1", 8080);

    assertThat(guard.originAllowed("http://127.0.0.1:*")).isFalse();
    assertThat(guard.originAllowed("http://127.0.0.1:3000")).isTrue();
  }
}
