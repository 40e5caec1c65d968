/**
 * JSON Web Token authentication for {@code sentinel http}: {@link
 * dev.sentinel.runner.http.jwt.JwtAuthenticator} verifies bearer tokens against an identity
 * provider's JWKS (cached, refreshed on key rotation, rate-limited), and {@link
 * dev.sentinel.runner.http.jwt.JwtAuthenticator#dispatching} sends JWT-shaped bearer tokens to it
 * and every other credential to the API keys.
 */
package dev.sentinel.runner.http.jwt;
