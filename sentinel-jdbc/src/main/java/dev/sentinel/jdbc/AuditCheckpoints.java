package dev.sentinel.jdbc;

import dev.sentinel.api.Clock;
import dev.sentinel.core.internal.Ed25519Keys;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signed checkpoints of an audit chain ({@link AuditCheckpoint}): taking one, keeping them in an
 * append-only file, reading them back, and the Ed25519 key files that sign and check them. The
 * operator logic that the gateway (through {@link JdbcAuditSink.Builder#checkpoints}), the CLI
 * ({@code sentinel audit checkpoint}, {@code sentinel audit verify --checkpoints}) and any other
 * front end share.
 *
 * <p>Keys are PEM files as OpenSSL writes them: the private key PKCS#8 ({@code -----BEGIN PRIVATE
 * KEY-----}, from {@code openssl genpkey -algorithm ed25519 -out checkpoint.key}), the public key
 * X.509 SubjectPublicKeyInfo ({@code -----BEGIN PUBLIC KEY-----}, from {@code openssl pkey -in
 * checkpoint.key -pubout -out checkpoint.pub}).
 *
 * <p>A checkpoint file holds one {@link AuditCheckpoint#toJson()} line per checkpoint, oldest
 * first. {@link #append} only ever adds to its end and forces it to the device. Keep it where the
 * database's writers cannot reach (another volume or machine, a log shipper, a write-once store):
 * a checkpoint someone can delete together with the records it covers proves nothing about them.
 * Every checkpoint taken is also logged, at INFO, as its JSON line, to the logger {@value
 * #LOGGER}, for anchoring outside the machine.
 *
 * <p>Thread-safe; holds no state.
 */
public final class AuditCheckpoints {
  /** The logger every checkpoint taken is logged to, at INFO, as its JSON line. */
  public static final String LOGGER = "dev.sentinel.audit.checkpoint";

  private static final Logger LOG = LoggerFactory.getLogger(LOGGER);
  /** Appends from this process, one at a time, so that two sinks never interleave a line. */
  private static final Object APPEND_LOCK = new Object();

  private AuditCheckpoints() {}

  /**
   * Takes a checkpoint of the database's chain as it is now: its head, signed with the key and
   * stamped with the clock's time. It is neither written nor logged: see {@link #append}.
   *
   * @throws DatabaseException if the database cannot be read
   */
  public static AuditCheckpoint take(Database database, PrivateKey key, Clock clock) {
    Objects.requireNonNull(clock, "clock");
    return AuditCheckpoint.sign(AuditVerifier.head(database), clock.instant(), key);
  }

  /**
   * Appends the checkpoint as one line to the file (creating it and its folders), forces it to
   * the device, and logs it to {@value #LOGGER}. A file whose last line was cut short (a crash
   * mid-append) gets a line feed first, so the new line stays whole.
   *
   * @throws AuditCheckpointException if the file cannot be written; the message names it
   */
  public static void append(Path file, AuditCheckpoint checkpoint) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(checkpoint, "checkpoint");
    String line = checkpoint.toJson() + "\n";
    synchronized (APPEND_LOCK) {
      try {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            FileLock lock = out.lock()) { // gateways in other processes may share the file
          if (!endsWithLineFeed(file)) {
            line = "\n" + line;
          }
          ByteBuffer bytes = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
          while (bytes.hasRemaining()) {
            out.write(bytes);
          }
          out.force(true);
        }
      } catch (IOException e) {
        throw new AuditCheckpointException(
            "Cannot append an audit checkpoint to " + file.toAbsolutePath() + ": " + e
                + ". Check that the folder exists and this process may write the file.", e);
      }
    }
    LOG.info("{}", checkpoint.toJson());
  }

  /** Whether the file is empty or ends with a line feed (its last line is whole). */
  private static boolean endsWithLineFeed(Path file) throws IOException {
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = in.size();
      if (size == 0) {
        return true;
      }
      ByteBuffer last = ByteBuffer.allocate(1);
      in.read(last, size - 1);
      return last.get(0) == '\n';
    }
  }

  /**
   * Reads every checkpoint in a checkpoint file, in file order; blank lines are skipped. The
   * signatures are not checked here: {@link AuditAnchors#checkpoints} does that.
   *
   * @throws AuditCheckpointException if the file cannot be read, or naming the file and line, if
   *     a line is not a checkpoint
   */
  public static List<AuditCheckpoint> read(Path file) {
    Objects.requireNonNull(file, "file");
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new AuditCheckpointException("Cannot read audit checkpoints from "
          + file.toAbsolutePath() + ": the file does not exist.", e);
    } catch (IOException e) {
      throw new AuditCheckpointException(
          "Cannot read audit checkpoints from " + file.toAbsolutePath() + ": " + e, e);
    }
    List<AuditCheckpoint> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.isBlank()) {
        continue;
      }
      try {
        out.add(AuditCheckpoint.parse(line));
      } catch (IllegalArgumentException e) {
        throw new AuditCheckpointException(
            file + ":" + (i + 1) + ": not an audit checkpoint: " + e.getMessage(), e);
      }
    }
    return out;
  }

  /**
   * Reads an Ed25519 private key from a PEM file ({@code -----BEGIN PRIVATE KEY-----}, PKCS#8).
   *
   * @throws AuditCheckpointException naming the file, if it cannot be read or holds no such key
   */
  public static PrivateKey readPrivateKey(Path file) {
    try {
      return Ed25519Keys.readPrivate(file, "audit checkpoint private key",
          "openssl genpkey -algorithm ed25519 -out " + file.getFileName());
    } catch (Ed25519Keys.KeyFileException e) {
      throw new AuditCheckpointException(
          Objects.requireNonNullElse(e.getMessage(), e.toString()), e);
    }
  }

  /**
   * Reads an Ed25519 public key from a PEM file ({@code -----BEGIN PUBLIC KEY-----}).
   *
   * @throws AuditCheckpointException naming the file, if it cannot be read or holds no such key
   */
  public static PublicKey readPublicKey(Path file) {
    try {
      return Ed25519Keys.readPublic(file, "audit checkpoint public key",
          "openssl pkey -in checkpoint.key -pubout -out " + file.getFileName());
    } catch (Ed25519Keys.KeyFileException e) {
      throw new AuditCheckpointException(
          Objects.requireNonNullElse(e.getMessage(), e.toString()), e);
    }
  }
}
