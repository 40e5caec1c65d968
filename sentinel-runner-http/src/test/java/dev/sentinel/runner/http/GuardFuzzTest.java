package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fuzz targets for the Origin and Host checks against DNS rebinding ({@code benchmarks/fuzz
 * GuardFuzzTest}).
 */
class GuardFuzzTest {
  private static final Guard DEFAULTS = Guard.of(null, null, "127.0.0.1", 8080);
  private static final Pattern LOOPBACK_ORIGIN =
      Pattern.compile("https?://(localhost|127\\.0\\.0\\.1|\\[::1\\])(:[0-9]{1,5})?");
  private static final Pattern HOST_AND_PORT =
      Pattern.compile("(\\[[^\\]]*\\]|[^\\[:][^:]*|)(:[0-9]{1,5})?");

  /**
   * With the defaults (bound to 127.0.0.1:8080), a Host header is allowed exactly when it names
   * a loopback host with the bound port, and an Origin exactly when it is a loopback origin:
   * whatever the header, nothing else gets through.
   */
  @FuzzTest
  void defaults_anyHeader_onlyLoopbackGetsThrough(FuzzedDataProvider data) {
    String header = data.consumeRemainingAsString();
    String value = header.trim().toLowerCase(Locale.ROOT);

    assertThat(DEFAULTS.hostAllowed(header)).as("Host %s", header)
        .isEqualTo(Set.of("localhost:8080", "127.0.0.1:8080", "[::1]:8080").contains(value));
    assertThat(DEFAULTS.originAllowed(header)).as("Origin %s", header)
        .isEqualTo(LOOPBACK_ORIGIN.matcher(value).matches());
  }

  /**
   * With configured entries (one of each kind from the fuzzer), a header is allowed exactly
   * when it is an entry, or its host (IPv6 in brackets, port of at most five digits) is an
   * entry without a port (hosts) or with {@code :*} (origins); {@code *} allows everything.
   */
  @FuzzTest
  void configured_anyEntriesAnyHeader_agreeWithReference(FuzzedDataProvider data) {
    String hostEntry = data.consumeString(24);
    String originEntry = data.consumeString(32);
    String header = data.consumeRemainingAsString();
    // Set.copyOf, not Set.of: the fuzzer may write one of the fixed entries itself
    Set<String> hosts = Set.copyOf(List.of(hostEntry, "gw.example.com", "gw.example.com:8443"));
    Set<String> origins = Set.copyOf(
        List.of(originEntry, "https://app.example.com", "http://dev.example.com:*"));
    Guard guard = Guard.of(origins, hosts, "0.0.0.0", 8443);

    assertThat(guard.hostAllowed(header)).as("Host %s with %s", header, hostEntry)
        .isEqualTo(referenceHost(lower(hosts), header));
    assertThat(guard.originAllowed(header)).as("Origin %s with %s", header, originEntry)
        .isEqualTo(referenceOrigin(lower(origins), header));
  }

  private static Set<String> lower(Set<String> values) {
    return Set.copyOf(values.stream().map(v -> v.trim().toLowerCase(Locale.ROOT)).toList());
  }

  private static boolean referenceHost(Set<String> hosts, String header) {
    if (hosts.contains("*")) {
      return true;
    }
    if (header.isEmpty()) {
      return false;
    }
    String value = header.trim().toLowerCase(Locale.ROOT);
    Matcher parts = HOST_AND_PORT.matcher(value);
    return hosts.contains(value) || (parts.matches() && hosts.contains(parts.group(1)));
  }

  private static boolean referenceOrigin(Set<String> origins, String header) {
    if (origins.contains("*")) {
      return true;
    }
    String value = header.trim().toLowerCase(Locale.ROOT);
    if (origins.contains(value) && !value.endsWith(":*")) {
      return true;
    }
    int scheme = value.indexOf("://");
    if (scheme < 0) {
      return false;
    }
    Matcher parts = HOST_AND_PORT.matcher(value.substring(scheme + 3));
    return parts.matches() && origins.contains(value.substring(0, scheme + 3) + parts.group(1) + ":*");
  }
}
