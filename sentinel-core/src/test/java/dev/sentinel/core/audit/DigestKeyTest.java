package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class DigestKeyTest {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();
  private static final String SECRET = "0123456789abcdef0123456789abcdef";

  private static JsonNode json(String text) {
    return MAPPER.readTree(text);
  }

  @Test
  void digest_isHmacSha256OfCanonicalBytes() throws Exception {
    DigestKey key = DigestKey.fromSecret(SECRET);
    JsonNode value = json("{\"b\":1.0,\"a\":[\"x\",null]}");

    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String expected = HexFormat.of().formatHex(mac.doFinal(CanonicalJson.bytes(value)));

    CanonicalJson.Digest digest = key.digest(value);
    assertThat(digest.digest()).isEqualTo("hmac-sha256:" + key.id() + ":" + expected);
    assertThat(digest.digest()).hasSize(DigestKey.DIGEST_LENGTH);
    assertThat(digest.size()).isEqualTo(CanonicalJson.bytes(value).length);
    assertThat(key.id()).matches("[0-9a-f]{8}");
  }

  @Test
  void digest_keyLongerThanABlock_isHashedFirstAsHmacSays() throws Exception {
    String secret = "k".repeat(100) + "é";
    DigestKey key = DigestKey.fromSecret(secret);
    JsonNode value = json("[1,\"two\"]");

    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));

    assertThat(key.digest(value).digest())
        .isEqualTo("hmac-sha256:" + key.id() + ":"
            + HexFormat.of().formatHex(mac.doFinal(CanonicalJson.bytes(value))));
  }

  @Test
  void digest_largeValueStreamsInChunks_sameAsWholeBytes() throws Exception {
    DigestKey key = DigestKey.fromSecret(SECRET);
    JsonNode value = MAPPER.createObjectNode().put("text", "é€😀x".repeat(20_000));

    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));

    assertThat(key.digest(value).digest())
        .endsWith(HexFormat.of().formatHex(mac.doFinal(CanonicalJson.bytes(value))));
  }

  @Test
  void digest_differsByKeyAndIdSaysWhichKey() {
    JsonNode value = json("{\"password\":\"hunter2\"}");
    DigestKey one = DigestKey.random();
    DigestKey two = DigestKey.random();

    assertThat(one.digest(value).digest()).isNotEqualTo(two.digest(value).digest());
    assertThat(one.id()).isNotEqualTo(two.id());
    assertThat(DigestKey.fromSecret(SECRET).id()).isEqualTo(DigestKey.fromSecret(SECRET).id());
    assertThat(DigestKey.fromSecret(SECRET))
        .isEqualTo(DigestKey.of(SECRET.getBytes(StandardCharsets.UTF_8)))
        .isNotEqualTo(one)
        .hasSameHashCodeAs(DigestKey.fromSecret(SECRET));
  }

  @Test
  void matches_claimedOriginal_onlyWithTheSameKey() {
    DigestKey key = DigestKey.fromSecret(SECRET);
    String recorded = key.digest(json("{\"user\":\"ann\",\"password\":\"hunter2\"}")).digest();

    assertThat(key.matches(json("{\"password\":\"hunter2\",\"user\":\"ann\"}"), recorded)).isTrue();
    assertThat(key.matches(json("{\"password\":\"hunter3\",\"user\":\"ann\"}"), recorded)).isFalse();
    assertThat(DigestKey.random().matches(json("{\"password\":\"hunter2\",\"user\":\"ann\"}"),
        recorded)).isFalse();
    assertThat(key.matches(json("{}"), null)).isFalse();
    assertThat(key.matches(json("{}"), "sha256:" + "0".repeat(64))).isFalse();
  }

  @Test
  void fromSecret_tooShort_isRefusedWithoutQuotingIt() {
    assertThatThrownBy(() -> DigestKey.fromSecret("hunter2-is-my-key"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 32")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> DigestKey.fromSecret(" ".repeat(40)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DigestKey.of(new byte[31]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 32 bytes");
  }

  @Test
  void redacted_refusesAnUnkeyedDigest() {
    assertThatThrownBy(() -> new Redacted(json("{}"), CanonicalJson.sha256(json("{}")), 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("digest must be keyed, starting with hmac-sha256:");
  }

  @Test
  void toString_showsIdNeverKey() {
    DigestKey key = DigestKey.fromSecret(SECRET);

    assertThat(key.toString()).isEqualTo("DigestKey[id=" + key.id() + "]").doesNotContain(SECRET);
  }

  @Test
  void of_copiesTheKey() {
    byte[] bytes = SECRET.getBytes(StandardCharsets.UTF_8);
    DigestKey key = DigestKey.of(bytes);
    String before = key.digest(json("1")).digest();

    bytes[0] ^= 1;

    assertThat(key.digest(json("1")).digest()).isEqualTo(before);
  }

  @Test
  void digest_concurrentThreads_agree() throws Exception {
    DigestKey key = DigestKey.fromSecret(SECRET);
    JsonNode value = json("{\"q\":\"select * from orders\",\"n\":[1,2,3]}");
    String expected = key.digest(value).digest();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        results.add(pool.submit(() -> {
          for (int i = 0; i < 2_000; i++) {
            if (!key.digest(value).digest().equals(expected)) {
              return false;
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> result : results) {
        assertThat(result.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
