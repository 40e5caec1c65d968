package dev.sentinel.api;

import java.io.IOException;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * A bidirectional channel of JSON-RPC messages: a stdio child process, a Streamable HTTP
 * connection, or an in-process pair. The client-facing and backend-facing sides of a gateway
 * share it.
 *
 * <p>{@link #send} may be called from any thread; messages are delivered to the receiver one at
 * a time, in the order they arrived.
 */
public interface Transport extends AutoCloseable {

  /** Starts delivering incoming messages to the receiver. Called once, before any send. */
  void start(Receiver receiver);

  /**
   * Sends one message.
   *
   * @throws IOException when the channel is closed or broken
   */
  void send(JsonNode message) throws IOException;

  /** Closes the channel; the receiver is told once through {@link Receiver#closed}. */
  @Override
  void close();

  /**
   * One message a client sent, delivered with who sent it and where what belongs to it goes: a
   * transport whose every message arrives on its own request (Streamable HTTP) authenticates
   * the request once and hands the engine its principal, so the engine does not authenticate
   * it again, and the engine answers the request, and sends what precedes its answer (progress,
   * a question to the client about it), through the exchange rather than by id through {@link
   * #send}.
   */
  interface Exchange {

    /** The message. */
    JsonNode message();

    /** What the client presented with it; recorded with its calls. */
    Credentials credentials();

    /**
     * The principal the transport authenticated the credentials as, just now, with the very
     * authenticator the engine uses; the engine takes it as the caller. {@code null} when the
     * transport authenticated with another one (or not at all): the engine then authenticates
     * the credentials itself.
     */
    @Nullable Principal principal();

    /**
     * Sends a message that belongs to this exchange: the response to its request, and before
     * it, notifications and requests to the client about it. A message sent after the exchange
     * ended goes where {@link Transport#send} sends.
     *
     * @throws IOException when the channel is closed
     */
    void reply(JsonNode message) throws IOException;

    /**
     * The engine will send no answer: the client cancelled the request (MCP says a cancelled
     * request gets none). A transport ends what waits for the answer, so that a client that
     * cancels many requests leaves nothing behind. Called at most once, after the request's
     * work has stopped; the default does nothing.
     */
    default void cancelled() {}
  }

  /** Gets what a transport receives. Called on the transport's delivery thread. */
  interface Receiver {

    /** One incoming message. */
    void message(JsonNode message);

    /**
     * One incoming message with its sender and reply channel. A receiver that does not know
     * exchanges takes the message alone, answering through {@link Transport#send}.
     */
    default void exchange(Exchange exchange) {
      message(exchange.message());
    }

    /**
     * The channel ended, normally ({@code cause == null}) or because of an error. Called once.
     */
    void closed(@Nullable Throwable cause);
  }
}
