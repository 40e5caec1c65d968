package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleCommandTest {
  @TempDir Path dir;
  private String bundle;

  @BeforeEach
  void configAndKeys() throws Exception {
    Files.writeString(dir.resolve("sentinel.yaml"), "policy: policy.yaml\nbackends: []\n");
    Files.writeString(dir.resolve("policy.yaml"), "rules: []\n");
    bundle = dir.resolve("prod.bundle").toString();
    assertThat(Cli.run("bundle", "keygen", "--out", dir.resolve("alice").toString()).exit()).isZero();
    assertThat(Cli.run("bundle", "keygen", "--out", dir.resolve("bob").toString()).exit()).isZero();
  }

  private Run build(String sequence) {
    return Cli.run("bundle", "build", "--config", dir.resolve("sentinel.yaml").toString(), "-o", bundle,
        "--sequence", sequence);
  }

  private Run sign(String who) {
    return Cli.run("bundle", "sign", bundle, "--key", dir.resolve(who + ".key").toString());
  }

  private Run verify(String... more) {
    String[] args = new String[] {"bundle", "verify", bundle, "--trust", dir.resolve("alice.pub").toString(),
        "--trust", dir.resolve("bob.pub").toString()};
    String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return Cli.run(all);
  }

  @Test
  void buildSignTwiceVerify_withATwoSignerThreshold_passes() {
    Run built = build("12");
    sign("alice");
    Run signed = sign("bob");
    Run verified = verify("--min-signers", "2");

    assertThat(built.out()).contains("sha256:").contains("sequence 12, 2 files, unsigned");
    assertThat(signed.out()).contains("(2 signatures)");
    assertThat(verified.err()).isEmpty();
    assertThat(verified.exit()).isZero();
    assertThat(verified.out()).contains(": OK: sha256:").contains("(sequence 12)");
  }

  @Test
  void verify_tooFewSigners_exitsOneWithTheReason() {
    build("12");
    sign("alice");

    Run run = verify("--min-signers", "2");

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("signed by 1 of the 2 trusted keys").doesNotContain("Exception");
  }

  @Test
  void verify_aRollback_exitsOne() {
    build("12");
    sign("alice");

    Run run = verify("--running-sequence", "12");

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("sequence 12 is not above the running 12");
  }

  @Test
  void verify_aTamperedBundle_exitsOneSayingSo() throws Exception {
    build("12");
    sign("alice");
    Path file = Path.of(bundle);
    // "rules: []\n" in base64 is cnVsZXM6IFtdCg==; swap in another policy
    Files.writeString(file, Files.readString(file).replace("cnVsZXM6IFtdCg==", "cnVsZXM6IFsgXQo="));

    Run run = verify();

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("'policy.yaml' does not match its digest");
  }

  @Test
  void inspect_listsFilesAndSignatures() {
    build("3");
    sign("bob");

    Run run = Cli.run("bundle", "inspect", bundle);

    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("sequence: 3").contains("config:   sentinel.yaml")
        .contains("  policy.yaml  10 bytes  sha256:").contains("signatures: ed25519:");
  }

  @Test
  void keygen_neverOverwrites_andKeepsThePrivateKeyToItsOwner() throws Exception {
    Run again = Cli.run("bundle", "keygen", "--out", dir.resolve("alice").toString());

    assertThat(again.exit()).isEqualTo(Main.FAILED);
    assertThat(again.err()).contains("exists already");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("alice.key"))))
        .isEqualTo("rw-------");
  }

  @Test
  void publish_putsTheBundleOnTheChannel_andAGatewayDatabaseReadsIt() throws Exception {
    build("12");
    sign("alice");
    String db = "jdbc:sqlite:" + dir.resolve("fleet.db");

    Run published = Cli.run(java.util.Map.of("USER", "ann"), "bundle", "publish", bundle,
        "--channel", "prod", "--db", db);

    assertThat(published.exit()).isZero();
    assertThat(published.out()).contains("published on channel prod: sha256:")
        .contains("sequence 12, by ann");
    try (dev.sentinel.jdbc.Database database = dev.sentinel.jdbc.Database.open(db, null, null)) {
      dev.sentinel.core.bundle.PublishedBundle head =
          dev.sentinel.jdbc.JdbcBundleStore.create(database).head("prod").orElseThrow();
      assertThat(head.bytes()).isEqualTo(Files.readAllBytes(Path.of(bundle)));
      assertThat(head.publishedBy()).isEqualTo("ann");
    }
  }

  @Test
  void publish_aFileThatIsNotABundle_isRefused_andNothingIsPublished() throws Exception {
    Path notABundle = Files.writeString(dir.resolve("notes.txt"), "rules: []\n");
    String db = "jdbc:sqlite:" + dir.resolve("fleet.db");

    Run run = Cli.run("bundle", "publish", notABundle.toString(), "--channel", "prod", "--db", db);

    assertThat(run.exit()).isNotZero();
    assertThat(run.err()).contains("not a bundle").doesNotContain("Exception");
    try (dev.sentinel.jdbc.Database database = dev.sentinel.jdbc.Database.open(db, null, null)) {
      assertThat(dev.sentinel.jdbc.JdbcBundleStore.create(database).head("prod")).isEmpty();
    }
  }

  @Test
  void publish_badChannelOrMissingDatabase_areUsageErrors() {
    build("12");
    String db = "jdbc:sqlite:" + dir.resolve("fleet.db");

    Run badChannel = Cli.run("bundle", "publish", bundle, "--channel", "Prod Main", "--db", db);
    Run noDatabase = Cli.run("bundle", "publish", bundle, "--channel", "prod");

    assertThat(badChannel.exit()).isEqualTo(Main.USAGE);
    assertThat(badChannel.err()).contains("invalid channel name");
    assertThat(noDatabase.exit()).isEqualTo(Main.USAGE);
    assertThat(noDatabase.err()).contains("--config FILE").contains("--db URL");
  }
}
