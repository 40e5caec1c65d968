package dev.sentinel.core.bundle;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a gateway's config came from when it runs a signed bundle: the bundle's settings, and
 * what verifying it found. A config loaded from a bundle carries one ({@code
 * GatewayConfig.bundle()}); the gateway {@link #commit}s it to the state file once it serves it.
 *
 * @param settings the {@code bundle:} section it was loaded under
 * @param trusted the ids of the trusted keys it was checked against, as read from the key files
 *     then (a change of a key file's content is a change of trust, which needs a restart)
 * @param digest the bundle's digest
 * @param sequence its sequence number
 * @param signers the trusted keys whose signatures verified
 * @param rollback whether it is not newer than the state file's and was accepted because an
 *     operator forced it
 * @param previous the state file's content when it was loaded, if any
 */
public record RunningBundle(BundleSettings settings, List<String> trusted, String digest,
    long sequence,
    List<String> signers, boolean rollback, Optional<BundleState> previous) {

  /** Validates and copies. */
  public RunningBundle {
    Objects.requireNonNull(settings, "settings");
    trusted = List.copyOf(trusted);
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(previous, "previous");
    signers = List.copyOf(signers);
  }

  /**
   * Records this bundle in the state file as the one applied last, unless the file says so
   * already (a restart on the same bundle writes nothing).
   *
   * @return whether the file was written
   * @throws BundleException if it cannot be written
   */
  public boolean commit(Instant now) {
    Optional<BundleState> stored = BundleState.read(settings.state());
    if (stored.isPresent() && stored.get().digest().equals(digest)
        && stored.get().sequence() == sequence) {
      return false;
    }
    new BundleState(sequence, digest, now).write(settings.state());
    return true;
  }

  /** One line for logs and the audit trail: sequence, digest and signers. */
  public String describe() {
    return "bundle " + digest + " (sequence " + sequence + ", signed by "
        + String.join(", ", signers) + ")";
  }
}
