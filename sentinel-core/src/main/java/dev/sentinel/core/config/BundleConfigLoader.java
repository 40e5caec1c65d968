package dev.sentinel.core.config;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleException;
import dev.sentinel.core.bundle.BundleSettings;
import dev.sentinel.core.bundle.BundleState;
import dev.sentinel.core.bundle.RunningBundle;
import dev.sentinel.core.bundle.TrustedKeys;
import dev.sentinel.core.config.ConfigException.Problem;
import dev.sentinel.core.policy.PolicyOptions;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import tools.jackson.databind.JsonNode;

/**
 * Loads the config of a gateway that runs a signed bundle: a config file that holds only a
 * {@code bundle:} section. The bundle file is read, its signatures checked against the trust
 * roots and the threshold, its sequence against the state file's (no rollback unless forced);
 * only then is the config inside it parsed, with its policy read from the bundle, never from
 * the disk. Relative paths in the bundled config (a database, an audit file) resolve against the
 * directory of the config that names the bundle, where the gateway runs.
 *
 * <p>Every refusal is a {@link ConfigException} located at the {@code bundle:} key it concerns:
 * a start fails with it, and a reload refuses it like any bad config while the running one keeps
 * serving.
 */
final class BundleConfigLoader {
  static final List<String> BUNDLE_KEYS = List.of("file", "trust", "min_signers", "state");

  private final YamlDocument document;
  private final ConfigReader in;
  private final Path baseDir;

  private BundleConfigLoader(YamlDocument document, Path baseDir) {
    this.document = document;
    this.in = new ConfigReader(document);
    this.baseDir = baseDir;
  }

  /** Whether a config document names a bundle instead of being a config itself. */
  static boolean namesBundle(YamlDocument document) {
    JsonNode root = document.root();
    return root != null && root.isObject() && root.has("bundle");
  }

  static GatewayConfig load(YamlDocument document, Path baseDir, Map<String, String> environment,
      PolicyOptions policyOptions, boolean allowRollback) {
    Verified verified = new BundleConfigLoader(document, baseDir).verify(allowRollback);
    return ConfigLoader.fromBundle(verified.config(), environment, baseDir, policyOptions,
        verified.bundle(), verified.running());
  }

  /**
   * The {@code database:} section of the bundle's config, for the commands that work on the
   * gateway's database: the bundle is verified, but one older than the state file's is read too
   * (reading where the database is applies nothing).
   */
  static DatabaseSettings database(YamlDocument document, Path baseDir,
      Map<String, String> environment) {
    Verified verified = new BundleConfigLoader(document, baseDir).verify(true);
    return ConfigLoader.databaseOf(verified.config(), environment, baseDir);
  }

  /** A verified bundle, what was found verifying it, and its config document. */
  private record Verified(Bundle bundle, RunningBundle running, YamlDocument config) {}

  private Verified verify(boolean allowRollback) {
    for (String key : document.root().propertyNames()) {
      if (!key.equals("bundle")) {
        in.error("/" + key, null, "a config that runs a bundle holds only 'bundle:'; every other"
            + " section comes from the signed bundle, so that what runs is what was signed");
      }
    }
    BundleSettings settings = settings();
    in.throwIfErrors();
    TrustedKeys trust;
    try {
      trust = TrustedKeys.read(settings.trust(), settings.minSigners());
    } catch (BundleException e) {
      throw refused("/bundle/trust", e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw refused("/bundle/min_signers", e.getMessage(), e);
    }
    Bundle bundle;
    try {
      bundle = Bundle.read(settings.file());
    } catch (BundleException e) {
      throw refused("/bundle/file", e.getMessage(), e);
    }
    Optional<BundleState> state;
    try {
      state = BundleState.read(settings.state());
    } catch (BundleException e) {
      throw refused("/bundle/state", e.getMessage(), e);
    }
    Bundle.Verified verified;
    try {
      verified = bundle.verify(trust, state.map(s -> s.floorFor(bundle.digest())).orElse(-1L),
          allowRollback);
    } catch (BundleException e) {
      throw refused("/bundle/file", "bundle " + bundle.digest() + " (sequence " + bundle.sequence()
          + ") refused: " + e.getMessage(), e);
    }
    RunningBundle running = new RunningBundle(settings, trust.ids(), verified.digest(),
        verified.sequence(),
        verified.signers(), verified.rollback(), state);
    String source = settings.file() + "!" + bundle.config();
    YamlDocument config = YamlDocument.parse(utf8(bundle, bundle.config(), source), source);
    if (namesBundle(config)) {
      throw new ConfigException(List.of(new Problem(source, 0, 0, "/bundle", null,
          "a bundled config cannot name another bundle")));
    }
    return new Verified(bundle, running, config);
  }

  /** A file of the bundle as text; the bundle's digest covers its bytes, not their decoding. */
  static String utf8(Bundle bundle, String name, String source) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bundle.file(name)))
          .toString();
    } catch (CharacterCodingException e) {
      throw new ConfigException(List.of(new Problem(source, 0, 0, "", null,
          "the bundle's file '" + name + "' is not valid UTF-8")), e);
    }
  }

  private BundleSettings settings() {
    String p = "/bundle";
    String subject = "bundle";
    JsonNode node = in.node(p);
    if (!node.isObject()) {
      in.error(p, subject, "expected { file: ..., trust: [...] }, got " + ConfigReader.describe(node));
      return null;
    }
    if (!in.checkKeys(p, subject, BUNDLE_KEYS)) {
      return null;
    }
    Path file = null;
    if (in.present(p + "/file", subject, true)) {
      file = path(p + "/file", subject, in.string(p + "/file", subject, "the bundle file's path"));
    }
    List<Path> trust = new ArrayList<>();
    if (in.present(p + "/trust", subject, true)) {
      List<String> names = in.names(p + "/trust", subject, "public key files");
      if (names != null) {
        if (names.isEmpty()) {
          in.error(p + "/trust", subject, "name at least one signer's public key file");
        }
        for (int i = 0; i < names.size(); i++) {
          Path key = path(p + "/trust/" + i, subject, names.get(i));
          if (key != null) {
            trust.add(key);
          }
        }
      }
    }
    int minSigners = 1;
    if (in.present(p + "/min_signers", subject, false)) {
      OptionalLong n = in.positiveLong(p + "/min_signers", subject, "a number of signers");
      if (n.isPresent()) {
        if (n.getAsLong() > trust.size() && !trust.isEmpty()) {
          in.error(p + "/min_signers", subject, "min_signers is " + n.getAsLong() + " but only "
              + trust.size() + " trusted keys are named: no bundle could ever apply");
        }
        minSigners = (int) Math.min(Integer.MAX_VALUE, n.getAsLong());
      }
    }
    Path state = baseDir.resolve(BundleSettings.DEFAULT_STATE);
    if (in.present(p + "/state", subject, false)) {
      state = path(p + "/state", subject, in.string(p + "/state", subject, "the state file's path"));
    }
    if (file == null || trust.isEmpty() || state == null || in.hasErrors()) {
      return null;
    }
    return new BundleSettings(file, trust, minSigners, state);
  }

  private Path path(String pointer, String subject, String written) {
    if (written == null) {
      return null;
    }
    if (written.isBlank() || written.contains("${")) {
      in.error(pointer, subject, "give a literal path: the trust and the bundle are what the"
          + " gateway checks everything else against");
      return null;
    }
    try {
      return baseDir.resolve(written.strip()).normalize();
    } catch (InvalidPathException e) {
      in.error(pointer, subject, "'" + written + "' is not a valid path");
      return null;
    }
  }

  private ConfigException refused(String pointer, String message, Exception cause) {
    return new ConfigException(List.of(document.problem(pointer, "bundle", message)), cause);
  }
}
