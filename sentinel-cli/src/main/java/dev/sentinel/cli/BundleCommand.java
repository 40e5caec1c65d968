package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleException;
import dev.sentinel.core.bundle.PublishedBundle;
import dev.sentinel.core.bundle.TrustedKeys;
import dev.sentinel.core.internal.Ed25519Keys;
import dev.sentinel.operator.BundleOperations;
import dev.sentinel.operator.Operations;
import dev.sentinel.jdbc.JdbcStores;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Instant;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel bundle build|keygen|sign|verify|inspect|publish}: signed config bundles
 * (docs/bundles.md); {@code publish} puts one on a channel of the fleet's database.
 * Each subcommand prints one result, or one line saying what is wrong and exits 1. Not
 * thread-safe.
 */
@Command(
    name = "bundle",
    mixinStandardHelpOptions = true,
    description = "Build, sign, verify and inspect signed config bundles.")
public final class BundleCommand implements Runnable {
  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;
  private final Map<String, String> environment;

  /**
   * A bundle command.
   *
   * @param environment the variables {@code ${env:...}} in config files and {@value
   *     DatabaseOptions#PASSWORD_VARIABLE} read, and the default publisher ({@code USER})
   */
  public BundleCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: build, keygen, sign, verify, inspect or publish");
  }

  /** Publishes a bundle on a channel of the fleet's database. */
  @Command(
      name = "publish",
      mixinStandardHelpOptions = true,
      description = {"Publish a bundle on a channel of the fleet's database: the gateways that"
          + " follow the channel (bundle: { source: database, channel: NAME }) verify it against"
          + " their own trust roots and apply it, or refuse it and keep serving.",
          "Checks that the file is a bundle; its signatures are the gateways' to judge"
              + " (check them first with bundle verify)."})
  int publish(
      @Parameters(paramLabel = "BUNDLE", description = "the bundle file") Path file,
      @Option(names = "--channel", required = true, paramLabel = "NAME",
          description = "the channel, such as prod or canary") String channel,
      @Option(names = "--by", paramLabel = "NAME",
          description = "who publishes, recorded beside the bundle (default: $USER)") String by,
      @Option(names = "--staged", description = "store it on the channel without making it the"
          + " head: for sentinel rollout start --bundle DIGEST") boolean staged,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "publish");
    byte[] bytes = readBundle(file);
    Clock clock = Clock.system();
    PublishedBundle published;
    try (JdbcStores stores = database.open(line, environment, clock, false)) {
      BundleOperations bundles = Operations.builder().stores(stores).clock(clock).build().bundles();
      published = Operator.call(line, () -> staged
          ? bundles.publishStaged(channel, bytes, who(by))
          : bundles.publish(channel, bytes, who(by)));
    }
    line.getOut().println(file + ": " + (staged ? "staged" : "published") + " on channel "
        + published.channel() + ": " + published.digest() + " (sequence "
        + published.sequence() + ", by " + published.publishedBy() + ")"
        + (staged ? "; start a rollout with sentinel rollout start --channel "
            + published.channel() + " --bundle " + published.digest() + " --canary 1" : ""));
    return 0;
  }

  private static byte[] readBundle(Path file) {
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      throw new BundleException("the bundle file " + file + " is not a regular file");
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(Bundle.MAX_BYTES + 1);
      if (bytes.length > Bundle.MAX_BYTES) {
        throw new BundleException("the bundle file " + file + " is larger than " + Bundle.MAX_BYTES
            + " bytes: it is not a bundle");
      }
      return bytes;
    } catch (NoSuchFileException e) {
      throw new BundleException("the bundle file " + file + " does not exist", e);
    } catch (IOException e) {
      throw new BundleException("cannot read the bundle file " + file + ": " + e.getMessage(), e);
    }
  }

  private String who(String by) {
    if (by != null && !by.isBlank()) {
      return by;
    }
    String user = environment.get("USER");
    return user == null || user.isBlank() ? "operator" : user;
  }

  /** Bundles a config with its policy. */
  @Command(
      name = "build",
      mixinStandardHelpOptions = true,
      description = "Bundle a config file with the policy file it names into one content-addressed file.")
  int build(
      @Option(names = "--config", required = true, paramLabel = "FILE", description = "the config file")
          Path config,
      @Option(names = {"-o", "--out"}, required = true, paramLabel = "FILE",
          description = "where to write the bundle") Path out,
      @Option(names = "--sequence", paramLabel = "N",
          description = "the bundle's sequence number, above every earlier bundle's (default: the"
              + " current time in seconds since 1970)") Long sequence) {
    long number = sequence != null ? sequence : Instant.now().getEpochSecond();
    Bundle bundle = Bundle.build(config, number);
    bundle.write(out);
    PrintWriter printed = out(spec, "build");
    printed.println(out + ": " + bundle.digest() + " (sequence " + number + ", "
        + bundle.entries().size() + " files, unsigned)");
    return 0;
  }

  /** Makes a signer's key pair. */
  @Command(
      name = "keygen",
      mixinStandardHelpOptions = true,
      description = "Make an Ed25519 key pair: NAME.key (private, readable by you only) and NAME.pub.")
  int keygen(
      @Option(names = "--out", required = true, paramLabel = "NAME",
          description = "the files' name without extension") Path name) {
    Path key = sibling(name, ".key");
    Path pub = sibling(name, ".pub");
    if (Files.exists(key) || Files.exists(pub)) {
      throw new BundleException(key + " or " + pub + " exists already; keygen never overwrites a key");
    }
    KeyPair pair = Ed25519Keys.generate();
    writePrivate(key, Ed25519Keys.privatePem(pair.getPrivate()));
    try {
      Files.writeString(pub, Ed25519Keys.publicPem(pair.getPublic()), StandardCharsets.US_ASCII,
          StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new BundleException("cannot write " + pub + ": " + e.getMessage(), e);
    }
    out(spec, "keygen").println(Ed25519Keys.id(pair.getPublic()) + ": private key " + key
        + " (keep it secret), public key " + pub + " (give it to the gateways' bundle.trust)");
    return 0;
  }

  /** Adds a signature. */
  @Command(
      name = "sign",
      mixinStandardHelpOptions = true,
      description = "Add your signature to a bundle (in place).")
  int sign(
      @Parameters(paramLabel = "BUNDLE", description = "the bundle file") Path file,
      @Option(names = "--key", required = true, paramLabel = "KEY",
          description = "your private key (from bundle keygen)") Path key,
      @Option(names = "--pub", paramLabel = "PUB",
          description = "its public key (default: KEY with .pub for .key)") Path pub) {
    Path publicFile = pub != null ? pub : sibling(stripKey(key), ".pub");
    PrivateKey privateKey;
    PublicKey publicKey;
    try {
      privateKey = Ed25519Keys.readPrivate(key, "signing key", "sentinel bundle keygen --out NAME");
      publicKey = Ed25519Keys.readPublic(publicFile, "signer's public key", "sentinel bundle keygen --out NAME");
    } catch (Ed25519Keys.KeyFileException e) {
      throw new BundleException(Failures.message(e), e);
    }
    Bundle signed = Bundle.read(file).sign(privateKey, publicKey);
    signed.write(file);
    out(spec, "sign").println(file + ": " + signed.digest() + " signed by "
        + Ed25519Keys.id(publicKey) + " (" + signed.signatureKeys().size() + " signatures)");
    return 0;
  }

  /** Checks a bundle as a gateway would. */
  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = "Check a bundle as a gateway would: its files, its signatures against the"
          + " trusted keys and the threshold, and its sequence.")
  int verify(
      @Parameters(paramLabel = "BUNDLE", description = "the bundle file") Path file,
      @Option(names = "--trust", required = true, paramLabel = "PUB",
          description = "a trusted signer's public key; repeatable") List<Path> trust,
      @Option(names = "--min-signers", paramLabel = "N", defaultValue = "1",
          description = "how many trusted keys must have signed (default: 1)") int minSigners,
      @Option(names = "--running-sequence", paramLabel = "N", defaultValue = "-1",
          description = "the sequence of the bundle that runs: an older or equal one is a rollback")
          long running) {
    TrustedKeys keys;
    try {
      keys = TrustedKeys.read(trust, minSigners);
    } catch (IllegalArgumentException e) {
      throw new BundleException(Failures.message(e), e);
    }
    Bundle.Verified verified = Bundle.read(file).verify(keys, running, false);
    out(spec, "verify").println(file + ": OK: " + verified.digest() + " (sequence "
        + verified.sequence() + ") signed by " + String.join(", ", verified.signers())
        + (verified.untrusted().isEmpty() ? "" : "; ignored untrusted " + String.join(", ", verified.untrusted())));
    return 0;
  }

  /** Shows what a bundle holds. */
  @Command(
      name = "inspect",
      mixinStandardHelpOptions = true,
      description = "Show a bundle's digest, sequence, files and signatures (checks everything but the signatures).")
  int inspect(@Parameters(paramLabel = "BUNDLE", description = "the bundle file") Path file) {
    Bundle bundle = Bundle.read(file);
    PrintWriter printed = out(spec, "inspect");
    printed.println("digest:   " + bundle.digest());
    printed.println("sequence: " + bundle.sequence());
    printed.println("config:   " + bundle.config());
    printed.println("files:");
    for (Bundle.Entry entry : bundle.entries()) {
      printed.println("  " + entry.name() + "  " + entry.size() + " bytes  sha256:" + entry.sha256());
    }
    printed.println("signatures: " + (bundle.signatureKeys().isEmpty() ? "none"
        : String.join(", ", bundle.signatureKeys())));
    return 0;
  }

  private static PrintWriter out(CommandSpec spec, String subcommand) {
    return Subcommands.of(spec, subcommand).getOut();
  }

  private static Path sibling(Path name, String extension) {
    return name.resolveSibling(name.getFileName() + extension);
  }

  private static Path stripKey(Path key) {
    String name = String.valueOf(key.getFileName());
    return name.endsWith(".key") ? key.resolveSibling(name.substring(0, name.length() - 4)) : key;
  }

  /** Writes a private key readable by its owner only (where the file system has permissions). */
  private static void writePrivate(Path key, String pem) {
    try {
      try {
        Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        Files.createFile(key);
      }
      Files.writeString(key, pem, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
    } catch (FileAlreadyExistsException e) {
      throw new BundleException(key + " exists already; keygen never overwrites a key", e);
    } catch (IOException e) {
      throw new BundleException("cannot write " + key + ": " + e.getMessage(), e);
    }
  }
}
