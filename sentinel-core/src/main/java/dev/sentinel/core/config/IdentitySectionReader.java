package dev.sentinel.core.config;

import dev.sentinel.api.Principal;
import dev.sentinel.core.auth.ApiKeys;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code identity:} section (a fixed principal or an API key) into
 * {@link Identity}, and the {@code principal} mappings that {@code server.anonymous} shares,
 * recording every problem in the shared reader. Not thread-safe: one per load.
 */
final class IdentitySectionReader {
  static final List<String> IDENTITY_KEYS = List.of("principal", "api_key");
  static final List<String> PRINCIPAL_KEYS = List.of("id", "roles", "attributes");

  private final ConfigReader in;
  private final Expander expander;

  IdentitySectionReader(ConfigReader in, Expander expander) {
    this.in = in;
    this.expander = expander;
  }

  /** The section, or {@link Identity#ANONYMOUS} when absent or after recording problems. */
  Identity read() {
    String p = "/identity";
    if (!in.section(p, null, IDENTITY_KEYS)) {
      return Identity.ANONYMOUS;
    }
    boolean hasPrincipal = in.present(p + "/principal", null, false);
    boolean hasKey = in.present(p + "/api_key", null, false);
    if (hasPrincipal == hasKey) {
      in.error(p, null, hasKey
          ? "give either principal or api_key, not both"
          : "expected principal: { id: ..., roles: [...] } or api_key: \"${env:SENTINEL_API_KEY}\"");
      return Identity.ANONYMOUS;
    }
    if (hasKey) {
      String raw = in.secretText(p + "/api_key", null, "an API key reference such as "
          + "\"${env:SENTINEL_API_KEY}\"");
      if (raw == null) {
        return Identity.ANONYMOUS;
      }
      String key = expander.expand(raw, p + "/api_key", null);
      if (key == null) {
        return Identity.ANONYMOUS;
      }
      if (!ApiKeys.looksLikeKey(key)) {
        in.error(p + "/api_key", null, "the api_key " + ConfigReader.describeSecret(raw)
            + " is not a Sentinel API key (snk_<id>_<secret>); issue one with the key store");
        return Identity.ANONYMOUS;
      }
      return Identity.ofApiKey(key);
    }
    Principal principal = principal(p + "/principal");
    return principal == null ? Identity.ANONYMOUS : Identity.of(principal);
  }

  /** A {@code principal} mapping, or {@code null} after recording its problems. */
  @Nullable Principal principal(String pp) {
    if (!in.checkKeys(pp, null, PRINCIPAL_KEYS)) {
      return null;
    }
    String id = null;
    if (in.present(pp + "/id", null, true)) {
      id = in.string(pp + "/id", null, "a principal id");
      if (id != null && id.isBlank()) {
        in.error(pp + "/id", null, "the principal id must not be blank");
        id = null;
      }
    }
    Set<String> roles = new LinkedHashSet<>();
    if (in.present(pp + "/roles", null, false)) {
      roles.addAll(in.names(pp + "/roles", null, "role names"));
    }
    Map<String, List<String>> attributes = new LinkedHashMap<>();
    String ap = pp + "/attributes";
    if (in.present(ap, null, false)) {
      JsonNode node = in.node(ap);
      if (!node.isObject()) {
        in.error(ap, null, "expected a mapping of attribute names to values, got "
            + ConfigReader.describe(node));
      } else {
        for (String name : node.propertyNames()) {
          attributes.put(name, in.names(YamlDocument.child(ap, name), null, "attribute values"));
        }
      }
    }
    return id == null ? null : new Principal(id, roles, attributes);
  }
}
