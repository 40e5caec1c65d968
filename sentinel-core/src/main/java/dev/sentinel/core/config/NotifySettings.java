package dev.sentinel.core.config;

import java.net.URI;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The config's {@code notify:} section: where operators' events go.
 *
 * <pre>{@code
 * notify:
 *   webhook: https://hooks.example.com/sentinel    # http or https
 *   secret: "${env:SENTINEL_WEBHOOK_SECRET}"        # signs each body (HMAC-SHA256); a reference
 * }</pre>
 *
 * @param webhook the URL each event is posted to, or {@code null} for none
 * @param secret the resolved signing secret, or {@code null} without a webhook
 */
public record NotifySettings(@Nullable URI webhook, @Nullable String secret) {
  /** No notifications. */
  public static final NotifySettings NONE = new NotifySettings(null, null);

  /** Validates. */
  public NotifySettings {
    if ((webhook == null) != (secret == null)) {
      throw new IllegalArgumentException("a webhook and its secret go together");
    }
  }

  /** Whether events are posted anywhere. */
  public boolean enabled() {
    return webhook != null;
  }

  @Override
  public String toString() {
    // Never the secret: configs are logged and compared.
    return enabled() ? "NotifySettings[webhook=" + webhook + "]" : "NotifySettings[none]";
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof NotifySettings
        && Objects.equals(webhook, ((NotifySettings) other).webhook)
        && Objects.equals(secret, ((NotifySettings) other).secret);
  }

  @Override
  public int hashCode() {
    return Objects.hash(webhook, secret);
  }
}
