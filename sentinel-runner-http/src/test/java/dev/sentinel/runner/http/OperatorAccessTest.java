package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.config.Admin;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OperatorAccessTest {
  private static final String TOKEN = "0123456789abcdef0123456789abcdef-admin";

  @Test
  void permits_onlyTheBearerToken() {
    OperatorAccess access = OperatorAccess.of(Optional.of(new Admin(TOKEN)));

    assertThat(access.configured()).isTrue();
    assertThat(access.permits("Bearer " + TOKEN)).isTrue();
    assertThat(access.permits("bearer " + TOKEN)).isTrue();
    assertThat(access.permits("Bearer " + TOKEN + "x")).isFalse();
    assertThat(access.permits("Bearer " + TOKEN.substring(1))).isFalse();
    assertThat(access.permits("Basic " + TOKEN)).isFalse();
    assertThat(access.permits(TOKEN)).isFalse();
    assertThat(access.permits("Bearer ")).isFalse();
    assertThat(access.permits(null)).isFalse();
  }

  @Test
  void withoutAToken_nobody() {
    OperatorAccess access = OperatorAccess.of(Optional.empty());

    assertThat(access.configured()).isFalse();
    assertThat(access.permits("Bearer " + TOKEN)).isFalse();
    assertThat(access.permits("Bearer ")).isFalse();
  }
}
