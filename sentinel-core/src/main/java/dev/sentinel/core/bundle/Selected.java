package dev.sentinel.core.bundle;

import java.util.Objects;
import java.util.Optional;

/**
 * The bundle a gateway should load from its source now, and why: its channel's head, or the
 * bundle of a rollout it is a canary of. A selection is only a choice among published bundles:
 * the loader verifies the bundle it names exactly as any other.
 *
 * @param bundle the bundle, not verified yet
 * @param canaryOf the started rollout this gateway is a canary of, when the bundle is that
 *     rollout's; empty otherwise
 * @param abortedRollout the aborted rollout this gateway was a canary of, when the bundle is the
 *     one it ran before (the head the abort sends it back to); empty otherwise
 */
public record Selected(Bundle bundle, Optional<Rollout> canaryOf,
    Optional<Rollout> abortedRollout) {

  /** Validates. */
  public Selected {
    Objects.requireNonNull(bundle, "bundle");
    Objects.requireNonNull(canaryOf, "canaryOf");
    Objects.requireNonNull(abortedRollout, "abortedRollout");
  }

  /** The head, or a file: no rollout involved. */
  public static Selected of(Bundle bundle) {
    return new Selected(bundle, Optional.empty(), Optional.empty());
  }
}
