package dev.sentinel.core.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.StoredKey;
import dev.sentinel.core.testing.ManualClock;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
  private final ManualClock clock = new ManualClock();
  private final InMemoryKeyStore store = InMemoryKeyStore.create();
  private final ApiKeys keys = ApiKeys.create(store, clock);

  private AuthenticationResult authenticate(String key) {
    return keys.authenticator().authenticate(Credentials.apiKey(key));
  }

  /** Swaps the secret part for another valid-looking one. */
  private static String withOtherSecret(String key) {
    char last = key.charAt(key.length() - 1);
    return key.substring(0, key.length() - 1) + (last == 'a' ? 'b' : 'a');
  }

  @Test
  void issue_thenAuthenticate_yieldsTheKeysPrincipal() {
    IssuedKey issued = keys.issue("alice", Set.of("dev", "ops"), "laptop", null);
    AuthenticationResult result = authenticate(issued.secret());
    assertThat(result.authenticated()).isTrue();
    Principal principal = result.principal();
    assertThat(principal.id()).isEqualTo("alice");
    assertThat(principal.roles()).containsExactlyInAnyOrder("dev", "ops");
    assertThat(principal.attributes()).containsEntry("key_id", List.of(issued.id()));
  }

  @Test
  void issue_keyHasThePrefixAndShape() {
    IssuedKey issued = keys.issue("alice", Set.of(), null, null);
    assertThat(issued.secret()).startsWith("snk_" + issued.id() + "_").hasSize(60);
    assertThat(issued.id()).matches("[a-z2-7]{12}");
    assertThat(ApiKeys.looksLikeKey(issued.secret())).isTrue();
    assertThat(issued.key().name()).isEmpty();
    assertThat(issued.key().created()).isEqualTo(clock.instant());
  }

  @Test
  void issue_storeNeverHoldsTheSecret() {
    IssuedKey issued = keys.issue("alice", Set.of("dev"), "ci", null);
    String secretPart = issued.secret().substring(17);
    authenticate(issued.secret());
    for (StoredKey stored : keys.list()) {
      for (RecordComponent component : StoredKey.class.getRecordComponents()) {
        Object value;
        try {
          value = component.getAccessor().invoke(stored);
        } catch (ReflectiveOperationException e) {
          throw new AssertionError(e);
        }
        assertThat(String.valueOf(value)).doesNotContain(secretPart);
      }
      assertThat(stored.toString()).doesNotContain(secretPart);
    }
    assertThat(issued.key().hash()).isEqualTo(ApiKeys.hashHex(secretPart)).hasSize(64);
  }

  @Test
  void issuedKey_toStringHidesTheSecret() {
    IssuedKey issued = keys.issue("alice", Set.of(), null, null);
    assertThat(issued.toString())
        .doesNotContain(issued.secret())
        .doesNotContain(issued.secret().substring(17))
        .contains(issued.id());
  }

  @Test
  void authenticate_wrongSecret_isRefused() {
    IssuedKey issued = keys.issue("alice", Set.of(), null, null);
    AuthenticationResult result = authenticate(withOtherSecret(issued.secret()));
    assertThat(result.authenticated()).isFalse();
    assertThat(result.reason()).contains("wrong secret").contains(issued.id());
  }

  @Test
  void authenticate_unknownId_isRefused() {
    AuthenticationResult result = authenticate("snk_aaaaaaaaaaaa_" + "A".repeat(43));
    assertThat(result.authenticated()).isFalse();
    assertThat(result.reason()).contains("unknown key");
  }

  @Test
  void authenticate_revoked_isRefused() {
    IssuedKey issued = keys.issue("alice", Set.of(), null, null);
    assertThat(keys.revoke(issued.id())).isTrue();
    assertThat(keys.revoke(issued.id())).isFalse();
    AuthenticationResult result = authenticate(issued.secret());
    assertThat(result.authenticated()).isFalse();
    assertThat(result.reason()).contains("revoked key");
  }

  @Test
  void authenticate_afterExpiry_isRefused() {
    IssuedKey issued = keys.issue("alice", Set.of(), null, clock.instant().plus(Duration.ofDays(1)));
    clock.advance(Duration.ofDays(1).minusNanos(1));
    assertThat(authenticate(issued.secret()).authenticated()).isTrue();
    clock.advance(Duration.ofNanos(1));
    AuthenticationResult result = authenticate(issued.secret());
    assertThat(result.authenticated()).isFalse();
    assertThat(result.reason()).contains("expired key");
  }

  @Test
  void issue_expiryInThePast_isRejected() {
    assertThatThrownBy(() -> keys.issue("alice", Set.of(), null, clock.instant()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expiry");
  }

  @Test
  void issue_blankPrincipal_isRejected() {
    assertThatThrownBy(() -> keys.issue(" ", Set.of(), null, null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void authenticate_success_touchesTheKey() {
    IssuedKey issued = keys.issue("alice", Set.of(), null, null);
    clock.advance(Duration.ofMinutes(5));
    authenticate(issued.secret());
    assertThat(store.find(issued.id()).orElseThrow().lastUsed()).isEqualTo(clock.instant());
  }

  @Test
  void rotate_oldKeyFailsAndNewKeyWorks() {
    IssuedKey old = keys.issue("alice", Set.of("dev"), "laptop", null);
    IssuedKey fresh = keys.rotate(old.id(), null);
    assertThat(fresh.id()).isNotEqualTo(old.id());
    assertThat(fresh.key().principal()).isEqualTo("alice");
    assertThat(fresh.key().roles()).containsExactly("dev");
    assertThat(fresh.key().name()).isEqualTo("laptop");
    assertThat(authenticate(old.secret()).reason()).contains("revoked key");
    assertThat(authenticate(fresh.secret()).principal().id()).isEqualTo("alice");
    assertThat(keys.list()).extracting(StoredKey::id).containsExactly(old.id(), fresh.id());
  }

  @Test
  void rotate_unknownOrRevokedKey_isRejected() {
    assertThatThrownBy(() -> keys.rotate("aaaaaaaaaaaa", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("aaaaaaaaaaaa");
    IssuedKey issued = keys.issue("alice", Set.of(), null, null);
    keys.revoke(issued.id());
    assertThatThrownBy(() -> keys.rotate(issued.id(), null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("revoked");
  }

  @Test
  void authenticator_acceptsBearerWithTheKeyPrefix() {
    IssuedKey issued = keys.issue("alice", Set.of(), null, null);
    Authenticator authenticator = keys.authenticator();
    assertThat(authenticator.authenticate(Credentials.bearer(issued.secret())).authenticated())
        .isTrue();
    assertThat(authenticator.authenticate(Credentials.bearer("eyJhbGciOi.x.y")).reason())
        .isEqualTo("not an API key");
    assertThat(authenticator.authenticate(Credentials.none()).authenticated()).isFalse();
    assertThat(authenticator.authenticate(Credentials.launch()).authenticated()).isFalse();
  }

  @Test
  void authenticate_malformed_isRefusedWithoutException() {
    IssuedKey issued = keys.issue("alice", Set.of(), null, null);
    String good = issued.secret();
    List<String> bad =
        List.of(
            "",
            "snk_",
            good + "x",
            good.substring(1),
            good.replace("snk_", "snx_"),
            good.substring(0, 16) + "-" + good.substring(17),
            good.substring(0, 5) + "A" + good.substring(6),
            good.substring(0, 20) + "+" + good.substring(21),
            "snk_" + "a".repeat(1_000_000));
    for (String text : bad) {
      AuthenticationResult result = authenticate(text);
      assertThat(result.authenticated()).isFalse();
      assertThat(result.reason()).isEqualTo("malformed key");
    }
    assertThat(keys.authenticator().authenticate(null).authenticated()).isFalse();
  }

  @Test
  void issue_manyKeys_areUnique() {
    Set<String> ids = new HashSet<>();
    Set<String> secrets = new HashSet<>();
    for (int i = 0; i < 2_000; i++) {
      IssuedKey issued = keys.issue("p" + i, Set.of(), null, null);
      ids.add(issued.id());
      secrets.add(issued.secret().substring(17));
    }
    assertThat(ids).hasSize(2_000);
    assertThat(secrets).hasSize(2_000);
    assertThat(store.list()).hasSize(2_000);
  }

  @Test
  void reasons_neverContainTheSecret() {
    IssuedKey issued = keys.issue("alice", Set.of(), null, clock.instant().plusSeconds(1));
    String wrong = withOtherSecret(issued.secret());
    assertThat(authenticate(wrong).reason()).doesNotContain(wrong.substring(17));
    clock.advance(Duration.ofSeconds(1));
    assertThat(authenticate(issued.secret()).reason()).doesNotContain(issued.secret().substring(17));
    keys.revoke(issued.id());
    assertThat(authenticate(issued.secret()).reason()).doesNotContain(issued.secret().substring(17));
  }
}
