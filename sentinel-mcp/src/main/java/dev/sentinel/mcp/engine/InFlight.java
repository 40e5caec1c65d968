package dev.sentinel.mcp.engine;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.api.Transport;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One client request the gateway is working on: the client's id, and the backend request it
 * became, so that a cancellation from the client reaches the backend. Thread-safe.
 */
final class InFlight {
  final JsonNode clientId;
  final String key;
  final long sequence;
  /** What the client presented with this request; the pipeline authenticates the request with them. */
  final Credentials credentials;
  /**
   * The principal the request's transport authenticated its credentials as ({@link
   * Transport.Exchange#principal}), which the pipeline takes instead of authenticating them
   * again; {@code null} when the transport delivered the message alone.
   */
  final @Nullable Principal principal;
  /**
   * Where the request's answer, and what precedes it, goes ({@link Transport.Exchange#reply});
   * {@code null} when the transport delivered the message alone: then through its {@code send}.
   */
  final Transport.@Nullable Exchange exchange;
  /** For a stateless (MCP 2026-07-28) request, what its {@code _meta} declared; else {@code null}. */
  final @Nullable StatelessMeta stateless;
  /** The client's method ({@code tools/call}, ...), or {@code null} when not known. */
  final @Nullable String method;
  /**
   * A client capability the request turned out to need and its stateless client did not declare
   * (a backend asked for sampling, say): the client's answer is then {@code -32021}. Else {@code null}.
   */
  volatile @Nullable String missingCapability;
  /**
   * The {@code input_required} result a stateless request gets instead of its answer: the
   * gateway asked its client a question (a confirmation) that the client answers by sending the
   * request again. Else {@code null}.
   */
  volatile @Nullable ObjectNode inputRequired;
  /** Whose in-flight quota the request counts against (released when it ends), or {@code null}. */
  volatile @Nullable String quotaKey;
  /** The request as the pipeline decides it (set when its call is made), or {@code null}. */
  volatile @Nullable Request governed;
  /**
   * Whether the request's {@code requestState} answered the gateway's own question (a
   * confirmation) and was redeemed for it: it then continues no backend call.
   */
  volatile boolean stateRedeemed;
  /**
   * The backend call this stateless request waits on, whose questions reach the client as
   * {@code input_required} results ({@link RoundTrip}); {@code null} for any other request.
   */
  volatile @Nullable RoundTrip roundTrip;
  private @Nullable Upstream upstream;
  private long backendId = -1;
  private boolean cancelled;

  InFlight(JsonNode clientId, String key, long sequence, Credentials credentials, @Nullable Principal principal,
      Transport.@Nullable Exchange exchange, @Nullable StatelessMeta stateless, @Nullable String method) {
    this.clientId = clientId;
    this.key = key;
    this.sequence = sequence;
    this.credentials = credentials;
    this.principal = principal;
    this.exchange = exchange;
    this.stateless = stateless;
    this.method = method;
  }

  /**
   * Records the connection the request is about to go out on, before it is sent: a server that
   * asks the client something as soon as it has the request finds the requester by it.
   */
  synchronized void sending(Upstream to) {
    upstream = to;
  }

  /**
   * Records that the request went to a backend under an id. Returns false if the client
   * cancelled meanwhile; the caller then cancels the backend request.
   */
  synchronized boolean forwarded(Upstream to, long id) {
    upstream = to;
    backendId = id;
    return !cancelled;
  }

  /** The backend request ended; a later cancellation has nothing to tell the backend. */
  synchronized void answered() {
    backendId = -1;
  }

  /**
   * The request was answered while its backend call runs on, for a later request to continue:
   * a cancellation of this one no longer reaches that call, and the connection's questions no
   * longer count as this request's.
   */
  synchronized void detached() {
    backendId = -1;
    upstream = null;
  }

  /** Marks the request cancelled and tells the backend, if it had been forwarded. */
  void cancel(String reason) {
    Upstream to;
    long id;
    synchronized (this) {
      cancelled = true;
      to = upstream;
      id = backendId;
    }
    if (to != null && id >= 0) {
      to.cancel(id, reason);
    }
  }

  synchronized boolean cancelled() {
    return cancelled;
  }

  /** The connection this request went to last, or {@code null}. */
  synchronized @Nullable Upstream upstream() {
    return upstream;
  }
}
