package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code notify:} section: a webhook and its signing secret, from a reference only. */
class NotifyConfigTest {
  @TempDir Path dir;

  private GatewayConfig parse(String notify) {
    return GatewayConfig.parse(notify + GatewayConfigTest.MINIMAL, "sentinel.yaml", dir,
        Map.of("HOOK_SECRET", "a-long-random-webhook-secret", "SHORT", "abc"));
  }

  private String problems(String notify) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(notify));
    assertThat(e).as("expected a ConfigException for:\n" + notify).isNotNull();
    return e.getMessage();
  }

  @Test
  void absent_meansNoNotifications() {
    assertThat(parse("").notifications()).isEqualTo(NotifySettings.NONE);
    assertThat(NotifySettings.NONE.enabled()).isFalse();
  }

  @Test
  void aWebhookWithASecretReference_isRead_andNeverPrinted() {
    NotifySettings notify = parse("notify:\n  webhook: https://hooks.example.com/sentinel\n"
        + "  secret: \"${env:HOOK_SECRET}\"\n").notifications();
    assertThat(notify.webhook()).isEqualTo(URI.create("https://hooks.example.com/sentinel"));
    assertThat(notify.secret()).isEqualTo("a-long-random-webhook-secret");
    assertThat(notify.toString()).doesNotContain("a-long-random-webhook-secret");
  }

  @Test
  void badValues_areLocatedErrors() {
    assertThat(problems("notify:\n  webhook: https://hooks.example.com/x\n"
        + "  secret: written-in-the-file-0123456789\n"))
        .contains("sentinel.yaml:3:3: notify: give the signing secret as a reference");
    assertThat(problems("notify:\n  webhook: ftp://hooks.example.com/x\n"
        + "  secret: \"${env:HOOK_SECRET}\"\n"))
        .contains("expected an http or https URL with a host");
    assertThat(problems("notify:\n  webhook: https://hooks.example.com/x\n"
        + "  secret: \"${env:SHORT}\"\n")).contains("shorter than 16 characters");
    assertThat(problems("notify:\n  webhook: https://hooks.example.com/x\n"))
        .contains("secret");
    assertThat(problems("notify:\n  webhook: https://hooks.example.com/x\n"
        + "  secret: \"${env:HOOK_SECRET}\"\n  colour: red\n")).contains("unknown key 'colour'");
  }
}
