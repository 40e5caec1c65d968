package dev.sentinel.runner.http;

import dev.sentinel.api.Clock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The header timeout: a request's head (request line and headers) must arrive within it,
 * counted from the connection's opening for its first request and from the first bytes of each
 * later one; a connection over it is closed. Jetty 12 has no such setting (12.1 declares
 * {@code HttpConfiguration.minRequestDataRate} but does not enforce it), and its idle timeout
 * never fires for a client that sends a header line every few seconds, which could otherwise
 * hold every connection slot without ever presenting credentials.
 *
 * <p>Connections come from {@link #connector}, whose end points note when a head starts; the
 * handler from {@link #marking} notes when it is complete (the request reached a handler) and
 * when its answer ends; {@link #sweep} closes the connections over time. Requests are dispatched
 * as soon as their head is complete (not when their body starts), so a body that is slow to
 * start is the idle timeout's business, as a slow body is.
 *
 * <p>Thread-safe.
 */
final class HeaderDeadline {
  private static final Logger log = LoggerFactory.getLogger(HeaderDeadline.class);
  private static final long NONE = Long.MIN_VALUE;

  private final Clock clock;
  private final Duration timeout;
  private final Runnable timedOut;

  /**
   * @param clock the time heads are measured in
   * @param timeout how long a head may take
   * @param timedOut told each time a connection is closed for it (a metric)
   */
  HeaderDeadline(Clock clock, Duration timeout, Runnable timedOut) {
    this.clock = clock;
    this.timeout = timeout;
    this.timedOut = timedOut;
  }

  /** How often {@link #sweep} should run: a quarter of the timeout, between 10 ms and 1 s. */
  Duration sweepInterval() {
    return Duration.ofMillis(Math.max(10, Math.min(1_000, timeout.toMillis() / 4)));
  }

  /** A connector whose connections this deadline watches. */
  ServerConnector connector(Server server, ConnectionFactory... factories) {
    return new ServerConnector(server, factories) {
      @Override
      protected SocketChannelEndPoint newEndPoint(SocketChannel channel, ManagedSelector selector,
          SelectionKey key) {
        Watched endPoint = new Watched(channel, selector, key, this);
        endPoint.setIdleTimeout(getIdleTimeout());
        return endPoint;
      }
    };
  }

  /** Wraps the server's handler: a request that reaches it has its head complete. */
  Handler marking(Handler handler) {
    return new Handler.Wrapper(handler) {
      @Override
      public boolean handle(Request request, Response response, Callback callback) throws Exception {
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        // Over TLS the request's end point is the decrypted one, wrapping the network's.
        while (endPoint instanceof EndPoint.Wrapper wrapper) {
          endPoint = wrapper.unwrap();
        }
        if (!(endPoint instanceof Watched watched)) {
          return super.handle(request, response, callback);
        }
        watched.handling();
        return super.handle(request, response, new Callback.Nested(callback) {
          @Override
          public void succeeded() {
            watched.answered();
            super.succeeded();
          }

          @Override
          public void failed(Throwable cause) {
            watched.answered();
            super.failed(cause);
          }
        });
      }
    };
  }

  /** Closes the connections whose current head has taken longer than the timeout. */
  void sweep(Collection<EndPoint> endPoints) {
    long now = clock.nanoTime();
    for (EndPoint endPoint : endPoints) {
      if (endPoint instanceof Watched watched && watched.overdue(now, timeout.toNanos())) {
        log.info("closed the connection from {}: its request head did not arrive within the"
            + " header timeout of {}", endPoint.getRemoteSocketAddress(), timeout);
        timedOut.run();
        watched.close(new TimeoutException("request head not complete within " + timeout));
      }
    }
  }

  /** A connection's end point that notes when a request head starts. */
  private final class Watched extends SocketChannelEndPoint {
    /** When the head being read began; {@link #NONE} while a request is handled or none began. */
    private volatile long headSince;
    private volatile boolean handling;

    Watched(SocketChannel channel, ManagedSelector selector, SelectionKey key, ServerConnector connector) {
      super(channel, selector, key, connector.getScheduler());
      // The first request's head counts from the connection's opening.
      this.headSince = clock.nanoTime();
    }

    @Override
    public int fill(ByteBuffer buffer) throws IOException {
      int filled = super.fill(buffer);
      if (filled > 0 && !handling && headSince == NONE) {
        headSince = clock.nanoTime();
      }
      return filled;
    }

    void handling() {
      handling = true;
      headSince = NONE;
    }

    void answered() {
      // The next head counts from its first bytes (fill), not from now: a keep-alive connection
      // that waits quietly is the idle timeout's business.
      handling = false;
    }

    boolean overdue(long now, long limit) {
      long since = headSince;
      return !handling && since != NONE && now - since >= limit && isOpen();
    }
  }
}
