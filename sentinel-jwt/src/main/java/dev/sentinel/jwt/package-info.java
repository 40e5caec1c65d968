/**
 * JSON Web Token authentication, for any gateway or application: {@link
 * dev.sentinel.jwt.JwtAuthenticator} verifies bearer tokens against an identity provider's JWKS
 * (cached, refreshed on key rotation, rate-limited) as a {@link dev.sentinel.api.Authenticator},
 * and {@link dev.sentinel.jwt.JwtAuthenticator#dispatching} sends JWT-shaped bearer tokens to it
 * and every other credential to the API keys. {@code sentinel http} uses it for {@code
 * server.jwt}; an embedder passes it to {@code Sentinel.builder().authenticator(...)}.
 */
@NullMarked
package dev.sentinel.jwt;

import org.jspecify.annotations.NullMarked;
