package dev.sentinel.core.bundle;

import dev.sentinel.core.internal.Ed25519Keys;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The public keys whose signatures a gateway accepts on a bundle, and how many distinct ones a
 * bundle needs ({@code min_signers}). Immutable.
 */
public final class TrustedKeys {
  private final Map<String, PublicKey> keys;
  private final int minSigners;

  private TrustedKeys(Map<String, PublicKey> keys, int minSigners) {
    this.keys = keys;
    this.minSigners = minSigners;
  }

  /**
   * Trust roots.
   *
   * @param minSigners how many distinct trusted keys must have signed; at least 1 and at most the
   *     number of keys
   * @throws IllegalArgumentException if there are no keys, or the threshold cannot be met
   */
  public static TrustedKeys of(List<PublicKey> keys, int minSigners) {
    Map<String, PublicKey> byId = new LinkedHashMap<>();
    for (PublicKey key : keys) {
      byId.put(Ed25519Keys.id(Objects.requireNonNull(key, "key")), key);
    }
    if (byId.isEmpty()) {
      throw new IllegalArgumentException("at least one trusted key is required");
    }
    if (minSigners < 1 || minSigners > byId.size()) {
      throw new IllegalArgumentException("min_signers must be between 1 and the number of distinct"
          + " trusted keys (" + byId.size() + "), got " + minSigners);
    }
    return new TrustedKeys(Collections.unmodifiableMap(byId), minSigners);
  }

  /**
   * Trust roots read from PEM public key files.
   *
   * @throws BundleException naming a file that holds no Ed25519 public key
   * @throws IllegalArgumentException as {@link #of}
   */
  public static TrustedKeys read(List<Path> files, int minSigners) {
    List<PublicKey> keys = new ArrayList<>();
    for (Path file : files) {
      try {
        keys.add(Ed25519Keys.readPublic(file, "bundle signer's public key",
            "sentinel bundle keygen --out " + stem(file)));
      } catch (Ed25519Keys.KeyFileException e) {
        throw new BundleException(String.valueOf(e.getMessage()), e);
      }
    }
    return of(keys, minSigners);
  }

  /** The key of that id, or {@code null} if it is not trusted. */
  @Nullable PublicKey key(String id) {
    return keys.get(id);
  }

  /** The ids of the trusted keys, in the order given. */
  public List<String> ids() {
    return List.copyOf(keys.keySet());
  }

  /** How many distinct trusted keys must have signed. */
  public int minSigners() {
    return minSigners;
  }

  private static String stem(Path file) {
    String name = String.valueOf(file.getFileName());
    return name.endsWith(".pub") ? name.substring(0, name.length() - 4) : name;
  }
}
