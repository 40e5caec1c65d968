package dev.sentinel.core.bundle;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A gateway's {@code bundle:} section: it runs the config of a signed bundle file, applying only
 * a bundle that its trust roots signed, never one older than it ran before.
 *
 * <pre>{@code
 * bundle:
 *   file: /etc/sentinel/prod.bundle
 *   trust: [keys/alice.pub, keys/bob.pub]
 *   min_signers: 2
 *   state: /var/lib/sentinel/bundle-state.json
 * }</pre>
 *
 * @param file the bundle file, watched like a config file
 * @param trust the PEM files of the trusted signers' Ed25519 public keys
 * @param minSigners how many distinct trusted keys must have signed
 * @param state the file that keeps the sequence and digest of the bundle last applied, so that a
 *     restart cannot roll back either; it must be writable by the gateway
 */
public record BundleSettings(Path file, List<Path> trust, int minSigners, Path state) {

  /** The state file's name in the config's directory when {@code state} is not given. */
  public static final String DEFAULT_STATE = "bundle-state.json";

  /** Validates and copies. */
  public BundleSettings {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(state, "state");
    trust = List.copyOf(trust);
    if (trust.isEmpty()) {
      throw new IllegalArgumentException("at least one trusted key is required");
    }
  }
}
