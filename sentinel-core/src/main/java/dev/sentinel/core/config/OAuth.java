package dev.sentinel.core.config;

import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code server.oauth:} section: what {@code sentinel http} publishes as its OAuth 2.0
 * Protected Resource Metadata (RFC 9728) at {@code /.well-known/oauth-protected-resource}, so
 * that MCP clients find the authorization server that issues its tokens. Immutable.
 *
 * @param resource the resource identifier clients request tokens for; empty for the gateway's
 *     own MCP endpoint URL
 * @param authorizationServers the issuers of tokens for this resource; empty for the
 *     {@code jwt} section's issuer
 * @param scopesSupported the scopes to advertise; empty to advertise none
 */
public record OAuth(Optional<URI> resource, List<URI> authorizationServers, List<String> scopesSupported) {

  /** Nothing configured: every value derived from the gateway and the {@code jwt} section. */
  public static final OAuth DEFAULTS = new OAuth(Optional.empty(), List.of(), List.of());

  /** Validates and copies. */
  public OAuth {
    Objects.requireNonNull(resource, "resource");
    authorizationServers = List.copyOf(authorizationServers);
    scopesSupported = List.copyOf(scopesSupported);
  }
}
