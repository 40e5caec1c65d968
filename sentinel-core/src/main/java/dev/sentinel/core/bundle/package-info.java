/**
 * Signed config bundles: a gateway's config and its policy in one content-addressed file
 * ({@link dev.sentinel.core.bundle.Bundle}), signed with Ed25519 keys and trusted by a threshold
 * of them ({@link dev.sentinel.core.bundle.TrustedKeys}), never applied when older than what runs.
 * A gateway reads its bundle from a {@link dev.sentinel.core.bundle.BundleSource}: a file, or a
 * channel of a {@link dev.sentinel.core.bundle.BundleStore} where bundles are published for a
 * fleet and gateways send their {@link dev.sentinel.core.bundle.Heartbeat}s. {@code sentinel
 * bundle build|keygen|sign|verify|inspect|publish} drive it; docs/bundles.md says how.
 */
@NullMarked
package dev.sentinel.core.bundle;

import org.jspecify.annotations.NullMarked;
