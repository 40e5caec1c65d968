package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints, heads and their key files, without a database. */
class AuditCheckpointTest {
  private static final String HASH = "sha256:" + "0123456789abcdef".repeat(4);
  private static final Instant T = Instant.parse("2026-03-01T12:00:00.123456789Z");

  @TempDir Path dir;

  private static KeyPair ed25519() throws Exception {
    return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
  }

  static Path pem(Path file, String label, Key key) throws Exception {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(key.getEncoded());
    return Files.writeString(file,
        "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n");
  }

  @Test
  void sign_thenJsonAndBack_isTheSameCheckpoint_signedByItsKeyOnly() throws Exception {
    KeyPair keys = ed25519();
    AuditCheckpoint c = AuditCheckpoint.sign(new AuditHead(1200, HASH, null), T, keys.getPrivate());

    AuditCheckpoint back = AuditCheckpoint.parse(c.toJson());

    assertThat(back).isEqualTo(c);
    assertThat(back.time()).isEqualTo(Instant.parse("2026-03-01T12:00:00.123456Z"));
    assertThat(c.toJson()).startsWith("{\"checkpoint\":1,\"seq\":1200,\"hash\":\"" + HASH
        + "\",\"time\":\"2026-03-01T12:00:00.123456Z\",\"signature\":\"");
    assertThat(back.signedBy(keys.getPublic())).isTrue();
    assertThat(back.signedBy(ed25519().getPublic())).isFalse();
    assertThat(new String(c.signedBytes(), StandardCharsets.UTF_8)).isEqualTo(
        "sentinel-audit-checkpoint/1\n1200\n" + HASH + "\n2026-03-01T12:00:00.123456Z\n");
  }

  @Test
  void signedBy_anyFieldChanged_isFalse() throws Exception {
    KeyPair keys = ed25519();
    AuditCheckpoint c = AuditCheckpoint.sign(new AuditHead(1200, HASH, null), T, keys.getPrivate());
    String json = c.toJson();

    assertThat(AuditCheckpoint.parse(json.replace("1200", "1100")).signedBy(keys.getPublic()))
        .isFalse();
    assertThat(AuditCheckpoint.parse(json.replace("0123", "3210")).signedBy(keys.getPublic()))
        .isFalse();
    assertThat(AuditCheckpoint.parse(json.replace("12:00:00", "13:00:00"))
        .signedBy(keys.getPublic())).isFalse();
  }

  @Test
  void parse_notACheckpoint_saysWhatIsWrong() throws Exception {
    AuditCheckpoint c = AuditCheckpoint.sign(new AuditHead(1, HASH, null), T,
        ed25519().getPrivate());
    String json = c.toJson();

    assertThatThrownBy(() -> AuditCheckpoint.parse("{not json"))
        .hasMessageStartingWith("not JSON");
    assertThatThrownBy(() -> AuditCheckpoint.parse(json.replace("\"checkpoint\":1", "\"checkpoint\":2")))
        .hasMessageContaining("\"checkpoint\": 1");
    assertThatThrownBy(() -> AuditCheckpoint.parse(json.replace(".123456Z", ".123456000Z")))
        .hasMessageContaining("\"time\" must be written as 2026-03-01T12:00:00.123456Z");
    assertThatThrownBy(() -> AuditCheckpoint.parse(json.replace("\"seq\":1", "\"seq\":\"1\"")))
        .hasMessageContaining("\"seq\" must be a whole number");
    assertThatThrownBy(() -> AuditCheckpoint.parse(json.replace(HASH, "md5:00")))
        .hasMessageContaining("sha256: and 64 lowercase hex digits");
  }

  @Test
  void head_parse_rejectsWhatIsNotAHead() {
    assertThatThrownBy(() -> AuditHead.parse("1200"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("<seq>:sha256:<64 hex>[@<time>]");
    assertThatThrownBy(() -> AuditHead.parse("12:" + HASH + "@yesterday"))
        .hasMessageContaining("the head's time after @");
    assertThat(AuditHead.parse("12:" + HASH + "@2026-03-01T12:00:00Z"))
        .isEqualTo(new AuditHead(12, HASH, Instant.parse("2026-03-01T12:00:00Z")));
  }

  @Test
  void keys_pemFiles_roundTrip() throws Exception {
    KeyPair keys = ed25519();
    Path priv = pem(dir.resolve("checkpoint.key"), "PRIVATE KEY", keys.getPrivate());
    Path pub = pem(dir.resolve("checkpoint.pub"), "PUBLIC KEY", keys.getPublic());

    AuditCheckpoint c = AuditCheckpoint.sign(new AuditHead(3, HASH, null), T,
        AuditCheckpoints.readPrivateKey(priv));

    assertThat(c.signedBy(AuditCheckpoints.readPublicKey(pub))).isTrue();
  }

  @Test
  void keys_wrongFiles_areRefusedNamingTheFile() throws Exception {
    Path text = Files.writeString(dir.resolve("notes.txt"), "not a key\n");
    Path rsa = pem(dir.resolve("rsa.key"), "PRIVATE KEY",
        KeyPairGenerator.getInstance("RSA").generateKeyPair().getPrivate());
    Path pub = pem(dir.resolve("checkpoint.pub"), "PUBLIC KEY", ed25519().getPublic());

    assertThatThrownBy(() -> AuditCheckpoints.readPrivateKey(text))
        .hasMessageContaining(text.toString())
        .hasMessageContaining("-----BEGIN PRIVATE KEY-----")
        .hasMessageContaining("openssl genpkey -algorithm ed25519");
    assertThatThrownBy(() -> AuditCheckpoints.readPrivateKey(rsa))
        .hasMessageContaining("not an Ed25519 private key");
    assertThatThrownBy(() -> AuditCheckpoints.readPrivateKey(pub))
        .hasMessageContaining("expected a PEM block '-----BEGIN PRIVATE KEY-----'");
    assertThatThrownBy(() -> AuditCheckpoints.readPrivateKey(dir.resolve("missing.key")))
        .hasMessageContaining("Cannot read the audit checkpoint private key");
  }

  @Test
  void file_appendAndRead_keepsOrder_andATornLastLineStaysSeparate() throws Exception {
    KeyPair keys = ed25519();
    Path file = dir.resolve("sub/checkpoints.jsonl");
    AuditCheckpoint first = AuditCheckpoint.sign(new AuditHead(1, HASH, null), T,
        keys.getPrivate());
    AuditCheckpoint second = AuditCheckpoint.sign(new AuditHead(2, HASH, null), T,
        keys.getPrivate());
    AuditCheckpoints.append(file, first);
    Files.writeString(file, "{\"checkpoint\":1,\"se", java.nio.file.StandardOpenOption.APPEND);

    AuditCheckpoints.append(file, second);

    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(3);
    assertThat(lines.get(2)).isEqualTo(second.toJson());
    assertThatThrownBy(() -> AuditCheckpoints.read(file))
        .isInstanceOf(AuditCheckpointException.class)
        .hasMessageStartingWith(file + ":2: not an audit checkpoint");
    Files.write(file, List.of(lines.get(0), "", lines.get(2)));
    assertThat(AuditCheckpoints.read(file)).containsExactly(first, second);
  }

  @Test
  void file_missing_isAnError() {
    assertThatThrownBy(() -> AuditCheckpoints.read(dir.resolve("none.jsonl")))
        .isInstanceOf(AuditCheckpointException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void anchors_checkpointsWithoutATrustedKey_areRefused() {
    assertThatThrownBy(() -> AuditAnchors.NONE.checkpoints(List.of(), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one");
  }
}
