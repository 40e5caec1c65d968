package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ParamHeadersTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final JsonNode SCHEMA = JSON.readTree("{\"type\":\"object\",\"properties\":{"
      + "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
      + "\"flag\":{\"type\":\"boolean\",\"x-mcp-header\":\"Flag\"},"
      + "\"where\":{\"type\":\"object\",\"properties\":{\"zone\":{\"type\":\"string\",\"x-mcp-header\":\"Zone\"}}},"
      + "\"list\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"x-mcp-header\":\"Item\"}}}}");

  @Test
  void annotations_followPropertiesChainsOnly() {
    Map<String, List<String>> found = ParamHeaders.annotations(SCHEMA);

    assertThat(found).containsOnlyKeys("region", "flag", "zone");
    assertThat(found.get("zone")).containsExactly("where", "zone");
  }

  @Test
  void check_nestedAndBooleanValues_match_andAnAbsentArgumentNeedsNoHeader() {
    JsonNode arguments = JSON.readTree("{\"region\":\"eu\",\"flag\":true,\"where\":{\"zone\":\"b\"},\"list\":[\"x\"]}");
    Map<String, List<String>> headers = Map.of("mcp-param-region", List.of("eu"), "mcp-param-flag", List.of("true"),
        "mcp-param-zone", List.of("b"), "mcp-param-unrelated", List.of("ignored"));

    assertThat(ParamHeaders.check(SCHEMA, arguments, headers)).isNull();
    assertThat(ParamHeaders.check(SCHEMA, JSON.readTree("{\"region\":null}"), Map.of())).isNull();
  }

  @Test
  void check_mismatchMissingDoubledOrControlCharacters_areHeaderMismatches() {
    JsonNode arguments = JSON.readTree("{\"region\":\"eu\"}");
    List<Map<String, List<String>>> bad = List.of(
        Map.of("mcp-param-region", List.of("secret-value")),
        Map.of(),
        Map.of("mcp-param-region", List.of("eu", "eu")),
        Map.of("mcp-param-region", List.of("e\u0001u")),
        Map.of("mcp-param-region", List.of("eu"), "mcp-param-flag", List.of("true")));

    for (Map<String, List<String>> headers : bad) {
      StatelessMeta.Problem problem = ParamHeaders.check(SCHEMA, arguments, headers);
      assertThat(problem).as("%s", headers).isNotNull();
      assertThat(problem.code().code()).isEqualTo(-32020);
      assertThat(problem.message()).doesNotContain("secret-value");
    }
  }

  @Test
  void check_base64WithoutItsPaddingOrWithForeignCharacters_isAHeaderMismatch() {
    JsonNode arguments = JSON.readTree("{\"region\":\"eu\"}");

    assertThat(ParamHeaders.check(SCHEMA, arguments, Map.of("mcp-param-region", List.of("=?base64?ZXU=?="))))
        .isNull();
    for (String bad : List.of("=?base64?ZXU?=", "=?base64?Z!U=?=", "=?base64?ZXU==?=")) {
      StatelessMeta.Problem problem = ParamHeaders.check(SCHEMA, arguments, Map.of("mcp-param-region", List.of(bad)));
      assertThat(problem).as(bad).isNotNull();
      assertThat(problem.code().code()).isEqualTo(-32020);
    }
  }
}
