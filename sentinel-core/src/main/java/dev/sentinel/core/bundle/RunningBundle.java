package dev.sentinel.core.bundle;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

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
 * @param canary when it was selected as a canary of a rollout: the mark its state file keeps
 *     (the rollout, and the bundle to go back to if that rollout is aborted); {@code null}
 *     otherwise
 * @param rollbackAuthority when it is a rollback that no operator forced on this gateway but
 *     that an abort authorised (a canary going back to the bundle it ran before): who and what
 *     authorised it, for the audit trail; {@code null} otherwise
 */
public record RunningBundle(BundleSettings settings, List<String> trusted, String digest,
    long sequence, List<String> signers, boolean rollback, Optional<BundleState> previous,
    BundleState.@Nullable Canary canary, @Nullable String rollbackAuthority) {

  /** Validates and copies. */
  public RunningBundle {
    Objects.requireNonNull(settings, "settings");
    trusted = List.copyOf(trusted);
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(previous, "previous");
    signers = List.copyOf(signers);
  }

  /** A bundle applied as its channel's head or a file (not a canary, no authorised rollback). */
  public RunningBundle(BundleSettings settings, List<String> trusted, String digest,
      long sequence, List<String> signers, boolean rollback, Optional<BundleState> previous) {
    this(settings, trusted, digest, sequence, signers, rollback, previous, null, null);
  }

  /**
   * Records this bundle in the state file as the one applied last (with its canary mark, if
   * any), unless the file says so already (a restart on the same bundle writes nothing).
   *
   * @return whether the file was written
   * @throws BundleException if it cannot be written
   */
  public boolean commit(Instant now) {
    Optional<BundleState> stored = BundleState.read(settings.state());
    if (stored.isPresent() && stored.get().digest().equals(digest)
        && stored.get().sequence() == sequence
        && java.util.Objects.equals(stored.get().canary(), canary)) {
      return false;
    }
    new BundleState(sequence, digest, now, canary).write(settings.state());
    return true;
  }

  /** One line for logs and the audit trail: sequence, digest and signers. */
  public String describe() {
    return "bundle " + digest + " (sequence " + sequence + ", signed by "
        + String.join(", ", signers) + ")"
        + (canary == null ? "" : " as a canary of rollout " + canary.rollout());
  }

  /**
   * What a watcher compares with what its channel wants of it: the digest, and for a canary the
   * rollout (a canary whose rollout was promoted reloads the same bundle to drop its mark).
   */
  public String selectionKey() {
    return canary == null ? digest : digest + "#rollout-" + canary.rollout();
  }
}
