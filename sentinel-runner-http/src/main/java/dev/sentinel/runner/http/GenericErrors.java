package dev.sentinel.runner.http;

import dev.sentinel.mcp.jsonrpc.ErrorCode;
import dev.sentinel.mcp.jsonrpc.JsonRpc;
import java.nio.ByteBuffer;
import java.util.Locale;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty's error answers (a handler that threw, a callback failed before the response was
 * committed, a request head Jetty could not parse), as JSON-RPC errors with generic text. Jetty's
 * own error page puts the exception's {@code toString()} in the body (an
 * {@code OutOfMemoryError}, a driver's message with a database URL); here the failure is logged
 * under an error id and the client gets only the status's reason and that id.
 *
 * <p>Thread-safe.
 */
final class GenericErrors extends ErrorHandler {
  private static final Logger log = LoggerFactory.getLogger(GenericErrors.class);

  private final Json json;

  GenericErrors(Json json) {
    this.json = json;
    setShowStacks(false);
    setShowCauses(false);
    setShowMessageInTitle(false);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    int status = response.getStatus();
    if (request.getAttribute(ERROR_STATUS) instanceof Integer code) {
      status = code;
    }
    if (status < 400 || status > 599) {
      status = HttpStatus.INTERNAL_SERVER_ERROR_500;
    }
    String message;
    if (status >= 500) {
      Object cause = request.getAttribute(ERROR_EXCEPTION);
      message = Replies.logged(log, "an HTTP request (" + request.getMethod() + ")",
          cause instanceof Throwable failure ? failure : null);
    } else {
      message = reason(status);
    }
    ErrorCode code = status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.INVALID_REQUEST;
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, Replies.JSON);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.write(true, ByteBuffer.wrap(json.bytes(JsonRpc.error(null, code, message))), callback);
    return true;
  }

  /**
   * The body of an answer to a request head Jetty refused before any handler ran (a bad header,
   * a head too large): the status's reason only, since Jetty's reason can quote the input.
   */
  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, Replies.JSON);
    fields.put(HttpHeader.CACHE_CONTROL, "no-store");
    ErrorCode code = status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.INVALID_REQUEST;
    return ByteBuffer.wrap(json.bytes(JsonRpc.error(null, code, reason(status))));
  }

  /** The status's standard reason in lower case, such as {@code bad request}. */
  private static String reason(int status) {
    String reason = HttpStatus.getMessage(status);
    return reason == null ? "error " + status : reason.toLowerCase(Locale.ROOT);
  }
}
