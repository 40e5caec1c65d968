package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Random;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Fuzz target for canonical JSON, the bytes the audit digests and the hash chain are computed
 * over ({@code benchmarks/fuzz CanonicalJsonFuzzTest}).
 */
class CanonicalJsonFuzzTest {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();
  /** Reads numbers exactly: a canonical number may carry more digits than a double holds. */
  private static final JsonMapper EXACT =
      JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  /**
   * For any JSON text: the canonical form is JSON whose own canonical form (read with exact
   * numbers) is itself, its digest
   * and size are those of its bytes, and neither depends on the order of members.
   */
  @FuzzTest
  void bytes_anyJson_isAFixedPointWithAStableDigest(FuzzedDataProvider data) {
    long seed = data.consumeLong();
    JsonNode node;
    try {
      node = MAPPER.readTree(data.consumeRemainingAsBytes());
    } catch (JacksonException notJson) {
      return;
    }
    if (node == null || node.isMissingNode()) {
      return;
    }

    byte[] canonical = CanonicalJson.bytes(node);

    assertThat(CanonicalJson.bytes(EXACT.readTree(canonical))).isEqualTo(canonical);
    assertThat(CanonicalJson.sha256(node)).isEqualTo(CanonicalJson.sha256(canonical));
    assertThat(CanonicalJson.size(node)).isEqualTo(canonical.length);
    assertThat(CanonicalJson.digest(node).digest()).isEqualTo(CanonicalJson.sha256(canonical));
    JsonNode reordered = JsonGenerators.shuffled(node, new Random(seed));
    assertThat(CanonicalJson.bytes(reordered)).isEqualTo(canonical);
  }
}
