package dev.sentinel.mcpsdk;

import io.modelcontextprotocol.common.McpTransportContext;
import org.jspecify.annotations.Nullable;

/**
 * Says who is calling from what the transport saw: the {@link McpTransportContext} that the
 * server transport's context extractor filled (HTTP headers, a verified token's claims) or that
 * the application knows for a stdio server (the user who launched it). The application writes
 * this: Sentinel never guesses a caller.
 *
 * <p>Called on the SDK's threads, once per listed tool and per governed request; it must be
 * thread-safe and should be cheap. Returning {@code null} or throwing refuses the request as
 * unauthenticated ({@code -32011}) and hides every tool from the list.
 */
@FunctionalInterface
public interface CallerResolver {

  /**
   * The caller of a request, or {@code null} if unknown.
   *
   * @param context the request's transport context; {@link McpTransportContext#EMPTY} when the
   *     transport records nothing (stdio)
   */
  @Nullable Caller resolve(McpTransportContext context);
}
