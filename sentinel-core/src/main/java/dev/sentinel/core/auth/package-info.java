/**
 * API keys: {@link dev.sentinel.core.auth.ApiKeys} issues, rotates, revokes and verifies them
 * against a {@link dev.sentinel.api.KeyStore}, such as the
 * {@link dev.sentinel.core.auth.InMemoryKeyStore}. Only a hash of each secret is ever stored.
 */
@NullMarked
package dev.sentinel.core.auth;

import org.jspecify.annotations.NullMarked;
