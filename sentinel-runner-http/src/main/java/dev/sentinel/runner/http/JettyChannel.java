package dev.sentinel.runner.http;

import dev.sentinel.mcp.streamable.ResponseChannel;
import java.nio.ByteBuffer;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A Jetty response and its handler's callback, as the sessions of
 * {@link dev.sentinel.mcp.streamable} answer on it: the whole of the runner's part in a
 * session's answers.
 */
record JettyChannel(Response response, Callback callback) implements ResponseChannel {
  @Override
  public void json(int status, byte[] body) {
    Replies.json(response, callback, status, body);
  }

  @Override
  public void empty(int status) {
    Replies.empty(response, callback, status);
  }

  @Override
  public void openEventStream() {
    Replies.sseHeaders(response);
  }

  @Override
  public void write(boolean last, ByteBuffer chunk, Callback done) {
    response.write(last, chunk, done);
  }

  @Override
  public void abort(Throwable cause) {
    response.getRequest().getConnectionMetaData().getConnection().getEndPoint().close(cause);
  }

  @Override
  public void succeeded() {
    callback.succeeded();
  }

  @Override
  public void failed(Throwable cause) {
    callback.failed(cause);
  }
}
