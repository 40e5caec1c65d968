package dev.sentinel.runner.http.llm;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.jspecify.annotations.Nullable;

/**
 * Whether the client of a request is still there, while its handler waits for the upstream
 * without reading or writing (a whole, non-streamed answer). A stream finds out by writing; a
 * whole answer has nothing to write until the upstream is done, which may be minutes.
 *
 * <p>HTTP/2 and later would report a reset stream, and every version a stopped connector, through
 * the request's failure listener ({@code sentinel http} serves HTTP/1.1 only today, in the clear
 * and over TLS, where the connection read below goes through the TLS layer). An HTTP/1.x server reads nothing from the connection while it
 * handles a request, so a closed connection would go unnoticed: {@link #gone()} then reads it
 * once, without waiting. A read of -1 (or a reset) is the client's close. A byte is a client
 * that sent its next request before this answer (pipelining): it is dropped, the watch stops
 * reading, and {@link #closeAfter()} says the connection must close after the answer, so that
 * the client sends that request again on a new one, as RFC 9112 section 9.3.2 expects of a
 * pipelining client.
 *
 * <p>Used by the one thread that handles the request, but for the failure listener.
 */
final class ClientWatch {
  /** The connection to probe, or null where it must not be read (HTTP/2 and later). */
  private final @Nullable EndPoint endPoint;
  private final ByteBuffer probe = ByteBuffer.allocate(1);
  private volatile boolean failed;
  private boolean closeAfter;

  private ClientWatch(Request request) {
    HttpVersion version = request.getConnectionMetaData().getHttpVersion();
    // Reading an HTTP/2 or HTTP/3 connection would take bytes from other streams' frames.
    this.endPoint = version != null && version.getVersion() < 20
        ? request.getConnectionMetaData().getConnection().getEndPoint() : null;
    request.addFailureListener(failure -> failed = true);
  }

  /** Watches the client of a request; call before the handler starts waiting. */
  static ClientWatch of(Request request) {
    return new ClientWatch(request);
  }

  /** Whether the client went away; never blocks. */
  boolean gone() {
    if (failed) {
      return true;
    }
    // Not while the server itself waits to read (it then sees the close on its own).
    if (endPoint == null || closeAfter || endPoint.isFillInterested()) {
      return false;
    }
    try {
      probe.clear().flip();
      int read = endPoint.fill(probe);
      if (read < 0) {
        return failed = true;
      }
      if (read > 0) {
        closeAfter = true;
      }
      return false;
    } catch (IOException reset) {
      return failed = true;
    }
  }

  /** Whether the answer must close the connection: the watch read bytes of a next request. */
  boolean closeAfter() {
    return closeAfter;
  }
}
