package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.audit.AuditDispatcher;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON Schema shipped for editors and the loader know the same keys: every mapping the
 * schema describes ({@code properties} at the root and in each {@code $defs} entry) lists exactly
 * the keys the loader (or, for an inline policy, the policy compiler) accepts there, and every
 * section the loader reads has its entry in the schema.
 */
class SchemaAgreementTest {
  private static JsonNode schema;

  @BeforeAll
  static void readSchema() throws Exception {
    // The schema ships with the command line (sentinel config schema), not in this module's jar;
    // the test reads it from the reactor's source tree, beside this module.
    java.nio.file.Path file = java.nio.file.Path.of("..", "sentinel-cli", "src", "main", "resources",
        "dev", "sentinel", "cli", "sentinel-config.schema.json");
    assertThat(file).exists();
    try (InputStream in = java.nio.file.Files.newInputStream(file)) {
      schema = JsonMapper.builder().build().readTree(in);
    }
  }

  /** The policy compiler's key lists, by the name of their {@code $defs} entry. */
  private static Map<String, List<String>> policySections() throws Exception {
    Map<String, List<String>> out = new HashMap<>();
    out.put("policyInline", policyKeys("PolicyCompiler", "TOP_KEYS"));
    out.put("role", policyKeys("PolicyCompiler", "ROLE_KEYS"));
    out.put("rule", policyKeys("PolicyCompiler", "RULE_KEYS"));
    out.put("match", policyKeys("PolicyCompiler", "MATCH_KEYS"));
    out.put("window", policyKeys("PolicyCompiler", "WINDOW_KEYS"));
    out.put("limit", policyKeys("PolicyCompiler", "LIMIT_KEYS"));
    out.put("breakGlass", policyKeys("PolicyCompiler", "BREAK_GLASS_KEYS"));
    List<String> condition = new ArrayList<>(policyKeys("Condition", "OPERATORS"));
    condition.addAll(policyKeys("Condition", "OPTIONS"));
    out.put("condition", condition);
    return out;
  }

  @SuppressWarnings("unchecked")
  private static List<String> policyKeys(String type, String field) throws Exception {
    Field f = Class.forName("dev.sentinel.core.policy." + type).getDeclaredField(field);
    f.setAccessible(true);
    return (List<String>) f.get(null);
  }

  private static Set<String> properties(JsonNode node) {
    return new TreeSet<>(node.get("properties").propertyNames());
  }

  @Test
  void schema_isDraft2020WithRootKeys() {
    assertThat(schema.get("$schema").asString())
        .isEqualTo("https://json-schema.org/draft/2020-12/schema");
    assertThat(properties(schema)).isEqualTo(new TreeSet<>(ConfigLoader.SECTIONS.get("")));
    assertThat(schema.get("additionalProperties").asBoolean()).isFalse();
  }

  @Test
  void everySchemaSection_matchesTheLoader() throws Exception {
    Map<String, List<String>> expected = new HashMap<>(ConfigLoader.SECTIONS);
    expected.remove("");
    expected.putAll(policySections());
    JsonNode defs = schema.get("$defs");
    List<String> described = new ArrayList<>();
    for (String name : defs.propertyNames()) {
      JsonNode def = defs.get(name);
      if (!def.has("properties")) {
        continue;
      }
      described.add(name);
      assertThat(expected).as("$defs/%s has properties but the loader has no such section", name)
          .containsKey(name);
      assertThat(properties(def)).as("keys of $defs/%s", name)
          .isEqualTo(new TreeSet<>(expected.get(name)));
      assertThat(def.path("additionalProperties").asBoolean(true))
          .as("$defs/%s must reject unknown keys, as the loader does", name).isFalse();
    }
    assertThat(described).as("every loader section is described in the schema")
        .containsExactlyInAnyOrderElementsOf(expected.keySet());
  }

  @Test
  void schemaDefaults_matchTheLoadersDefaults() {
    JsonNode gateway = schema.at("/$defs/gateway/properties");
    Gateway d = Gateway.DEFAULTS;
    assertThat(gateway.at("/name/default").asString()).isEqualTo(d.name());
    assertThat(Units.parseDuration(gateway.at("/request_timeout/default").asString()))
        .isEqualTo(d.requestTimeout());
    assertThat(Units.parseDuration(gateway.at("/start_timeout/default").asString()))
        .isEqualTo(d.startTimeout());
    assertThat(gateway.at("/max_pending_requests/default").asInt())
        .isEqualTo(d.maxPendingRequests());
    assertThat(Units.parseSize(gateway.at("/max_message_bytes/default").asString()))
        .isEqualTo(d.maxMessageBytes());
    assertThat(gateway.at("/max_depth/default").asInt()).isEqualTo(d.maxDepth());
    assertThat(gateway.at("/max_depth/maximum").asInt()).isEqualTo(Gateway.MAX_DEPTH_LIMIT);
    assertThat(schema.at("/$defs/namespacing/properties/separator/default").asString())
        .isEqualTo(d.namespacing().separator());
    assertThat(Units.parseDuration(
        schema.at("/$defs/http/properties/connect_timeout/default").asString()))
        .isEqualTo(HttpBackend.DEFAULT_CONNECT_TIMEOUT);
    List<String> inherited = new ArrayList<>();
    schema.at("/$defs/stdio/properties/inherit_env/default").forEach(n -> inherited.add(n.asString()));
    assertThat(inherited).isEqualTo(BackendsSectionReader.DEFAULT_INHERITED_ENV);
    assertThat(schema.at("/$defs/audit/properties/queue_capacity/default").asInt())
        .isEqualTo(Audit.DEFAULT_QUEUE_CAPACITY);
    assertThat(schema.at("/$defs/slf4jSink/properties/logger/default").asString())
        .isEqualTo(Audit.DEFAULT_LOGGER);
  }

  @Test
  void schemaEnums_matchTheDispatchersChoices() {
    assertThat(enumValues("/$defs/audit/properties/on_sink_failure"))
        .isEqualTo(lowerNames(AuditDispatcher.OnSinkFailure.values()));
    assertThat(enumValues("/$defs/audit/properties/when_full"))
        .isEqualTo(lowerNames(AuditDispatcher.WhenFull.values()));
    assertThat(schema.at("/$defs/audit/properties/on_sink_failure/default").asString())
        .isEqualTo(Audit.DEFAULTS.onSinkFailure().name().toLowerCase(Locale.ROOT));
    assertThat(schema.at("/$defs/audit/properties/when_full/default").asString())
        .isEqualTo(Audit.DEFAULTS.whenFull().name().toLowerCase(Locale.ROOT));
  }

  @Test
  void schemaAuditModeAndDatabase_matchTheLoader() {
    assertThat(enumValues("/$defs/audit/properties/mode"))
        .isEqualTo(lowerNames(dev.sentinel.core.audit.AuditMode.values()));
    assertThat(schema.at("/$defs/audit/properties/mode/default").asString())
        .isEqualTo(Audit.DEFAULTS.mode().name().toLowerCase(Locale.ROOT));
    assertThat(schema.at("/$defs/database/properties/url/default").asString())
        .isEqualTo("jdbc:sqlite:" + DatabaseSettings.DEFAULT_FILE);
    assertThat(schema.at("/$defs/sink/properties").has(Audit.DatabaseSink.INSTANCE.kind()))
        .isTrue();
  }

  @Test
  void schemaSharedState_matchesTheLoader() {
    assertThat(enumValues("/$defs/sharedLimits/properties/on_unavailable"))
        .isEqualTo(lowerNames(dev.sentinel.core.limit.SharedLimits.OnUnavailable.values()));
    assertThat(schema.at("/$defs/sharedLimits/properties/on_unavailable/default").asString())
        .isEqualTo(SharedState.DEFAULTS.limits().onUnavailable().name().toLowerCase(Locale.ROOT));
    assertThat(schema.at("/$defs/sharedLimits/properties/sync/default").asString())
        .isEqualTo(SharedState.DEFAULTS.limits().sync().toString());
    java.util.regex.Pattern sync = java.util.regex.Pattern.compile(
        schema.at("/$defs/sharedLimits/properties/sync/pattern").asString());
    for (String good : List.of("exact", "batched(20)", "delayed(200ms)", " batched( 5 ) ")) {
      assertThat(sync.matcher(good).find()).as(good).isTrue();
    }
    for (String bad : List.of("batched", "batched(x)", "delayed(5)", "exactly")) {
      assertThat(sync.matcher(bad).find()).as(bad).isFalse();
    }
    assertThat(Units.parseDuration(schema.at("/$defs/redis/properties/timeout/default").asString()))
        .isEqualTo(RedisSettings.DEFAULT_TIMEOUT);
  }

  @Test
  void backendNamePattern_matchesTheLoaders() {
    assertThat(schema.at("/$defs/backend/properties/name/pattern").asString())
        .isEqualTo("^" + Backend.NAME.pattern() + "$");
  }

  private static List<String> enumValues(String pointer) {
    List<String> out = new ArrayList<>();
    schema.at(pointer + "/enum").forEach(n -> out.add(n.asString()));
    return out;
  }

  private static List<String> lowerNames(Enum<?>[] values) {
    List<String> out = new ArrayList<>();
    for (Enum<?> v : values) {
      out.add(v.name().toLowerCase(Locale.ROOT));
    }
    return out;
  }
}
