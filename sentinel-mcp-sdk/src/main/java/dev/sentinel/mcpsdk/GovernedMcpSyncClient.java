package dev.sentinel.mcpsdk;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Invoker;
import dev.sentinel.core.Sentinel;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Objects;

/**
 * An MCP Java SDK {@link McpSyncClient} whose requests pass a {@link Sentinel} pipeline before
 * they are sent, on behalf of one principal: an agent application governs what its model may do
 * with a server it connects to.
 *
 * <pre>{@code
 * GovernedMcpSyncClient notes = GovernedMcpSyncClient.of(client, sentinel, "notes", Principal.of("alice", "writer"));
 * notes.listTools();                       // only what the policy lets alice use
 * notes.callTool(new CallToolRequest("write_note", arguments));   // decided, limited, audited, then sent
 * }</pre>
 *
 * <p>The request object the pipeline decides on is the one sent. Lists ({@code tools},
 * {@code resources}, {@code prompts}) are filtered with {@link Sentinel#visible}, page by page. A
 * refusal is thrown as an {@link io.modelcontextprotocol.spec.McpError} with Sentinel's code, as a
 * governed server would answer; the request is then never sent. An error the server answers is
 * recorded as {@code FAILED} and thrown unchanged. Everything else (ping, subscriptions,
 * completion) is the {@link #delegate()}'s, ungoverned.
 *
 * <p>Thread-safe if the client is. The client and the pipeline stay the application's to close.
 */
public final class GovernedMcpSyncClient {
  private final McpSyncClient client;
  private final ClientGovernor governor;

  private GovernedMcpSyncClient(McpSyncClient client, ClientGovernor governor) {
    this.client = Objects.requireNonNull(client, "client");
    this.governor = governor;
  }

  /**
   * Governs a client's requests.
   *
   * @param client an initialized (or about to be) client
   * @param sentinel the pipeline
   * @param server the server's name, which the pipeline sees as the backend
   * @param principal on whose behalf the requests are made
   */
  public static GovernedMcpSyncClient of(McpSyncClient client, Sentinel sentinel, String server, Principal principal) {
    return new GovernedMcpSyncClient(client, new ClientGovernor(sentinel, server, principal));
  }

  /** The same client governed on behalf of another principal. */
  public GovernedMcpSyncClient as(Principal principal) {
    return new GovernedMcpSyncClient(client, new ClientGovernor(governor.sentinel, governor.server, principal));
  }

  /** The client itself, for what is not governed. */
  public McpSyncClient delegate() {
    return client;
  }

  /** The principal requests are made for. */
  public Principal principal() {
    return governor.principal;
  }

  /** The first page of tools, less those the principal may not use. */
  public McpSchema.ListToolsResult listTools() {
    return governor.visible(client.listTools());
  }

  /** A page of tools, less those the principal may not use. */
  public McpSchema.ListToolsResult listTools(String cursor) {
    return governor.visible(client.listTools(cursor));
  }

  /** Calls a tool if the pipeline allows. */
  public McpSchema.CallToolResult callTool(McpSchema.CallToolRequest request) {
    return answer(governor.tool(request), governed -> client.callTool(request));
  }

  /** The first page of resources, less those the principal may not read. */
  public McpSchema.ListResourcesResult listResources() {
    return governor.visible(client.listResources());
  }

  /** A page of resources, less those the principal may not read. */
  public McpSchema.ListResourcesResult listResources(String cursor) {
    return governor.visible(client.listResources(cursor));
  }

  /** Reads a resource if the pipeline allows. */
  public McpSchema.ReadResourceResult readResource(McpSchema.ReadResourceRequest request) {
    return answer(governor.read(request), governed -> client.readResource(request));
  }

  /** The first page of prompts, less those the principal may not get. */
  public McpSchema.ListPromptsResult listPrompts() {
    return governor.visible(client.listPrompts());
  }

  /** A page of prompts, less those the principal may not get. */
  public McpSchema.ListPromptsResult listPrompts(String cursor) {
    return governor.visible(client.listPrompts(cursor));
  }

  /** Gets a prompt if the pipeline allows. */
  public McpSchema.GetPromptResult getPrompt(McpSchema.GetPromptRequest request) {
    return answer(governor.prompt(request), governed -> client.getPrompt(request));
  }

  /**
   * The SDK client's answer to a request the pipeline allowed. NullAway takes the unannotated
   * client's answers as non-null but loses that through {@link dev.sentinel.core.CallResult}'s
   * value, which is null only for the outcomes that throw here.
   */
  @SuppressWarnings("NullAway")
  private <T> T answer(Request request, Invoker<T> send) {
    return governor.call(request, send);
  }
}
