package dev.sentinel.examples.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.sun.net.httpserver.HttpServer;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.core.RefusedException;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.JsonLinesAuditSink;
import dev.sentinel.core.policy.PolicyEngine;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OpenAI Java client governed in-process, against a small local upstream. */
class GovernedOpenAiTest {
  private static final String ANSWER = "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,"
      + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
      + "\"content\":\"Hello\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,\"total_tokens\":10}}";

  @Test
  void allowedModelIsSent_othersAreRefusedBeforeSending(@TempDir Path dir) throws Exception {
    AtomicInteger sent = new AtomicInteger();
    HttpServer upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    upstream.createContext("/v1/chat/completions", exchange -> {
      sent.incrementAndGet();
      exchange.getRequestBody().readAllBytes();
      byte[] body = ANSWER.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    upstream.start();
    Path audit = dir.resolve("audit.jsonl");
    OpenAIClient client = OpenAIOkHttpClient.builder().apiKey("sk-local").maxRetries(0)
        .baseUrl("http://127.0.0.1:" + upstream.getAddress().getPort() + "/v1").build();
    try (Sentinel sentinel = Sentinel.builder()
        .authenticator(Authenticator.fixed(Principal.of("ada", "analyst")))
        .policy(PolicyEngine.parse("roles: { analyst: {} }\nrules:\n"
            + "  - id: small-models\n    allow: { roles: [analyst], models: [gpt-4o-mini] }\n",
            "policy.yaml"))
        .audit(AuditDispatcher.builder().sink(JsonLinesAuditSink.open(audit)).build())
        .build()) {
      GovernedOpenAi models = new GovernedOpenAi(sentinel, client, "openai");

      var answer = models.create(Credentials.launch(), ChatCompletionCreateParams.builder()
          .model("gpt-4o-mini").addUserMessage("a secret prompt").build());
      assertThat(answer.choices().get(0).message().content()).hasValue("Hello");
      assertThatThrownBy(() -> models.create(Credentials.launch(), ChatCompletionCreateParams
          .builder().model("gpt-4o").addUserMessage("a secret prompt").build()))
          .isInstanceOf(RefusedException.class).hasMessageContaining("no rule allows");
      assertThat(sent).hasValue(1);
    } finally {
      client.close();
      upstream.stop(0);
    }
    List<String> lines = Files.readAllLines(audit);
    assertThat(lines).hasSize(2);
    assertThat(String.join("\n", lines)).doesNotContain("secret prompt")
        .contains("\"usage\":{\"input\":9,\"output\":1,\"total\":10}");
  }
}
