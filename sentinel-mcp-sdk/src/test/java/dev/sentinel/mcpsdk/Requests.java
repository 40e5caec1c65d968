package dev.sentinel.mcpsdk;

import io.modelcontextprotocol.spec.McpSchema;
import java.util.Map;

/** Short names for the SDK's request builders in the tests. */
final class Requests {
  private Requests() {}

  static McpSchema.CallToolRequest toolCall(String name, Map<String, Object> arguments) {
    return McpSchema.CallToolRequest.builder(name).arguments(arguments).build();
  }

  static McpSchema.ReadResourceRequest read(String uri) {
    return McpSchema.ReadResourceRequest.builder(uri).build();
  }

  static McpSchema.GetPromptRequest prompt(String name, Map<String, Object> arguments) {
    return McpSchema.GetPromptRequest.builder(name).arguments(arguments).build();
  }

  /** A text resource's contents. */
  static McpSchema.ReadResourceResult text(String uri, String text) {
    return McpSchema.ReadResourceResult.builder(java.util.List.of(
        McpSchema.TextResourceContents.builder(uri, text).mimeType("text/plain").build())).build();
  }
}
