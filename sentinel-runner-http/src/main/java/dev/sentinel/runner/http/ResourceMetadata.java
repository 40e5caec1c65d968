package dev.sentinel.runner.http;

import dev.sentinel.core.config.OAuth;
import java.net.URI;
import java.util.List;
import org.eclipse.jetty.server.Request;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The gateway's OAuth 2.0 Protected Resource Metadata (RFC 9728), as MCP clients discover it
 * from the {@code resource_metadata} parameter of a 401's {@code WWW-Authenticate}: the resource
 * (the MCP endpoint's URL unless configured), the authorization servers that issue its tokens,
 * the bearer methods ({@code header} only) and the scopes, if configured. Immutable.
 */
final class ResourceMetadata {
  /** The well-known path prefix (RFC 9728 section 3). */
  static final String WELL_KNOWN = "/.well-known/oauth-protected-resource";
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final OAuth settings;
  private final String path;

  ResourceMetadata(OAuth settings, String path) {
    this.settings = settings;
    this.path = path;
  }

  /** Whether a request path names the metadata: the bare well-known path or its MCP-path form. */
  boolean serves(String requestPath) {
    return requestPath.equals(WELL_KNOWN) || requestPath.equals(WELL_KNOWN + path);
  }

  /** The resource identifier: the configured one, else this request's origin and the MCP path. */
  String resource(Request request) {
    return settings.resource().map(URI::toString).orElseGet(() -> origin(request) + path);
  }

  /** Where the metadata of the resource is: its origin, the well-known prefix, its path. */
  String metadataUrl(Request request) {
    if (settings.resource().isPresent()) {
      URI resource = settings.resource().get();
      String resourcePath = resource.getRawPath() == null || resource.getRawPath().equals("/")
          ? "" : resource.getRawPath();
      return resource.getScheme() + "://" + resource.getRawAuthority() + WELL_KNOWN + resourcePath;
    }
    return origin(request) + WELL_KNOWN + path;
  }

  /** The {@code scope} a client should ask for, space-separated; empty if none is configured. */
  String scope() {
    return String.join(" ", settings.scopesSupported());
  }

  /** The metadata document. */
  ObjectNode document(Request request) {
    ObjectNode body = NODES.objectNode();
    body.put("resource", resource(request));
    ArrayNode servers = body.putArray("authorization_servers");
    for (URI server : settings.authorizationServers()) {
      servers.add(server.toString());
    }
    body.putArray("bearer_methods_supported").add("header");
    List<String> scopes = settings.scopesSupported();
    if (!scopes.isEmpty()) {
      ArrayNode array = body.putArray("scopes_supported");
      scopes.forEach(array::add);
    }
    return body;
  }

  private static String origin(Request request) {
    String host = request.getHeaders().get("Host");
    if (host == null) {
      host = request.getHttpURI().getAuthority();
    }
    return request.getHttpURI().getScheme() + "://" + host;
  }
}
