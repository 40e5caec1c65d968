package dev.sentinel.runner.http.llm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.llm.LlmApi;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.llm.LlmUpstream;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the route derives once per config: the same URLs as per request, renewed on reload. */
class TargetsTest {
  private static LlmUpstream upstream(String name, LlmApi api, String base, String... models) {
    return new LlmUpstream(name, api, URI.create(base), "sk-" + name, List.of(models),
        Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1));
  }

  private static LlmSettings settings(LlmUpstream... upstreams) {
    return new LlmSettings(List.of(upstreams), Map.of(), List.of(), Duration.ofSeconds(15),
        1 << 20, 100, LlmSettings.AuditBodies.NONE);
  }

  @Test
  void url_isTheUpstreamsOwn_forEveryRoute() {
    LlmUpstream oai = upstream("oai", LlmApi.OPENAI, "http://127.0.0.1:1/v1/", "gpt");
    LlmUpstream ant = upstream("ant", LlmApi.ANTHROPIC, "https://example.test/api/v1", "claude");
    Targets targets = Targets.of(settings(oai, ant), null);
    for (LlmRoute route : LlmRoute.values()) {
      assertThat(targets.url(oai, route)).isEqualTo(oai.url(route.upstreamPath()));
      assertThat(targets.url(ant, route)).isEqualTo(ant.url(route.upstreamPath()));
    }
    assertThat(targets.url(oai, LlmRoute.CHAT_COMPLETIONS))
        .hasToString("http://127.0.0.1:1/v1/chat/completions");
    assertThat(targets.served()).containsExactlyInAnyOrder("gpt", "claude");
  }

  @Test
  void of_keepsTheTargetsOfTheSameSettings_andDerivesNewOnesAfterAReload() {
    LlmSettings before = settings(upstream("oai", LlmApi.OPENAI, "http://127.0.0.1:1/v1", "gpt"));
    Targets first = Targets.of(before, null);
    assertThat(Targets.of(before, first)).isSameAs(first);

    LlmUpstream moved = upstream("oai", LlmApi.OPENAI, "http://127.0.0.1:2/v1", "gpt", "gpt-mini");
    Targets reloaded = Targets.of(settings(moved), first);
    assertThat(reloaded).isNotSameAs(first);
    assertThat(reloaded.url(moved, LlmRoute.EMBEDDINGS))
        .hasToString("http://127.0.0.1:2/v1/embeddings");
    assertThat(reloaded.served()).containsExactlyInAnyOrder("gpt", "gpt-mini");
  }

  @Test
  void url_ofAnUpstreamFromOtherSettings_isComputedFromIt() {
    Targets targets = Targets.of(settings(upstream("a", LlmApi.OPENAI, "http://a.test/v1", "m")),
        null);
    LlmUpstream other = upstream("b", LlmApi.OPENAI, "http://b.test/v1", "m");
    assertThat(targets.url(other, LlmRoute.CHAT_COMPLETIONS))
        .hasToString("http://b.test/v1/chat/completions");
  }
}
