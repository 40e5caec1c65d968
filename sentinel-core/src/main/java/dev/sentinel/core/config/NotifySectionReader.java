package dev.sentinel.core.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code notify:} section into {@link NotifySettings}, recording every problem
 * in the shared reader. Not thread-safe: one per load.
 */
final class NotifySectionReader {
  static final List<String> NOTIFY_KEYS = List.of("webhook", "secret");

  private final ConfigReader in;
  private final Expander expander;

  NotifySectionReader(ConfigReader in, Expander expander) {
    this.in = in;
    this.expander = expander;
  }

  /** The section, or {@link NotifySettings#NONE} when absent or after recording problems. */
  NotifySettings read() {
    String p = "/notify";
    JsonNode node = in.node(p);
    if (node.isMissingNode() || node.isNull()) {
      return NotifySettings.NONE;
    }
    String subject = "notify";
    if (!in.checkKeys(p, null, NOTIFY_KEYS)) {
      return NotifySettings.NONE;
    }
    URI url = null;
    if (in.present(p + "/webhook", subject, true)) {
      String raw = in.string(p + "/webhook", subject, "a URL such as https://hooks.example.com/x");
      String text = raw == null ? null : expander.expand(raw, p + "/webhook", subject);
      if (text != null) {
        try {
          url = new URI(text.strip());
          if (!("http".equals(url.getScheme()) || "https".equals(url.getScheme()))
              || url.getHost() == null) {
            in.error(p + "/webhook", subject, "expected an http or https URL with a host, got '"
                + text + "'");
            url = null;
          }
        } catch (URISyntaxException e) {
          in.error(p + "/webhook", subject, "not a URL: '" + text + "'");
        }
      }
    }
    String secret = null;
    if (in.present(p + "/secret", subject, true)) {
      JsonNode raw = in.node(p + "/secret");
      if (!raw.isString() || !raw.stringValue().contains("${")) {
        // A secret written in the file ends up in backups, diffs and bundles.
        in.error(p + "/secret", subject, "give the signing secret as a reference such as"
            + " \"${env:SENTINEL_WEBHOOK_SECRET}\" or \"${file:/run/secrets/webhook}\"");
      } else {
        secret = expander.expand(raw.stringValue(), p + "/secret", subject);
        if (secret != null && secret.strip().length() < 16) {
          in.error(p + "/secret", subject, "the secret is shorter than 16 characters: use a"
              + " random one (openssl rand -base64 32)");
          secret = null;
        }
      }
    }
    return url == null || secret == null ? NotifySettings.NONE
        : new NotifySettings(url, secret.strip());
  }
}
