package dev.sentinel.core.bundle;

import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.YamlDocument;
import dev.sentinel.core.internal.Ed25519Keys;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A signed config bundle: a gateway's config file and the files it references (its policy), in
 * one content-addressed, signed file.
 *
 * <p>The bundle's identity is its {@link #digest()}: {@code sha256:} of the canonical JSON of its
 * manifest, which names the format, the sequence number, the config's entry and, for every file,
 * the SHA-256 and size of its bytes. The same files and sequence always give the same digest and
 * the same bundle bytes. A signature is Ed25519 over the digest (with a domain prefix, so that no
 * other signed message of the same key can pass for a bundle's); signatures are kept beside the
 * manifest, so adding one changes no digest.
 *
 * <p>Reading is strict and checks everything that needs no key: the format, no unknown or
 * duplicate members, entry names that stay inside the bundle, every file's bytes against the
 * manifest, no file missing or extra, the digest. {@link #verify} then checks signatures against
 * trust roots, the signer threshold and the sequence (no rollback unless forced). A bundle that
 * fails any of it is refused with the reason, and a gateway keeps serving what it runs.
 *
 * <p>Secrets are never in a bundle: a config refers to them ({@code ${env:...}}, {@code
 * ${file:...}}) and each gateway resolves them where it runs; what a gateway writes (databases,
 * audit files) is not content either. Immutable and thread-safe.
 */
public final class Bundle {
  /** The format this class reads and writes. */
  public static final String FORMAT = "sentinel-bundle/1";
  /** The largest bundle file read, in bytes. */
  public static final int MAX_BYTES = 16 * 1024 * 1024;
  /** The most files a bundle holds. */
  public static final int MAX_FILES = 256;

  private static final String SIGNED_PREFIX = "sentinel-bundle-signature/1\n";
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
  private static final Set<String> ROOT_KEYS = Set.of("manifest", "digest", "files", "signatures");
  private static final Set<String> MANIFEST_KEYS = Set.of("format", "sequence", "config", "files");
  private static final Set<String> ENTRY_KEYS = Set.of("sha256", "size");
  private static final Set<String> SIGNATURE_KEYS = Set.of("key", "signature");
  private static final JsonMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();
  private static final HexFormat HEX = HexFormat.of();

  private final long sequence;
  private final String config;
  private final Map<String, byte[]> files;
  private final Map<String, byte[]> signatures;
  private final String digest;

  private Bundle(long sequence, String config, Map<String, byte[]> files, Map<String, byte[]> signatures) {
    this.sequence = sequence;
    this.config = config;
    this.files = files;
    this.signatures = signatures;
    this.digest = CanonicalJson.sha256(CanonicalJson.bytes(manifest()));
  }

  /** One file of the bundle, as its manifest lists it. */
  public record Entry(String name, String sha256, long size) {}

  /**
   * What {@link #verify} established.
   *
   * @param digest the bundle's digest
   * @param sequence its sequence number
   * @param signers the trusted keys whose signatures verified
   * @param untrusted the keys of other signatures, which count for nothing
   * @param rollback whether it is older than the running one and was accepted because forced
   */
  public record Verified(
      String digest, long sequence, List<String> signers, List<String> untrusted, boolean rollback) {}

  /**
   * A bundle of the given files.
   *
   * @param config the entry name of the config file; one of {@code files}
   * @param files entry names ({@code policy.yaml}, {@code policies/team.yaml}) and their bytes
   * @param sequence the bundle's sequence number: a gateway applies only a bundle whose number is
   *     above the one it runs
   * @throws BundleException for an invalid name, a missing config or too many files
   */
  public static Bundle of(String config, Map<String, byte[]> files, long sequence) {
    Objects.requireNonNull(config, "config");
    if (sequence < 0) {
      throw new BundleException("the sequence number must not be negative, got " + sequence);
    }
    if (files.size() > MAX_FILES) {
      throw new BundleException("a bundle holds at most " + MAX_FILES + " files, got " + files.size());
    }
    Map<String, byte[]> copy = new TreeMap<>();
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      copy.put(checkName(file.getKey()), file.getValue().clone());
    }
    if (!copy.containsKey(config)) {
      throw new BundleException("the config entry '" + config + "' is not one of the bundle's files");
    }
    return new Bundle(sequence, config, Collections.unmodifiableMap(copy), Collections.emptyMap());
  }

  /**
   * Bundles a gateway config file with the policy file it names ({@code policy: policy.yaml} or
   * {@code policy: { file: ... }}; an inline policy needs no other file). Referenced files must
   * lie in the config's directory or below it, and be named literally (no {@code ${...}}), so
   * that the bundle holds what every gateway will read.
   *
   * @throws BundleException naming the file or reference that cannot be bundled
   */
  public static Bundle build(Path configFile, long sequence) {
    Objects.requireNonNull(configFile, "configFile");
    // A file's absolute path always has a parent directory.
    Path base = Objects.requireNonNull(configFile.toAbsolutePath().normalize().getParent(), "directory");
    String configName = checkName(String.valueOf(configFile.getFileName()));
    byte[] configBytes = readFile(configFile, "config file");
    Map<String, byte[]> files = new TreeMap<>();
    files.put(configName, configBytes);
    String policy = policyReference(configFile, configBytes);
    if (policy != null) {
      Path policyFile;
      try {
        policyFile = base.resolve(policy).normalize();
      } catch (InvalidPathException e) {
        throw new BundleException("the policy file '" + policy + "' is not a valid path", e);
      }
      if (!policyFile.startsWith(base)) {
        throw new BundleException("the policy file " + policyFile + " is outside the config's"
            + " directory " + base + ": a bundle holds files at or below the config; move the"
            + " policy there and name it relatively");
      }
      String name = base.relativize(policyFile).toString().replace('\\', '/');
      files.put(checkName(name), readFile(policyFile, "policy file"));
    }
    return of(configName, files, sequence);
  }

  /**
   * Reads and checks a bundle file (everything but signatures: see {@link #verify}).
   *
   * @throws BundleException saying what is wrong: not a bundle, too large, an unknown format, a
   *     file that does not match its digest, a digest that does not match the manifest
   */
  public static Bundle read(Path file) {
    Objects.requireNonNull(file, "file");
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      // A pipe or a device would block the reload thread, or never end.
      throw new BundleException("the bundle file " + file + " is not a regular file");
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (NoSuchFileException e) {
      throw new BundleException("the bundle file " + file + " does not exist", e);
    } catch (IOException e) {
      throw new BundleException("cannot read the bundle file " + file + ": " + e.getMessage(), e);
    }
    if (bytes.length > MAX_BYTES) {
      throw new BundleException("the bundle file " + file + " is larger than " + MAX_BYTES
          + " bytes: it is not a bundle this gateway reads");
    }
    try {
      return parse(bytes);
    } catch (BundleException e) {
      throw new BundleException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses and checks a bundle's bytes, as {@link #read}.
   *
   * @throws BundleException saying what is wrong
   */
  public static Bundle parse(byte[] bytes) {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (JacksonException e) {
      throw new BundleException("not a bundle: not valid JSON (" + e.getOriginalMessage() + ")", e);
    }
    if (root == null || !root.isObject()) {
      throw new BundleException("not a bundle: expected a JSON object");
    }
    JsonNode manifest = root.get("manifest");
    if (manifest == null || !manifest.isObject()) {
      throw new BundleException("not a bundle: it has no manifest");
    }
    String format = manifest.path("format").isString() ? manifest.get("format").stringValue() : null;
    if (!FORMAT.equals(format)) {
      throw new BundleException("unknown bundle format " + (format == null ? "(none)" : "'" + format + "'")
          + ": this gateway reads " + FORMAT + "; a newer Sentinel may have built it");
    }
    checkKeys(root, ROOT_KEYS, "the bundle");
    checkKeys(manifest, MANIFEST_KEYS, "the manifest");
    JsonNode sequenceNode = manifest.get("sequence");
    if (sequenceNode == null || !sequenceNode.isIntegralNumber() || !sequenceNode.canConvertToLong()
        || sequenceNode.longValue() < 0) {
      throw new BundleException("the manifest's sequence must be a non-negative integer");
    }
    String config = text(manifest, "config", "the manifest");
    JsonNode listed = object(manifest, "files", "the manifest");
    JsonNode contents = object(root, "files", "the bundle");
    if (listed.size() > MAX_FILES) {
      throw new BundleException("the manifest lists " + listed.size() + " files; at most " + MAX_FILES);
    }
    Map<String, byte[]> files = new TreeMap<>();
    for (Map.Entry<String, JsonNode> entry : listed.properties()) {
      String name = checkName(entry.getKey());
      JsonNode meta = entry.getValue();
      if (!meta.isObject()) {
        throw new BundleException("the manifest's entry for '" + name + "' must be an object");
      }
      checkKeys(meta, ENTRY_KEYS, "the manifest's entry for '" + name + "'");
      String sha256 = text(meta, "sha256", "the manifest's entry for '" + name + "'");
      JsonNode size = meta.get("size");
      JsonNode content = contents.get(name);
      if (content == null || !content.isString()) {
        throw new BundleException("the file '" + name + "' is listed in the manifest but missing");
      }
      byte[] data;
      try {
        data = Base64.getDecoder().decode(content.stringValue());
      } catch (IllegalArgumentException e) {
        throw new BundleException("the file '" + name + "' is not valid base64", e);
      }
      if (size == null || !size.isIntegralNumber() || size.longValue() != data.length
          || !sha256.equals(sha256Hex(data))) {
        throw new BundleException("the file '" + name + "' does not match its digest in the"
            + " manifest: the bundle was changed after it was built");
      }
      files.put(name, data);
    }
    for (Iterator<String> names = contents.propertyNames().iterator(); names.hasNext(); ) {
      String name = names.next();
      if (!listed.has(name)) {
        throw new BundleException("the file '" + name + "' is not listed in the manifest");
      }
    }
    if (!files.containsKey(config)) {
      throw new BundleException("the manifest's config entry '" + config + "' is not one of its files");
    }
    Map<String, byte[]> signatures = new TreeMap<>();
    JsonNode signed = root.get("signatures");
    if (signed != null) {
      if (!signed.isArray()) {
        throw new BundleException("the bundle's signatures must be an array");
      }
      for (JsonNode signature : signed) {
        if (!signature.isObject()) {
          throw new BundleException("each signature must be an object with key and signature");
        }
        checkKeys(signature, SIGNATURE_KEYS, "a signature");
        String key = text(signature, "key", "a signature");
        byte[] value;
        try {
          value = Base64.getDecoder().decode(text(signature, "signature", "a signature"));
        } catch (IllegalArgumentException e) {
          throw new BundleException("the signature of " + key + " is not valid base64", e);
        }
        if (signatures.put(key, value) != null) {
          throw new BundleException("the bundle carries two signatures of " + key);
        }
      }
    }
    Bundle bundle = new Bundle(sequenceNode.longValue(), config,
        Collections.unmodifiableMap(files), Collections.unmodifiableMap(signatures));
    JsonNode digest = root.get("digest");
    if (digest == null || !digest.isString() || !digest.stringValue().equals(bundle.digest)) {
      throw new BundleException("the bundle's digest does not match its manifest: the manifest"
          + " was changed after the bundle was built");
    }
    return bundle;
  }

  /** The bundle's bytes: deterministic JSON, members in a fixed order. */
  public byte[] toBytes() {
    ObjectNode root = JSON.createObjectNode();
    root.put("digest", digest);
    root.set("manifest", manifest());
    ObjectNode contents = root.putObject("files");
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      contents.put(file.getKey(), Base64.getEncoder().encodeToString(file.getValue()));
    }
    ArrayNode signed = root.putArray("signatures");
    for (Map.Entry<String, byte[]> signature : signatures.entrySet()) {
      signed.addObject()
          .put("key", signature.getKey())
          .put("signature", Base64.getEncoder().encodeToString(signature.getValue()));
    }
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
  }

  /**
   * Writes the bundle to a file, replacing it whole (a temporary file moved into place), so that
   * a reader never sees half a bundle.
   *
   * @throws BundleException if it cannot be written
   */
  public void write(Path file) {
    Objects.requireNonNull(file, "file");
    writeWhole(file, toBytes(), "bundle file");
  }

  /**
   * Writes bytes to a file, replacing it whole: a temporary file beside it, forced to the disk,
   * then moved into place, so that a reader (or a crash) never sees half of it.
   *
   * @throws BundleException naming {@code what} if it cannot be written
   */
  static void writeWhole(Path file, byte[] bytes, String what) {
    Path target = file.toAbsolutePath();
    Path temp = null;
    try {
      temp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap(bytes));
        channel.force(true);
      }
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new BundleException("cannot write the " + what + " " + file + ": " + e.getMessage(), e);
    } finally {
      if (temp != null) {
        try {
          Files.deleteIfExists(temp);
        } catch (IOException ignored) {
          // the move took it, or the error above is the one to report
        }
      }
    }
  }

  /**
   * This bundle with one more signature, by the given private key; a signature of the same key is
   * replaced.
   */
  public Bundle sign(PrivateKey key, PublicKey publicKey) {
    Objects.requireNonNull(key, "key");
    String id = Ed25519Keys.id(Objects.requireNonNull(publicKey, "publicKey"));
    byte[] value;
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(key);
      signer.update(signedBytes());
      value = signer.sign();
      // a key pair that does not belong together would sign what no one can verify
      Signature check = Signature.getInstance("Ed25519");
      check.initVerify(publicKey);
      check.update(signedBytes());
      if (!check.verify(value)) {
        throw new BundleException("the private key does not belong to the public key " + id);
      }
    } catch (GeneralSecurityException e) {
      throw new BundleException("cannot sign with this key: " + e.getMessage(), e);
    }
    Map<String, byte[]> more = new TreeMap<>(signatures);
    more.put(id, value);
    return new Bundle(sequence, config, files, Collections.unmodifiableMap(more));
  }

  /**
   * Checks the signatures against the trust roots and the bundle's sequence against the one that
   * runs.
   *
   * @param running the sequence number of the bundle the gateway runs; {@code -1} for none
   * @param allowRollback whether a bundle whose sequence is not above {@code running} may be
   *     applied (an operator's explicit, audited choice)
   * @throws BundleException saying why the bundle is not trusted
   */
  public Verified verify(TrustedKeys trust, long running, boolean allowRollback) {
    Objects.requireNonNull(trust, "trust");
    List<String> signers = new ArrayList<>();
    List<String> untrusted = new ArrayList<>();
    for (Map.Entry<String, byte[]> signature : signatures.entrySet()) {
      PublicKey key = trust.key(signature.getKey());
      if (key == null) {
        untrusted.add(signature.getKey());
        continue;
      }
      if (!verifies(key, signature.getValue())) {
        throw new BundleException("the signature of " + signature.getKey() + " does not verify:"
            + " the bundle was changed after it was signed, or the signature is another bundle's");
      }
      signers.add(signature.getKey());
    }
    if (signers.size() < trust.minSigners()) {
      throw new BundleException("signed by " + signers.size() + " of the " + trust.minSigners()
          + " trusted keys it needs (trusted: " + String.join(", ", trust.ids())
          + (untrusted.isEmpty() ? "" : "; also signed by untrusted " + String.join(", ", untrusted))
          + ")");
    }
    boolean rollback = sequence <= running;
    if (rollback && !allowRollback) {
      throw new BundleException("sequence " + sequence + " is not above the running " + running
          + ": applying it would roll back; an operator can force it");
    }
    return new Verified(digest, sequence, List.copyOf(signers), List.copyOf(untrusted), rollback);
  }

  /**
   * Writes the bundle's files under a directory, as the config expects to find them, and returns
   * the config file's path there: a gateway loads its config from it.
   *
   * @throws BundleException if a file cannot be written
   */
  public Path extractTo(Path directory) {
    Objects.requireNonNull(directory, "directory");
    Path base = directory.toAbsolutePath().normalize();
    try {
      for (Map.Entry<String, byte[]> file : files.entrySet()) {
        Path target = base.resolve(file.getKey()).normalize();
        if (!target.startsWith(base)) { // names are checked on the way in; this is the backstop
          throw new BundleException("the entry '" + file.getKey() + "' leaves the directory");
        }
        Files.createDirectories(target.getParent());
        Files.write(target, file.getValue());
      }
    } catch (IOException e) {
      throw new BundleException("cannot write the bundle's files under " + base + ": " + e.getMessage(), e);
    }
    return base.resolve(config);
  }

  /** {@code sha256:} and the hex SHA-256 of the canonical manifest: the bundle's identity. */
  public String digest() {
    return digest;
  }

  /** The sequence number. */
  public long sequence() {
    return sequence;
  }

  /** The entry name of the config file. */
  public String config() {
    return config;
  }

  /** The files as the manifest lists them, by name. */
  public List<Entry> entries() {
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      entries.add(new Entry(file.getKey(), sha256Hex(file.getValue()), file.getValue().length));
    }
    return entries;
  }

  /** The bytes of one file, or {@code null} if the bundle has no such entry. */
  public byte @Nullable [] file(String name) {
    byte[] bytes = files.get(name);
    return bytes == null ? null : bytes.clone();
  }

  /** The key ids of the signatures the bundle carries, trusted or not, verified or not. */
  public List<String> signatureKeys() {
    return List.copyOf(signatures.keySet());
  }

  @Override
  public String toString() {
    return "Bundle[" + digest + ", sequence " + sequence + ", " + files.size() + " files, "
        + signatures.size() + " signatures]";
  }

  private ObjectNode manifest() {
    ObjectNode manifest = JSON.createObjectNode();
    manifest.put("format", FORMAT);
    manifest.put("sequence", sequence);
    manifest.put("config", config);
    ObjectNode listed = manifest.putObject("files");
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      listed.putObject(file.getKey())
          .put("sha256", sha256Hex(file.getValue()))
          .put("size", file.getValue().length);
    }
    return manifest;
  }

  private byte[] signedBytes() {
    return (SIGNED_PREFIX + digest).getBytes(StandardCharsets.UTF_8);
  }

  private boolean verifies(PublicKey key, byte[] value) {
    try {
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(key);
      verifier.update(signedBytes());
      return verifier.verify(value);
    } catch (GeneralSecurityException e) {
      return false; // a malformed signature verifies nothing
    }
  }

  /** The policy file a config names, or {@code null} for an inline policy or none. */
  private static @Nullable String policyReference(Path configFile, byte[] bytes) {
    YamlDocument document;
    try {
      document = YamlDocument.parse(decode(bytes, configFile), configFile.toString());
    } catch (ConfigException e) {
      throw new BundleException("the config file " + configFile + " is not valid YAML: "
          + e.getMessage(), e);
    }
    JsonNode policy = document.root() == null ? null : document.root().get("policy");
    String reference = null;
    if (policy != null && policy.isString()) {
      reference = policy.stringValue();
    } else if (policy != null && policy.isObject() && policy.has("file")) {
      reference = policy.get("file").isString() ? policy.get("file").stringValue() : null;
      if (reference == null) {
        throw new BundleException("the config's policy.file must be a file name");
      }
    }
    if (reference != null && reference.contains("${")) {
      throw new BundleException("the policy file '" + reference + "' is named through a"
          + " variable; a bundle needs the literal file name, so that every gateway reads the same");
    }
    return reference == null ? null : reference.strip();
  }

  private static String decode(byte[] bytes, Path file) {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new BundleException("the config file " + file + " is not valid UTF-8", e);
    }
  }

  private static byte[] readFile(Path file, String what) {
    try {
      if (Files.size(file) > MAX_BYTES) {
        throw new BundleException("the " + what + " " + file + " is larger than " + MAX_BYTES + " bytes");
      }
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new BundleException("the " + what + " " + file + " does not exist", e);
    } catch (IOException e) {
      throw new BundleException("cannot read the " + what + " " + file + ": " + e.getMessage(), e);
    }
  }

  /** Checks an entry name: relative, '/'-separated segments, none of them '.' or '..'. */
  private static String checkName(String name) {
    if (name == null || name.isEmpty() || name.length() > 255) {
      throw new BundleException("invalid entry name '" + name + "'");
    }
    for (String segment : name.split("/", -1)) {
      if (!SEGMENT.matcher(segment).matches()) {
        throw new BundleException("invalid entry name '" + name + "': each part of a name is"
            + " letters, digits, '.', '_' or '-', not starting with '.' or '-' (no absolute paths, no ..)");
      }
    }
    return name;
  }

  private static void checkKeys(JsonNode node, Set<String> allowed, String what) {
    for (String name : node.propertyNames()) {
      if (!allowed.contains(name)) {
        throw new BundleException(what + " has an unknown member '" + name + "'");
      }
    }
  }

  private static String text(JsonNode node, String name, String what) {
    JsonNode value = node.get(name);
    if (value == null || !value.isString() || value.stringValue().isEmpty()) {
      throw new BundleException(what + " needs '" + name + "' as a string");
    }
    return value.stringValue();
  }

  private static JsonNode object(JsonNode node, String name, String what) {
    JsonNode value = node.get(name);
    if (value == null || !value.isObject()) {
      throw new BundleException(what + " needs '" + name + "' as an object");
    }
    return value;
  }

  private static String sha256Hex(byte[] bytes) {
    try {
      return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
