package dev.sentinel.runner.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.Credentials;
import java.util.List;
import org.eclipse.jetty.http.HttpFields;
import org.junit.jupiter.api.Test;

/** The small parsers: Accept, Content-Type, credentials headers and event ids. */
class WireTest {

  @Test
  void accepts_parse() {
    assertThat(McpHandler.Accepts.parse(List.of())).isEqualTo(new McpHandler.Accepts(true, true));
    assertThat(McpHandler.Accepts.parse(List.of("application/json, text/event-stream")))
        .isEqualTo(new McpHandler.Accepts(true, true));
    assertThat(McpHandler.Accepts.parse(List.of("application/json"))).isEqualTo(new McpHandler.Accepts(true, false));
    assertThat(McpHandler.Accepts.parse(List.of("text/event-stream;q=0.9"))).isEqualTo(new McpHandler.Accepts(false, true));
    assertThat(McpHandler.Accepts.parse(List.of("*/*"))).isEqualTo(new McpHandler.Accepts(true, true));
    assertThat(McpHandler.Accepts.parse(List.of("text/html"))).isEqualTo(new McpHandler.Accepts(false, false));
    assertThat(McpHandler.Accepts.parse(List.of("application/json;q=0, text/event-stream")))
        .isEqualTo(new McpHandler.Accepts(false, true));
  }

  @Test
  void mediaType_dropsParameters() {
    assertThat(McpHandler.mediaType("Application/JSON; charset=utf-8")).isEqualTo("application/json");
    assertThat(McpHandler.mediaType(null)).isNull();
  }

  @Test
  void credentials_fromHeaders() {
    assertThat(McpHandler.credentials(HttpFields.build().add("Authorization", "Bearer abc")))
        .isEqualTo(Credentials.bearer("abc"));
    assertThat(McpHandler.credentials(HttpFields.build().add("Authorization", "bearer  abc ")))
        .isEqualTo(Credentials.bearer("abc"));
    assertThat(McpHandler.credentials(HttpFields.build().add("X-API-Key", "snk_x")))
        .isEqualTo(Credentials.apiKey("snk_x"));
    assertThat(McpHandler.credentials(HttpFields.build())).isEqualTo(Credentials.none());
    assertThat(McpHandler.credentials(HttpFields.build().add("Authorization", "Basic abc"))).isNull();
    assertThat(McpHandler.credentials(HttpFields.build().add("Authorization", "Bearer a b"))).isNull();
    assertThat(McpHandler.credentials(HttpFields.build().add("X-API-Key", " "))).isNull();
  }
}
