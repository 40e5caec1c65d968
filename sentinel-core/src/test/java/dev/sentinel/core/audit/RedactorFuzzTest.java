package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Random;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Fuzz target for the redactor: arbitrary arguments with a secret of a known shape planted in
 * them ({@code benchmarks/fuzz RedactorFuzzTest}).
 */
class RedactorFuzzTest {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();
  private static final Redactor DEFAULTS = Redactor.defaults();
  private static final Redactor SMALL = Redactor.builder().maxStringLength(96).maxBytes(300).build();

  /**
   * The planted secret never reaches the redacted value, the audit line or the redacted text;
   * strings and the whole value stay within the bounds; the input is not changed; and redacting
   * again changes nothing.
   */
  @FuzzTest
  void redact_anyDocumentWithAPlantedSecret_neverShowsIt(FuzzedDataProvider data) {
    Random random = new Random(data.consumeLong());
    Redactor redactor = data.consumeBoolean() ? SMALL : DEFAULTS;
    String prefix = data.consumeString(16);
    String suffix = data.consumeString(16);
    JsonNode document;
    String rest = data.consumeRemainingAsString();
    try {
      document = MAPPER.readTree(rest);
    } catch (JacksonException notJson) {
      document = JsonGenerators.NODES.stringNode(rest);
    }
    if (document == null || document.isMissingNode()) {
      document = JsonGenerators.NODES.stringNode(rest);
    }
    JsonGenerators.Secret secret = JsonGenerators.secret(random);
    if ((document + prefix + suffix).contains(secret.secret())) {
      return; // the fuzzer wrote the secret itself, outside any shape: not a planted secret
    }
    JsonNode input = JsonGenerators.embed(document, secret, random, prefix, suffix);
    JsonNode before = input.deepCopy();

    Redacted redacted = redactor.redact(input);

    assertThat(input).as("input untouched").isEqualTo(before);
    assertThat(redacted.value().toString()).doesNotContain(secret.secret());
    assertThat(AuditEventJson.toLine(TestEvents.event("e", redacted.value())))
        .doesNotContain(secret.secret());
    assertThat(CanonicalJson.size(redacted.value())).isLessThanOrEqualTo(redactor.maxBytes());
    assertStringsBounded(redacted.value(), redactor.maxStringLength());
    assertThat(redacted.size()).isEqualTo(CanonicalJson.size(input));
    assertThat(redactor.digestKey().matches(input, redacted.digest())).isTrue();
    assertThat(redactor.redact(redacted.value()).value()).isEqualTo(redacted.value());

    String text = redactor.redactText(prefix + " " + secret.text() + " " + suffix);
    assertThat(text).doesNotContain(secret.secret());
    assertThat(text.length()).isLessThanOrEqualTo(redactor.maxStringLength());
    assertThat(redactor.redactText(text)).isEqualTo(text);
  }

  private static void assertStringsBounded(JsonNode node, int max) {
    if (node.isString()) {
      assertThat(node.stringValue().length()).isLessThanOrEqualTo(max);
    }
    for (var member : node.properties()) {
      assertThat(member.getKey().length()).isLessThanOrEqualTo(max);
      assertStringsBounded(member.getValue(), max);
    }
    if (node.isArray()) {
      for (JsonNode element : node) {
        assertStringsBounded(element, max);
      }
    }
  }
}
