package dev.sentinel.core.bundle;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a gateway remembers of the bundle it applied last, in its state file: the sequence number
 * and digest. A gateway refuses a bundle whose sequence is below it (or equal with another
 * digest) across restarts as well as while running, unless an operator forces a rollback.
 *
 * <p>The file is as sensitive as the trust roots: whoever can write it can make the gateway
 * accept an older signed bundle (never an unsigned one). It is written whole ({@code fsync}, then
 * an atomic rename).
 *
 * @param sequence the sequence number of the bundle applied last
 * @param digest that bundle's digest
 * @param applied when it was applied
 * @param canary when it was applied as a canary of a rollout: that rollout and the bundle this
 *     gateway ran before, the one bundle an abort of that rollout lets it go back to; {@code
 *     null} otherwise
 */
public record BundleState(long sequence, String digest, Instant applied, @Nullable Canary canary) {
  /** The format of the state file. */
  public static final String FORMAT = "sentinel-bundle-state/1";

  private static final int MAX_BYTES = 4096;
  private static final Set<String> KEYS =
      Set.of("format", "sequence", "digest", "applied", "canary");
  private static final Set<String> CANARY_KEYS =
      Set.of("rollout", "previous_digest", "previous_sequence");
  private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
  private static final JsonMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  /** Validates. */
  public BundleState {
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(applied, "applied");
    if (sequence < 0) {
      throw new IllegalArgumentException("the sequence must not be negative, got " + sequence);
    }
  }

  /** A state of a bundle applied as the head (no canary mark). */
  public BundleState(long sequence, String digest, Instant applied) {
    this(sequence, digest, applied, null);
  }

  /**
   * The mark of a bundle applied as a canary.
   *
   * @param rollout the rollout's id
   * @param previousDigest the digest of the bundle the gateway ran before
   * @param previousSequence that bundle's sequence
   */
  public record Canary(long rollout, String previousDigest, long previousSequence) {
    /** Validates. */
    public Canary {
      Objects.requireNonNull(previousDigest, "previousDigest");
    }
  }

  /**
   * Reads a state file; empty when there is none (the gateway never applied a bundle there).
   *
   * @throws BundleException if the file exists but cannot be read or is not a state file: the
   *     gateway then refuses every bundle (fail closed) until an operator looks
   */
  public static Optional<BundleState> read(Path file) {
    Objects.requireNonNull(file, "file");
    byte[] bytes;
    try {
      if (Files.exists(file) && !Files.isRegularFile(file)) {
        throw corrupt(file, "it is not a regular file");
      }
      if (Files.size(file) > MAX_BYTES) {
        throw corrupt(file, "it is larger than " + MAX_BYTES + " bytes");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new BundleException("cannot read the bundle state file " + file + ": " + e.getMessage()
          + "; the gateway keeps the sequence of the bundle it applied last there", e);
    }
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (JacksonException e) {
      throw corrupt(file, "it is not JSON");
    }
    if (root == null || !root.isObject()) {
      throw corrupt(file, "it is not a JSON object");
    }
    for (String name : root.propertyNames()) {
      if (!KEYS.contains(name)) {
        throw corrupt(file, "unknown member '" + name + "'");
      }
    }
    if (!FORMAT.equals(text(root, "format"))) {
      throw corrupt(file, "its format is not " + FORMAT);
    }
    JsonNode sequence = root.path("sequence");
    String digest = text(root, "digest");
    if (!sequence.isIntegralNumber() || !sequence.canConvertToLong() || sequence.longValue() < 0) {
      throw corrupt(file, "'sequence' is not a non-negative integer");
    }
    if (digest == null || !DIGEST.matcher(digest).matches()) {
      throw corrupt(file, "'digest' is not a bundle digest (sha256: and 64 hex digits)");
    }
    Instant applied;
    try {
      applied = Instant.parse(Objects.requireNonNullElse(text(root, "applied"), ""));
    } catch (DateTimeParseException e) {
      throw corrupt(file, "'applied' is not an ISO-8601 instant");
    }
    Canary canary = null;
    JsonNode mark = root.get("canary");
    if (mark != null) {
      canary = canary(file, mark);
    }
    return Optional.of(new BundleState(sequence.longValue(), digest, applied, canary));
  }

  /**
   * Writes this state to the file, whole.
   *
   * @throws BundleException if it cannot be written
   */
  public void write(Path file) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("sequence", sequence);
    root.put("digest", digest);
    root.put("applied", applied.toString());
    if (canary != null) {
      root.putObject("canary")
          .put("rollout", canary.rollout())
          .put("previous_digest", canary.previousDigest())
          .put("previous_sequence", canary.previousSequence());
    }
    Bundle.writeWhole(file, (root.toPrettyString() + "\n").getBytes(StandardCharsets.UTF_8),
        "bundle state file");
  }

  /**
   * The sequence a bundle must be above to apply without a forced rollback: this state's, or
   * one less when the bundle is the one applied last (a restart or an unchanged reload).
   */
  public long floorFor(String bundleDigest) {
    return digest.equals(bundleDigest) ? sequence - 1 : sequence;
  }

  private static Canary canary(Path file, JsonNode mark) {
    if (!mark.isObject()) {
      throw corrupt(file, "'canary' is not an object");
    }
    for (String name : mark.propertyNames()) {
      if (!CANARY_KEYS.contains(name)) {
        throw corrupt(file, "unknown member 'canary." + name + "'");
      }
    }
    JsonNode rollout = mark.path("rollout");
    JsonNode sequence = mark.path("previous_sequence");
    String digest = text(mark, "previous_digest");
    if (!rollout.isIntegralNumber() || !rollout.canConvertToLong()
        || !sequence.isIntegralNumber() || !sequence.canConvertToLong()
        || sequence.longValue() < 0 || digest == null || !DIGEST.matcher(digest).matches()) {
      throw corrupt(file, "'canary' is not a rollout, a previous digest and sequence");
    }
    return new Canary(rollout.longValue(), digest, sequence.longValue());
  }

  private static @Nullable String text(JsonNode root, String name) {
    JsonNode node = root.get(name);
    return node != null && node.isString() ? node.stringValue() : null;
  }

  private static BundleException corrupt(Path file, String why) {
    return new BundleException("the bundle state file " + file + " is not one (" + why + "):"
        + " the gateway refuses every bundle until it is mended; if it was lost, an operator"
        + " restores it from a backup, or deletes it and starts with --allow-rollback once");
  }
}
