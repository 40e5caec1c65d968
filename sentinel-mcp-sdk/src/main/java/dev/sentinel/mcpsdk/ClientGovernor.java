package dev.sentinel.mcpsdk;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Call;
import dev.sentinel.core.Sentinel;
import dev.sentinel.core.Invoker;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** What the synchronous and asynchronous client wrappers share: the requests, lists and calls. */
final class ClientGovernor {
  final Sentinel sentinel;
  final String server;
  final Principal principal;

  ClientGovernor(Sentinel sentinel, String server, Principal principal) {
    this.sentinel = Objects.requireNonNull(sentinel, "sentinel");
    Objects.requireNonNull(server, "server");
    if (server.isBlank()) {
      throw new IllegalArgumentException("server must not be blank: it is the backend policies match");
    }
    this.server = server;
    this.principal = Objects.requireNonNull(principal, "principal");
  }

  Request tool(McpSchema.CallToolRequest request) {
    return Request.toolCall(server, request.name(), Arguments.tree(request.arguments()));
  }

  Request read(McpSchema.ReadResourceRequest request) {
    return new Request(Request.RESOURCES_READ, server, request.uri(), Arguments.NONE);
  }

  Request prompt(McpSchema.GetPromptRequest request) {
    return new Request(Request.PROMPTS_GET, server, request.name(), Arguments.tree(request.arguments()));
  }

  /**
   * Runs the pipeline and, if it allows, the request: its answer ({@code null} if the request
   * gave none), or an exception.
   */
  <T> @Nullable T call(Request request, Invoker<T> send) {
    return McpErrors.valueOrThrow(sentinel.call(Call.as(principal, request), send));
  }

  McpSchema.ListToolsResult visible(McpSchema.ListToolsResult page) {
    return new McpSchema.ListToolsResult(page.tools().stream()
        .filter(tool -> visible(Request.toolCall(server, tool.name(), null)))
        .toList(), page.nextCursor(), page.meta());
  }

  McpSchema.ListResourcesResult visible(McpSchema.ListResourcesResult page) {
    return new McpSchema.ListResourcesResult(page.resources().stream()
        .filter(resource -> visible(new Request(Request.RESOURCES_READ, server, resource.uri(), Arguments.NONE)))
        .toList(), page.nextCursor(), page.meta());
  }

  McpSchema.ListPromptsResult visible(McpSchema.ListPromptsResult page) {
    return new McpSchema.ListPromptsResult(page.prompts().stream()
        .filter(prompt -> visible(new Request(Request.PROMPTS_GET, server, prompt.name(), Arguments.NONE)))
        .toList(), page.nextCursor(), page.meta());
  }

  private boolean visible(Request request) {
    return sentinel.visible(principal, request);
  }
}
