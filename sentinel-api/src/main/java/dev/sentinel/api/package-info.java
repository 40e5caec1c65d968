/**
 * Sentinel's public values and service provider interfaces.
 *
 * <p>Values are immutable records that validate in their constructors. SPIs are small interfaces
 * with static factories for the stock implementations: {@link dev.sentinel.api.Authenticator},
 * {@link dev.sentinel.api.Policy}, {@link dev.sentinel.api.RateLimiter},
 * {@link dev.sentinel.api.AuditSink}, {@link dev.sentinel.api.Transport},
 * {@link dev.sentinel.api.KeyStore}, {@link dev.sentinel.api.Confirmer} (with the {@link
 * dev.sentinel.api.Caller} it may ask) and
 * {@link dev.sentinel.api.Clock}.
 *
 * <p>JSON values (tool arguments, protocol messages) are Jackson 3 tree nodes; that is the only
 * third-party type in this package.
 *
 * <p>Nullness: every type here is non-null unless marked {@link org.jspecify.annotations.Nullable}
 * ({@link org.jspecify.annotations.NullMarked}), checked at compile time by NullAway.
 */
@NullMarked
package dev.sentinel.api;

import org.jspecify.annotations.NullMarked;
