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

  /** Gets what a transport receives. Called on the transport's delivery thread. */
  interface Receiver {

    /** One incoming message. */
    void message(JsonNode message);

    /**
     * The channel ended, normally ({@code cause == null}) or because of an error. Called once.
     */
    void closed(@Nullable Throwable cause);
  }
}
