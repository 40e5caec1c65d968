package dev.sentinel.core.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.internal.Ed25519Keys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class BundleTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final KeyPair ALICE = Ed25519Keys.generate();
  private static final KeyPair BOB = Ed25519Keys.generate();
  private static final KeyPair MALLORY = Ed25519Keys.generate();

  @TempDir Path dir;
  private Path config;

  @BeforeEach
  void files() throws Exception {
    config = dir.resolve("sentinel.yaml");
    Files.writeString(config, "policy: { file: policies/team.yaml }\nbackends: []\n");
    Files.createDirectories(dir.resolve("policies"));
    Files.writeString(dir.resolve("policies/team.yaml"), "rules:\n  - id: r\n    allow: { tools: [\"*\"] }\n");
  }

  private static TrustedKeys trust(int min, KeyPair... keys) {
    return TrustedKeys.of(Arrays.stream(keys).map(KeyPair::getPublic).toList(), min);
  }

  private static Bundle signed(Bundle bundle, KeyPair... keys) {
    for (KeyPair key : keys) {
      bundle = bundle.sign(key.getPrivate(), key.getPublic());
    }
    return bundle;
  }

  @Test
  void build_holdsTheConfigAndThePolicyItNames() {
    Bundle bundle = Bundle.build(config, 7);

    assertThat(bundle.config()).isEqualTo("sentinel.yaml");
    assertThat(bundle.entries()).extracting(Bundle.Entry::name)
        .containsExactly("policies/team.yaml", "sentinel.yaml");
    assertThat(new String(bundle.file("policies/team.yaml"), StandardCharsets.UTF_8)).startsWith("rules:");
    assertThat(bundle.digest()).startsWith("sha256:").hasSize(7 + 64);
    assertThat(bundle.sequence()).isEqualTo(7);
  }

  @Test
  void build_isContentAddressed_sameFilesSameDigestAndBytes_changedFileNewDigest() throws Exception {
    Bundle first = Bundle.build(config, 7);
    Bundle again = Bundle.build(config, 7);
    Files.writeString(dir.resolve("policies/team.yaml"), "rules: []\n");
    Bundle changed = Bundle.build(config, 7);

    assertThat(again.digest()).isEqualTo(first.digest());
    assertThat(again.toBytes()).isEqualTo(first.toBytes());
    assertThat(changed.digest()).isNotEqualTo(first.digest());
    assertThat(Bundle.build(config, 8).digest()).isNotEqualTo(changed.digest());
  }

  @Test
  void signatures_doNotChangeTheDigest_andSurviveAWriteAndRead() {
    Bundle bundle = Bundle.build(config, 7);
    Path file = dir.resolve("b.bundle");
    signed(bundle, ALICE, BOB).write(file);

    Bundle read = Bundle.read(file);
    Bundle.Verified verified = read.verify(trust(2, ALICE, BOB), 6, false);

    assertThat(read.digest()).isEqualTo(bundle.digest());
    assertThat(verified.signers()).containsExactlyInAnyOrder(Ed25519Keys.id(ALICE.getPublic()),
        Ed25519Keys.id(BOB.getPublic()));
    assertThat(verified.rollback()).isFalse();
  }

  @Test
  void verify_signedByAnUntrustedKey_isRefusedNamingTheKeys() {
    Bundle bundle = signed(Bundle.build(config, 7), MALLORY);

    assertThatThrownBy(() -> bundle.verify(trust(1, ALICE), -1, false))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("signed by 0 of the 1 trusted keys")
        .hasMessageContaining("untrusted " + Ed25519Keys.id(MALLORY.getPublic()));
  }

  @Test
  void verify_tooFewSigners_isRefused_oneKeySigningTwiceCountsOnce() {
    Bundle once = signed(Bundle.build(config, 7), ALICE);
    Bundle twice = signed(once, ALICE);

    assertThatThrownBy(() -> twice.verify(trust(2, ALICE, BOB), -1, false))
        .hasMessageContaining("signed by 1 of the 2");
    assertThat(twice.signatureKeys()).hasSize(1);
  }

  @Test
  void verify_rollback_isRefusedUnlessForced() {
    Bundle old = signed(Bundle.build(config, 5), ALICE);

    assertThatThrownBy(() -> old.verify(trust(1, ALICE), 5, false))
        .hasMessageContaining("sequence 5 is not above the running 5");
    assertThat(old.verify(trust(1, ALICE), 9, true).rollback()).isTrue();
  }

  @Test
  void read_aFileChangedAfterBuilding_isRefused() throws Exception {
    Path file = dir.resolve("b.bundle");
    signed(Bundle.build(config, 7), ALICE).write(file);
    ObjectNode root = (ObjectNode) JSON.readTree(Files.readAllBytes(file));
    ((ObjectNode) root.get("files")).put("policies/team.yaml",
        Base64.getEncoder().encodeToString("rules: [ { id: all, allow: {} } ]\n".getBytes(StandardCharsets.UTF_8)));
    Files.write(file, JSON.writeValueAsBytes(root));

    assertThatThrownBy(() -> Bundle.read(file))
        .hasMessageContaining("'policies/team.yaml' does not match its digest");
  }

  @Test
  void verify_aBundleRebuiltWithChangedFilesAndOldSignatures_doesNotVerify() throws Exception {
    // The attacker recomputes the manifest and digest; only the signatures cannot be remade.
    Bundle genuine = signed(Bundle.build(config, 7), ALICE);
    Files.writeString(dir.resolve("policies/team.yaml"), "rules: [ { id: all, allow: {} } ]\n");
    Bundle forged = Bundle.build(config, 7);
    ObjectNode root = (ObjectNode) JSON.readTree(forged.toBytes());
    root.set("signatures", JSON.readTree(genuine.toBytes()).get("signatures"));
    Bundle read = Bundle.parse(JSON.writeValueAsBytes(root));

    assertThatThrownBy(() -> read.verify(trust(1, ALICE), -1, false))
        .hasMessageContaining("does not verify");
  }

  @Test
  void read_aManifestChangedAfterBuilding_isRefused() throws Exception {
    ObjectNode root = (ObjectNode) JSON.readTree(signed(Bundle.build(config, 3), ALICE).toBytes());
    ((ObjectNode) root.get("manifest")).put("sequence", 99);

    assertThatThrownBy(() -> Bundle.parse(JSON.writeValueAsBytes(root)))
        .hasMessageContaining("digest does not match its manifest");
  }

  @Test
  void read_truncatedOrNotABundle_isRefusedWithTheReason() throws Exception {
    byte[] bytes = Bundle.build(config, 7).toBytes();
    Path truncated = dir.resolve("t.bundle");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));

    assertThatThrownBy(() -> Bundle.read(truncated)).hasMessageContaining("not valid JSON")
        .hasMessageContaining(truncated.toString());
    assertThatThrownBy(() -> Bundle.parse("[1]".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("expected a JSON object");
    assertThatThrownBy(() -> Bundle.read(dir.resolve("missing.bundle"))).hasMessageContaining("does not exist");
  }

  @Test
  void read_anUnknownFormat_namesIt() throws Exception {
    ObjectNode root = (ObjectNode) JSON.readTree(Bundle.build(config, 7).toBytes());
    ((ObjectNode) root.get("manifest")).put("format", "sentinel-bundle/2");

    assertThatThrownBy(() -> Bundle.parse(JSON.writeValueAsBytes(root)))
        .hasMessageContaining("unknown bundle format 'sentinel-bundle/2'");
  }

  @Test
  void read_duplicateMembers_areRefused() {
    String text = new String(Bundle.build(config, 7).toBytes(), StandardCharsets.UTF_8)
        .replaceFirst("\\{", "{ \"digest\" : \"sha256:00\",");

    assertThatThrownBy(() -> Bundle.parse(text.getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("not valid JSON").hasMessageContaining("Duplicate");
  }

  @Test
  void read_aFileNotInTheManifest_isRefused() throws Exception {
    ObjectNode root = (ObjectNode) JSON.readTree(Bundle.build(config, 7).toBytes());
    ((ObjectNode) root.get("files")).put("extra.yaml", "AA==");

    assertThatThrownBy(() -> Bundle.parse(JSON.writeValueAsBytes(root)))
        .hasMessageContaining("'extra.yaml' is not listed in the manifest");
  }

  @Test
  void of_entryNamesThatLeaveTheBundle_areRefused() {
    for (String name : List.of("../etc/passwd", "/etc/passwd", "a/../../b", "a//b", ".hidden", "a\\b", "")) {
      assertThatThrownBy(() -> Bundle.of(name, Map.of(name, new byte[0]), 1))
          .as(name).isInstanceOf(BundleException.class).hasMessageContaining("invalid entry name");
    }
  }

  @Test
  void build_aPolicyOutsideTheConfigsDirectory_isRefused() throws Exception {
    Files.writeString(config, "policy: ../elsewhere.yaml\n");

    assertThatThrownBy(() -> Bundle.build(config, 1))
        .hasMessageContaining("outside the config's directory");
  }

  @Test
  void build_aPolicyNamedThroughAVariable_isRefused() throws Exception {
    Files.writeString(config, "policy: { file: \"${env:POLICY}\" }\n");

    assertThatThrownBy(() -> Bundle.build(config, 1)).hasMessageContaining("literal file name");
  }

  @Test
  void build_anInlinePolicy_bundlesTheConfigAlone() throws Exception {
    Files.writeString(config, "policy:\n  rules: []\n");

    assertThat(Bundle.build(config, 1).entries()).extracting(Bundle.Entry::name).containsExactly("sentinel.yaml");
  }

  @Test
  void sign_withAPrivateKeyOfAnotherPair_isRefused() {
    Bundle bundle = Bundle.build(config, 1);

    assertThatThrownBy(() -> bundle.sign(MALLORY.getPrivate(), ALICE.getPublic()))
        .hasMessageContaining("does not belong to the public key");
  }

  @Test
  void extractTo_writesTheFilesWhereTheConfigExpectsThem() throws Exception {
    Path out = dir.resolve("run");

    Path extracted = Bundle.build(config, 1).extractTo(out);

    assertThat(extracted).isEqualTo(out.toAbsolutePath().resolve("sentinel.yaml"));
    assertThat(Files.readString(extracted)).isEqualTo(Files.readString(config));
    assertThat(Files.readString(out.resolve("policies/team.yaml")))
        .isEqualTo(Files.readString(dir.resolve("policies/team.yaml")));
  }

  @Test
  void trustedKeys_aThresholdThatCannotBeMet_isRefused() {
    assertThatThrownBy(() -> trust(2, ALICE)).hasMessageContaining("min_signers must be between 1 and");
    assertThatThrownBy(() -> trust(0, ALICE)).hasMessageContaining("min_signers");
  }

  @Test
  void keys_roundTripThroughPemFiles() throws Exception {
    Path pub = dir.resolve("alice.pub");
    Files.writeString(pub, Ed25519Keys.publicPem(ALICE.getPublic()));
    Path key = dir.resolve("alice.key");
    Files.writeString(key, Ed25519Keys.privatePem(ALICE.getPrivate()));

    TrustedKeys trusted = TrustedKeys.read(List.of(pub), 1);
    Bundle bundle = Bundle.build(config, 1)
        .sign(Ed25519Keys.readPrivate(key, "key", "keygen"), Ed25519Keys.readPublic(pub, "key", "keygen"));

    assertThat(bundle.verify(trusted, -1, false).signers()).containsExactly(Ed25519Keys.id(ALICE.getPublic()));
    Files.writeString(pub, "not a key");
    assertThatThrownBy(() -> TrustedKeys.read(List.of(pub), 1))
        .isInstanceOf(BundleException.class).hasMessageContaining("expected a PEM block");
  }
}
