package dev.sentinel.core.config;

import dev.sentinel.core.bundle.Bundle;
import dev.sentinel.core.bundle.BundleException;
import dev.sentinel.core.bundle.BundleSettings;
import dev.sentinel.core.bundle.BundleSource;
import dev.sentinel.core.bundle.BundleSources;
import dev.sentinel.core.bundle.BundleState;
import dev.sentinel.core.bundle.PublishedBundle;
import dev.sentinel.core.bundle.Rollout;
import dev.sentinel.core.bundle.RunningBundle;
import dev.sentinel.core.bundle.Selected;
import dev.sentinel.core.bundle.TrustedKeys;
import dev.sentinel.core.config.ConfigException.Problem;
import dev.sentinel.core.policy.PolicyOptions;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Loads the config of a gateway that runs a signed bundle: a config file that holds only a
 * {@code bundle:} section (and, for {@code source: database}, the {@code database:} it reads).
 * The bundle is read from its {@link BundleSource} (the file, or the channel's head in the
 * database), its signatures checked against the trust roots and the threshold, its sequence
 * against the state file's (no rollback unless forced); only then is the config inside it
 * parsed, with its policy read from the bundle, never from the disk. Both sources take this one
 * path. Relative paths in the bundled config (a database, an audit file) resolve against the
 * directory of the config that names the bundle, where the gateway runs.
 *
 * <p>Every refusal is a {@link ConfigException} located at the {@code bundle:} key it concerns:
 * a start fails with it, and a reload refuses it like any bad config while the running one keeps
 * serving.
 */
final class BundleConfigLoader {
  static final List<String> BUNDLE_KEYS =
      List.of("source", "file", "channel", "trust", "min_signers", "state", "poll_interval");
  static final List<String> SOURCES = List.of("file", "database");

  private final YamlDocument document;
  private final ConfigReader in;
  private final Path baseDir;
  private final Map<String, String> environment;
  private final BundleSources sources;

  private BundleConfigLoader(YamlDocument document, Path baseDir, Map<String, String> environment,
      BundleSources sources) {
    this.document = document;
    this.in = new ConfigReader(document);
    this.baseDir = baseDir;
    this.environment = environment;
    this.sources = sources;
  }

  /** Whether a config document names a bundle instead of being a config itself. */
  static boolean namesBundle(YamlDocument document) {
    JsonNode root = document.root();
    return root != null && root.isObject() && root.has("bundle");
  }

  static GatewayConfig load(YamlDocument document, Path baseDir, Map<String, String> environment,
      PolicyOptions policyOptions, boolean allowRollback, BundleSources sources) {
    Verified verified =
        new BundleConfigLoader(document, baseDir, environment, sources).verify(allowRollback);
    return ConfigLoader.fromBundle(verified.config(), environment, baseDir, policyOptions,
        verified.bundle(), verified.running());
  }

  /**
   * The database of a gateway that runs a bundle, for the commands that work on it. For a file
   * source, the {@code database:} section of the bundle's config: the bundle is verified, but one
   * older than the state file's is read too (reading where the database is applies nothing). For
   * a database source, the {@code database:} beside {@code bundle:}: the fleet's database, where
   * its bundles are published (the bundled config should name the same one).
   */
  static DatabaseSettings database(YamlDocument document, Path baseDir,
      Map<String, String> environment) {
    if (document.root().path("bundle").path("source").asString("file").equals("database")) {
      return ConfigLoader.databaseOf(document, environment, baseDir);
    }
    Verified verified = new BundleConfigLoader(document, baseDir, environment,
        BundleSources.files()).verify(true);
    return ConfigLoader.databaseOf(verified.config(), environment, baseDir);
  }

  /** A verified bundle, what was found verifying it, and its config document. */
  private record Verified(Bundle bundle, RunningBundle running, YamlDocument config) {}

  private Verified verify(boolean allowRollback) {
    boolean fromDatabase = document.root().path("bundle").path("source").asString("file")
        .equals("database");
    for (String key : document.root().propertyNames()) {
      if (!key.equals("bundle") && !(fromDatabase && key.equals("database"))) {
        in.error("/" + key, null, "a config that runs a bundle holds only 'bundle:' (and, for"
            + " source: database, 'database:'); every other section comes from the signed bundle,"
            + " so that what runs is what was signed");
      }
    }
    DatabaseSettings database = null;
    List<Problem> databaseProblems = new ArrayList<>();
    if (fromDatabase) {
      try {
        database = ConfigLoader.databaseOf(document, environment, baseDir);
      } catch (ConfigException e) {
        databaseProblems.addAll(e.problems());
      }
    }
    BundleSettings settings = settings(database);
    if (!databaseProblems.isEmpty()) {
      List<Problem> all = new ArrayList<>(in.problems());
      all.addAll(databaseProblems);
      throw new ConfigException(all);
    }
    in.throwIfErrors();
    if (settings == null) {
      throw new IllegalStateException("the bundle section was refused without a problem recorded");
    }
    String at = settings.source() == BundleSettings.Source.FILE ? "/bundle/file" : "/bundle/channel";
    TrustedKeys trust;
    try {
      trust = TrustedKeys.read(settings.trust(), settings.minSigners());
    } catch (BundleException e) {
      throw refused("/bundle/trust", messageOf(e), e);
    } catch (IllegalArgumentException e) {
      throw refused("/bundle/min_signers", messageOf(e), e);
    }
    Optional<BundleState> state;
    try {
      state = BundleState.read(settings.state());
    } catch (BundleException e) {
      throw refused("/bundle/state", messageOf(e), e);
    }
    Selected selected;
    try {
      selected = sources.open(settings).select(state);
    } catch (BundleException e) {
      throw refused(at, messageOf(e), e);
    }
    Bundle bundle = selected.bundle();
    BundleState.Canary mark = state.map(BundleState::canary).orElse(null);
    // An abort authorises one rollback only: a canary of that rollout back to the very bundle its
    // own state file says it ran before. Nothing in the database can name another target.
    boolean abortRollback = selected.abortedRollout().isPresent() && mark != null
        && bundle.digest().equals(mark.previousDigest());
    Bundle.Verified verified;
    try {
      verified = bundle.verify(trust, state.map(s -> s.floorFor(bundle.digest())).orElse(-1L),
          allowRollback || abortRollback);
    } catch (BundleException e) {
      String from = settings.source() == BundleSettings.Source.FILE ? ""
          : " from " + settings.location();
      String as = selected.canaryOf().map(r -> " as a canary of " + r.describe()).orElse("");
      throw refused(at, "bundle " + bundle.digest() + " (sequence " + bundle.sequence()
          + ")" + from + as + " refused: " + e.getMessage(), e);
    }
    BundleState.Canary canary = selected.canaryOf().map(r -> mark != null && mark.rollout() == r.id()
        ? mark
        : state.map(s -> new BundleState.Canary(r.id(), s.digest(), s.sequence())).orElse(null))
        .orElse(null);
    String authority = null;
    if (verified.rollback() && !allowRollback && abortRollback) {
      Rollout aborted = selected.abortedRollout().get();
      authority = "the abort of " + aborted.describe() + " by " + aborted.endedBy()
          + (aborted.reason() == null ? "" : " (" + aborted.reason() + ")");
    }
    RunningBundle running = new RunningBundle(settings, trust.ids(), verified.digest(),
        verified.sequence(), verified.signers(), verified.rollback(), state, canary, authority);
    String source = settings.location() + "!" + bundle.config();
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

  private @Nullable BundleSettings settings(@Nullable DatabaseSettings database) {
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
    BundleSettings.Source source = BundleSettings.Source.FILE;
    if (in.present(p + "/source", subject, false)) {
      String written = in.string(p + "/source", subject, "file or database");
      if (written != null && !SOURCES.contains(written)) {
        in.error(p + "/source", subject, "expected file or database, got '" + written + "'");
      } else if ("database".equals(written)) {
        source = BundleSettings.Source.DATABASE;
      }
    }
    boolean fromFile = source == BundleSettings.Source.FILE;
    Path file = null;
    String channel = null;
    if (fromFile) {
      if (in.present(p + "/file", subject, true)) {
        file = path(p + "/file", subject, in.string(p + "/file", subject, "the bundle file's path"));
      }
      if (in.present(p + "/channel", subject, false)) {
        in.error(p + "/channel", subject, "a channel is read from the database: add source:"
            + " database (and a database: section), or remove channel");
      }
      if (in.present(p + "/poll_interval", subject, false)) {
        in.error(p + "/poll_interval", subject, "poll_interval is for source: database; a bundle"
            + " file is watched");
      }
    } else {
      if (in.present(p + "/file", subject, false)) {
        in.error(p + "/file", subject, "source: database reads the channel's head, not a file:"
            + " remove file, or use source: file");
      }
      if (in.present(p + "/channel", subject, true)) {
        channel = in.string(p + "/channel", subject, "a channel name");
        if (channel != null) {
          try {
            PublishedBundle.checkChannel(channel);
          } catch (BundleException e) {
            in.error(p + "/channel", subject, messageOf(e));
            channel = null;
          }
        }
      }
    }
    Duration pollInterval = BundleSettings.DEFAULT_POLL_INTERVAL;
    if (!fromFile && in.present(p + "/poll_interval", subject, false)) {
      String written = in.string(p + "/poll_interval", subject, "a duration such as 10s");
      if (written != null) {
        try {
          pollInterval = Units.parseDuration(written);
          if (pollInterval.isZero()) {
            in.error(p + "/poll_interval", subject, "poll_interval: must be longer than zero");
          }
        } catch (IllegalArgumentException e) {
          in.error(p + "/poll_interval", subject, "poll_interval: " + e.getMessage());
        }
      }
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
    if ((fromFile ? file == null : channel == null || database == null) || trust.isEmpty()
        || state == null || in.hasErrors()) {
      return null;
    }
    return new BundleSettings(source, file, channel, database, trust, minSigners, state,
        pollInterval);
  }

  private @Nullable Path path(String pointer, @Nullable String subject, @Nullable String written) {
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

  /** An exception's message; ours always carry one, the class name stands in otherwise. */
  private static String messageOf(Exception e) {
    String message = e.getMessage();
    return message != null ? message : e.getClass().getName();
  }

  private ConfigException refused(String pointer, String message, Exception cause) {
    return new ConfigException(List.of(document.problem(pointer, "bundle", message)), cause);
  }
}
