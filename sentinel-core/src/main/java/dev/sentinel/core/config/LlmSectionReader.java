package dev.sentinel.core.config;

import dev.sentinel.api.Rate;
import dev.sentinel.core.config.ConfigReader;
import dev.sentinel.core.config.YamlDocument;
import dev.sentinel.core.internal.Glob;
import dev.sentinel.core.llm.LlmApi;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.llm.LlmUpstream;
import dev.sentinel.core.llm.ModelAlias;
import dev.sentinel.core.llm.PassthroughPaths;
import dev.sentinel.core.llm.TokenBudget;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code llm:} section and {@code audit.llm_bodies} into {@link LlmSettings},
 * recording every problem in the shared reader (one reader per section, as the loader is being
 * split). Not thread-safe: one per load.
 */
final class LlmSectionReader {
  static final List<String> LLM_KEYS = List.of("upstreams", "aliases", "budgets", "keep_alive",
      "max_body_bytes", "default_reservation");
  static final List<String> UPSTREAM_KEYS = List.of("name", "api", "base_url", "api_key", "models",
      "connect_timeout", "first_byte_timeout", "idle_timeout", "passthrough");
  static final List<String> ALIAS_KEYS = List.of("model", "roles");
  static final List<String> BUDGET_KEYS = List.of("id", "tokens", "burst", "per", "roles",
      "principals", "models");
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
  private static final long MAX_BODY = 64L << 20;

  private final ConfigReader in;
  private final Expander expander;

  LlmSectionReader(ConfigReader in, Expander expander) {
    this.in = in;
    this.expander = expander;
  }

  /** The section, or {@link LlmSettings#NONE} when absent or after recording problems. */
  LlmSettings read() {
    LlmSettings.AuditBodies bodies = auditBodies();
    String p = "/llm";
    JsonNode node = in.node(p);
    if (node.isMissingNode() || node.isNull()) {
      return bodies == LlmSettings.AuditBodies.NONE ? LlmSettings.NONE
          : new LlmSettings(List.of(), Map.of(), List.of(), LlmSettings.DEFAULT_KEEP_ALIVE,
              LlmSettings.DEFAULT_MAX_BODY_BYTES, LlmSettings.DEFAULT_RESERVATION, bodies);
    }
    if (!in.checkKeys(p, null, LLM_KEYS)) {
      return LlmSettings.NONE;
    }
    int before = in.problems().size();
    List<LlmUpstream> upstreams = upstreams(p + "/upstreams");
    Map<String, ModelAlias> aliases = aliases(p + "/aliases", upstreams);
    List<TokenBudget> budgets = budgets(p + "/budgets");
    Duration keepAlive = duration(p + "/keep_alive", LlmSettings.DEFAULT_KEEP_ALIVE);
    long maxBody = size(p + "/max_body_bytes", LlmSettings.DEFAULT_MAX_BODY_BYTES);
    long reservation = LlmSettings.DEFAULT_RESERVATION;
    if (in.present(p + "/default_reservation", null, false)) {
      reservation = in.positiveLong(p + "/default_reservation", null, "a number of tokens")
          .orElse(LlmSettings.DEFAULT_RESERVATION);
    }
    if (in.problems().size() > before) {
      return LlmSettings.NONE;
    }
    return new LlmSettings(upstreams, aliases, budgets, keepAlive, maxBody, reservation, bodies);
  }

  private LlmSettings.AuditBodies auditBodies() {
    String p = "/audit/llm_bodies";
    if (!in.node("/audit").isObject() || !in.present(p, null, false)) {
      return LlmSettings.AuditBodies.NONE;
    }
    JsonNode node = in.node(p);
    String text = node.isString() ? node.stringValue() : null;
    if ("none".equals(text)) {
      return LlmSettings.AuditBodies.NONE;
    }
    if ("redacted".equals(text)) {
      return LlmSettings.AuditBodies.REDACTED;
    }
    in.error(p, null, "expected none or redacted, got " + ConfigReader.describe(node));
    return LlmSettings.AuditBodies.NONE;
  }

  private List<LlmUpstream> upstreams(String p) {
    List<LlmUpstream> out = new ArrayList<>();
    if (!in.present(p, null, true)) {
      return out;
    }
    JsonNode list = in.node(p);
    if (!list.isArray() || list.isEmpty()) {
      in.error(p, null, "expected a list of upstreams (each '- name: ...'), got "
          + ConfigReader.describe(list));
      return out;
    }
    Map<String, String> names = new HashMap<>();
    Map<String, String> served = new HashMap<>();
    Map<String, String> passed = new LinkedHashMap<>();
    for (int i = 0; i < list.size(); i++) {
      String ip = YamlDocument.child(p, i);
      LlmUpstream upstream = upstream(ip);
      if (upstream == null) {
        continue;
      }
      if (names.putIfAbsent(upstream.name(), ip) != null) {
        in.error(ip + "/name", null, "duplicate upstream name '" + upstream.name()
            + "'; upstream names must be unique");
        continue;
      }
      boolean clash = false;
      for (String model : upstream.models()) {
        String other = served.putIfAbsent(upstream.api() + " " + model, upstream.name());
        if (other != null) {
          in.error(ip + "/models", "upstream '" + upstream.name() + "'", "model '" + model
              + "' is also served by upstream '" + other + "' (same API); a request must map to"
              + " one upstream: list the model under one of them");
          clash = true;
        }
      }
      for (String pattern : upstream.passthrough()) {
        for (Map.Entry<String, String> other : passed.entrySet()) {
          if (PassthroughPaths.overlap(pattern, other.getKey())
              && !other.getValue().equals(upstream.name())) {
            in.error(ip + "/passthrough", "upstream '" + upstream.name() + "'", "'" + pattern
                + "' overlaps '" + other.getKey() + "' of upstream '" + other.getValue()
                + "'; a path must map to one upstream: pass it through one of them");
            clash = true;
          }
        }
        passed.putIfAbsent(pattern, upstream.name());
      }
      if (!clash) {
        out.add(upstream);
      }
    }
    return out;
  }

  private @Nullable LlmUpstream upstream(String p) {
    JsonNode node = in.node(p);
    String name = null;
    if (node.isObject() && in.present(p + "/name", null, true)) {
      name = in.string(p + "/name", null, "an upstream name");
      if (name != null && !NAME.matcher(name).matches()) {
        in.error(p + "/name", null, "invalid upstream name '" + name + "': use lowercase letters,"
            + " digits, '_' and '-', starting with a letter or digit, at most 63 characters");
        name = null;
      }
    }
    String subject = name == null ? null : "upstream '" + name + "'";
    if (!in.checkKeys(p, subject, UPSTREAM_KEYS)) {
      return null;
    }
    LlmApi api = null;
    if (in.present(p + "/api", subject, true)) {
      String text = in.string(p + "/api", subject, "openai or anthropic");
      for (LlmApi candidate : LlmApi.values()) {
        if (candidate.configName().equals(text)) {
          api = candidate;
        }
      }
      if (api == null && text != null) {
        in.error(p + "/api", subject, ConfigReader.unknown("API", text, List.of("openai", "anthropic")));
      }
    }
    URI url = null;
    if (in.present(p + "/base_url", subject, true)) {
      String raw = in.string(p + "/base_url", subject, "a URL such as https://api.openai.com/v1");
      String text = raw == null ? null : expander.expand(raw, p + "/base_url", subject);
      url = text == null ? null : url(text, p + "/base_url", subject);
    }
    String key = null;
    if (in.present(p + "/api_key", subject, false)) {
      JsonNode raw = in.node(p + "/api_key");
      if (!raw.isString()) {
        in.error(p + "/api_key", subject, "expected a secret reference such as"
            + " \"${env:OPENAI_API_KEY}\" or \"${file:/run/secrets/openai}\"");
      } else if (!raw.stringValue().contains("${")) {
        // A key written in the file ends up in backups, diffs and bundles.
        in.error(p + "/api_key", subject, "the key is written in the file: give a reference"
            + " such as \"${env:OPENAI_API_KEY}\" or \"${file:/run/secrets/openai}\" instead");
      } else {
        key = expander.expand(raw.stringValue(), p + "/api_key", subject);
        if (key != null && (key.isBlank() || key.indexOf('\r') >= 0 || key.indexOf('\n') >= 0)) {
          in.error(p + "/api_key", subject, "the key '" + raw.stringValue()
              + "' is empty or contains a line break");
          key = null;
        } else if (key != null) {
          key = key.strip();
        }
      }
    }
    List<String> models = List.of();
    if (in.present(p + "/models", subject, true)) {
      models = in.names(p + "/models", subject, "model names");
      if (models.isEmpty()) {
        in.error(p + "/models", subject, "list at least one model the upstream serves");
      }
    }
    List<String> passthrough = new ArrayList<>();
    boolean passthroughValid = true;
    if (in.present(p + "/passthrough", subject, false)) {
      List<String> patterns = in.names(p + "/passthrough", subject, "paths such as /v1/responses"
          + " or /v1/audio/*");
      for (int i = 0; i < patterns.size(); i++) {
        String problem = PassthroughPaths.patternProblem(patterns.get(i));
        if (problem != null) {
          in.error(in.node(p + "/passthrough").isArray()
              ? YamlDocument.child(p + "/passthrough", i) : p + "/passthrough", subject, "'" + patterns.get(i)
              + "': " + problem);
          passthroughValid = false;
        } else {
          passthrough.add(patterns.get(i));
        }
      }
    }
    Duration connect = duration(p + "/connect_timeout", LlmUpstream.DEFAULT_CONNECT_TIMEOUT);
    Duration firstByte = duration(p + "/first_byte_timeout", LlmUpstream.DEFAULT_FIRST_BYTE_TIMEOUT);
    Duration idle = duration(p + "/idle_timeout", LlmUpstream.DEFAULT_IDLE_TIMEOUT);
    if (name == null || api == null || url == null || models.isEmpty() || !passthroughValid) {
      return null;
    }
    return new LlmUpstream(name, api, url, key, models, connect, firstByte, idle, passthrough);
  }

  private @Nullable URI url(String text, String p, @Nullable String subject) {
    try {
      URI uri = new URI(text.strip());
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (uri.isAbsolute() && (scheme.equals("http") || scheme.equals("https"))
          && uri.getHost() != null && uri.getRawQuery() == null && uri.getRawUserInfo() == null) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    in.error(p, subject, "the base_url is not an http or https URL without user or query"
        + " (expected such as https://api.openai.com/v1)");
    return null;
  }

  private Map<String, ModelAlias> aliases(String p, List<LlmUpstream> upstreams) {
    Map<String, ModelAlias> out = new LinkedHashMap<>();
    if (!in.present(p, null, false)) {
      return out;
    }
    JsonNode node = in.node(p);
    if (!node.isObject()) {
      in.error(p, null, "expected a mapping of aliases, such as { default: gpt-4o-mini }, got "
          + ConfigReader.describe(node));
      return out;
    }
    Set<String> served = new java.util.HashSet<>();
    for (LlmUpstream upstream : upstreams) {
      served.addAll(upstream.models());
    }
    for (String name : node.propertyNames()) {
      String ap = YamlDocument.child(p, name);
      String subject = "alias '" + name + "'";
      if (served.contains(name)) {
        in.error(ap, subject, "an upstream serves a model of this name; an alias must not"
            + " shadow a model: rename the alias");
        continue;
      }
      JsonNode value = in.node(ap);
      String fallback = null;
      Map<String, String> byRole = new LinkedHashMap<>();
      if (value.isString()) {
        fallback = value.stringValue();
      } else if (in.checkKeys(ap, subject, ALIAS_KEYS)) {
        if (in.present(ap + "/model", subject, false)) {
          fallback = in.string(ap + "/model", subject, "a model name");
        }
        JsonNode roles = in.node(ap + "/roles");
        if (roles.isObject()) {
          for (String role : roles.propertyNames()) {
            String model = in.string(YamlDocument.child(ap + "/roles", role), subject, "a model name");
            if (model != null) {
              byRole.put(role, model);
            }
          }
        } else if (!roles.isMissingNode()) {
          in.error(ap + "/roles", subject, "expected a mapping of role to model, such as"
              + " { developer: gpt-4o }, got " + ConfigReader.describe(roles));
        }
        if (fallback == null && byRole.isEmpty()) {
          in.error(ap, subject, "the alias maps to no model: give 'model' or 'roles'");
          continue;
        }
      } else {
        continue;
      }
      List<String> targets = new ArrayList<>(byRole.values());
      if (fallback != null) {
        targets.add(fallback);
      }
      boolean ok = true;
      for (String target : targets) {
        if (!upstreams.isEmpty() && !served.contains(target)) {
          in.error(ap, subject, "maps to model '" + target + "', which no upstream serves");
          ok = false;
        }
      }
      if (ok) {
        out.put(name, new ModelAlias(name, byRole, fallback));
      }
    }
    return out;
  }

  private List<TokenBudget> budgets(String p) {
    List<TokenBudget> out = new ArrayList<>();
    if (!in.present(p, null, false)) {
      return out;
    }
    JsonNode list = in.node(p);
    if (!list.isArray()) {
      in.error(p, null, "expected a list of budgets (each '- id: ...'), got "
          + ConfigReader.describe(list));
      return out;
    }
    Set<String> ids = new java.util.HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String bp = YamlDocument.child(p, i);
      if (!in.checkKeys(bp, null, BUDGET_KEYS)) {
        continue;
      }
      String id = in.present(bp + "/id", null, true) ? in.string(bp + "/id", null, "a budget id") : null;
      String subject = id == null ? null : "budget '" + id + "'";
      if (id != null && !ids.add(id)) {
        in.error(bp + "/id", subject, "duplicate budget id; budget ids must be unique");
        id = null;
      }
      Rate rate = null;
      if (in.present(bp + "/tokens", subject, true)) {
        String text = in.string(bp + "/tokens", subject, "tokens per period, such as 100000/day");
        if (text != null) {
          try {
            rate = Rate.parse(text);
          } catch (IllegalArgumentException e) {
            in.error(bp + "/tokens", subject, "tokens: " + e.getMessage());
          }
        }
      }
      if (rate != null && in.present(bp + "/burst", subject, false)) {
        long burst = in.positiveLong(bp + "/burst", subject, "a burst").orElse(rate.permits());
        rate = rate.withBurst(burst);
      }
      Set<TokenBudget.Per> per = EnumSet.noneOf(TokenBudget.Per.class);
      if (in.present(bp + "/per", subject, false)) {
        for (String key : in.names(bp + "/per", subject, "principal, model or role")) {
          switch (key) {
            case "principal":
              per.add(TokenBudget.Per.PRINCIPAL);
              break;
            case "model":
              per.add(TokenBudget.Per.MODEL);
              break;
            case "role":
              per.add(TokenBudget.Per.ROLE);
              break;
            default:
              in.error(bp + "/per", subject, ConfigReader.unknown("key", key,
                  List.of("principal", "model", "role")));
          }
        }
      }
      List<String> roles = in.present(bp + "/roles", subject, false)
          ? in.names(bp + "/roles", subject, "role names") : null;
      List<Glob> principals = globs(bp + "/principals", subject);
      List<Glob> models = globs(bp + "/models", subject);
      if (id != null && rate != null) {
        out.add(new TokenBudget(id, rate, per, roles, principals, models));
      }
    }
    return out;
  }

  private @Nullable List<Glob> globs(String p, @Nullable String subject) {
    if (!in.present(p, subject, false)) {
      return null;
    }
    List<Glob> out = new ArrayList<>();
    for (String name : in.names(p, subject, "globs")) {
      out.add(Glob.name(name));
    }
    return out;
  }

  private Duration duration(String p, Duration fallback) {
    if (!in.present(p, null, false)) {
      return fallback;
    }
    JsonNode node = in.node(p);
    String key = p.substring(p.lastIndexOf('/') + 1);
    if (!node.isString()) {
      in.error(p, null, key + ": expected a duration such as 500ms, 30s, 5m or 1h, got "
          + ConfigReader.describe(node));
      return fallback;
    }
    try {
      Duration d = Units.parseDuration(node.stringValue());
      if (d.isZero()) {
        in.error(p, null, key + ": must be longer than zero");
        return fallback;
      }
      return d;
    } catch (IllegalArgumentException e) {
      in.error(p, null, key + ": " + e.getMessage() + ", got " + ConfigReader.describe(node));
      return fallback;
    }
  }

  private long size(String p, long fallback) {
    if (!in.present(p, null, false)) {
      return fallback;
    }
    JsonNode node = in.node(p);
    try {
      long bytes = node.isIntegralNumber() ? node.longValue()
          : node.isString() ? Units.parseSize(node.stringValue()) : -1;
      if (bytes > 0 && bytes <= MAX_BODY) {
        return bytes;
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    in.error(p, null, "max_body_bytes: expected a size between 1 byte and 64MiB, such as 4MiB, got "
        + ConfigReader.describe(node));
    return fallback;
  }
}
