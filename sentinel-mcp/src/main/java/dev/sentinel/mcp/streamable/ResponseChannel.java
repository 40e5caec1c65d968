package dev.sentinel.mcp.streamable;

import java.nio.ByteBuffer;
import org.eclipse.jetty.util.Callback;

/**
 * The HTTP response to one request (a {@code POST} or a {@code GET}), as the HTTP server that
 * received it offers it to the sessions: the one thing a server adapter implements. A channel is
 * answered once, either whole ({@link #json}, {@link #empty}) or as an event stream
 * ({@link #openEventStream}, then {@link #write}s, the last one ending it); either way the server's
 * exchange completes when the answer is written.
 *
 * <p>Writes are serialized by the caller: at most one is in progress at a time.
 */
public interface ResponseChannel {
  /** Answers with a JSON body and a status; the exchange completes when it is written. */
  void json(int status, byte[] body);

  /** Answers with a status and no body. */
  void empty(int status);

  /**
   * Sets the status ({@code 200}) and the headers of a {@code text/event-stream} answer; nothing
   * is written yet.
   */
  void openEventStream();

  /**
   * Writes a chunk of the event stream; {@code last} ends the answer after it. {@code done} is
   * told when the chunk is written (or the write failed), possibly on the calling thread.
   */
  void write(boolean last, ByteBuffer chunk, Callback done);

  /**
   * Closes the connection at once: the client does not read what it is sent. A write in progress
   * fails; the exchange fails.
   */
  void abort(Throwable cause);

  /** The event stream was written whole: the server's exchange is complete. */
  void succeeded();

  /** The event stream failed: the server's exchange fails with the cause. */
  void failed(Throwable cause);
}
