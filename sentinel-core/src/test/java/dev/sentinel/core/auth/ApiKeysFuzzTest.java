package dev.sentinel.core.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Credentials;
import dev.sentinel.core.testing.ManualClock;
import java.util.List;
import java.util.Set;

/**
 * API-key authentication over arbitrary presented text (a fuzz target: {@code benchmarks/fuzz
 * ApiKeysFuzzTest}). The committed inputs are under {@code ApiKeysFuzzTestInputs}.
 */
class ApiKeysFuzzTest {
  private final ApiKeys keys = ApiKeys.create(InMemoryKeyStore.create(), new ManualClock());
  private final IssuedKey issued = keys.issue("alice", Set.of("dev"), null, null);

  /**
   * Text that is not the issued key never authenticates, whether presented as an API key or a
   * bearer token, and the refusal names a reason without echoing a key's secret part. The first
   * byte picks how the rest is shaped: raw, after {@code snk_}, or after the issued key's id.
   */
  @FuzzTest
  void authenticate_arbitraryText_neverAuthenticates(FuzzedDataProvider data) {
    int shape = data.consumeInt(0, 2);
    String rest = data.consumeRemainingAsString();
    String text = switch (shape) {
      case 0 -> rest;
      case 1 -> "snk_" + rest;
      default -> "snk_" + issued.id() + "_" + rest;
    };
    for (Credentials credentials : List.of(Credentials.apiKey(text), Credentials.bearer(text))) {
      AuthenticationResult result = keys.authenticator().authenticate(credentials);

      assertThat(result.authenticated()).isEqualTo(text.equals(issued.secret()));
      if (!result.authenticated()) {
        assertThat(result.reason()).isNotBlank();
        if (ApiKeys.looksLikeKey(text)) {
          assertThat(result.reason()).doesNotContain(text.substring(17));
        }
      }
    }
  }
}
