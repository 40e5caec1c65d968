/**
 * Signed config bundles: a gateway's config and its policy in one content-addressed file
 * ({@link dev.sentinel.core.bundle.Bundle}), signed with Ed25519 keys and trusted by a threshold
 * of them ({@link dev.sentinel.core.bundle.TrustedKeys}), never applied when older than what runs.
 * {@code sentinel bundle build|keygen|sign|verify|inspect} drive it; docs/bundles.md says how.
 */
package dev.sentinel.core.bundle;
