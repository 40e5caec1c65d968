package dev.sentinel.mcpsdk;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.Sentinel;
import io.modelcontextprotocol.client.McpAsyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Objects;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * An MCP Java SDK {@link McpAsyncClient} whose requests pass a {@link Sentinel} pipeline before
 * they are sent, on behalf of one principal; as {@link GovernedMcpSyncClient}, with {@link Mono}s.
 * The pipeline is synchronous: a governed request runs on Reactor's bounded-elastic scheduler and
 * waits there for the client's answer, so that the call's audit event has its outcome.
 *
 * <p>Thread-safe if the client is. The client and the pipeline stay the application's to close.
 */
public final class GovernedMcpAsyncClient {
  private final McpAsyncClient client;
  private final ClientGovernor governor;

  private GovernedMcpAsyncClient(McpAsyncClient client, ClientGovernor governor) {
    this.client = Objects.requireNonNull(client, "client");
    this.governor = governor;
  }

  /**
   * Governs a client's requests.
   *
   * @param client the client
   * @param sentinel the pipeline
   * @param server the server's name, which the pipeline sees as the backend
   * @param principal on whose behalf the requests are made
   */
  public static GovernedMcpAsyncClient of(
      McpAsyncClient client, Sentinel sentinel, String server, Principal principal) {
    return new GovernedMcpAsyncClient(client, new ClientGovernor(sentinel, server, principal));
  }

  /** The same client governed on behalf of another principal. */
  public GovernedMcpAsyncClient as(Principal principal) {
    return new GovernedMcpAsyncClient(client, new ClientGovernor(governor.sentinel, governor.server, principal));
  }

  /** The client itself, for what is not governed. */
  public McpAsyncClient delegate() {
    return client;
  }

  /** A page of tools ({@code null} cursor: the first), less those the principal may not use. */
  public Mono<McpSchema.ListToolsResult> listTools(String cursor) {
    return client.listTools(cursor).map(governor::visible);
  }

  /** Calls a tool if the pipeline allows. */
  public Mono<McpSchema.CallToolResult> callTool(McpSchema.CallToolRequest request) {
    return governed(governor.tool(request), () -> client.callTool(request));
  }

  /** A page of resources ({@code null} cursor: the first), less those the principal may not read. */
  public Mono<McpSchema.ListResourcesResult> listResources(String cursor) {
    return client.listResources(cursor).map(governor::visible);
  }

  /** Reads a resource if the pipeline allows. */
  public Mono<McpSchema.ReadResourceResult> readResource(McpSchema.ReadResourceRequest request) {
    return governed(governor.read(request), () -> client.readResource(request));
  }

  /** A page of prompts ({@code null} cursor: the first), less those the principal may not get. */
  public Mono<McpSchema.ListPromptsResult> listPrompts(String cursor) {
    return client.listPrompts(cursor).map(governor::visible);
  }

  /** Gets a prompt if the pipeline allows. */
  public Mono<McpSchema.GetPromptResult> getPrompt(McpSchema.GetPromptRequest request) {
    return governed(governor.prompt(request), () -> client.getPrompt(request));
  }

  /**
   * The request in the pipeline, off the caller's thread. A client's Mono that completes empty
   * blocks to null: the pipeline passes it through as the value (NullAway reads the invoker's
   * result as non-null), and {@code fromCallable} completes empty again.
   */
  @SuppressWarnings("NullAway")
  private <T> Mono<T> governed(Request request, Supplier<Mono<T>> send) {
    return Mono.fromCallable(() -> governor.call(request, governed -> send.get().block()))
        .subscribeOn(Schedulers.boundedElastic());
  }
}
