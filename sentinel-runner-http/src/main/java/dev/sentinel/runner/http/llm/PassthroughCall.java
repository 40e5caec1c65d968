package dev.sentinel.runner.http.llm;

import dev.sentinel.api.Outcome;
import dev.sentinel.api.Refusal;
import dev.sentinel.api.Request;
import dev.sentinel.core.AuditView;
import dev.sentinel.core.Invoker;
import dev.sentinel.core.RefusedException;
import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.audit.DigestKey;
import dev.sentinel.core.llm.LlmApi;
import dev.sentinel.core.llm.LlmUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One request an upstream passes through ({@code passthrough:} paths), once the pipeline allowed
 * it: the invoker of its {@code Sentinel.call} ({@code llm/passthrough}, named by the path), and
 * the {@link AuditView} of its record.
 *
 * <p>Forwards the method, the canonical path and the raw query exactly as decided, an allow-list
 * of the client's headers and the gateway's key for the upstream (never the client's
 * credential). Both bodies are streamed chunk by chunk, never held whole: the request's is cut at
 * {@code max_body_bytes} (the upstream request is aborted and the call refused with 413); the
 * answer's is written and flushed chunk by chunk, its memory bounded by one chunk. The bodies are
 * not read as model calls, so passed-through requests are not charged against token budgets. An
 * upstream error answer is read (bounded) and passed on unless it is the upstream refusing the
 * gateway's key or quoting it; an answer that fails midway aborts the client's response, which
 * then ends without its terminating chunk, so that no client takes a cut answer for a whole one.
 *
 * <p>One per request, used by the thread that handles it (the request body is read by the client's
 * threads, one at a time).
 */
final class PassthroughCall implements Invoker<Integer>, AuditView {
  /** The client headers forwarded: nothing that could carry a credential or a cookie. */
  private static final List<String> REQUEST_HEADERS = List.of("content-type", "accept",
      "anthropic-beta", "openai-beta");
  /** The answer headers passed back, beside those starting with {@link #RESPONSE_PREFIXES}. */
  private static final Set<String> RESPONSE_HEADERS = Set.of("content-type",
      "content-disposition", "cache-control", "retry-after", "x-request-id", "request-id",
      "openai-processing-ms");
  private static final List<String> RESPONSE_PREFIXES = List.of("x-ratelimit-",
      "anthropic-ratelimit-");
  private static final String DEFAULT_ANTHROPIC_VERSION = "2023-06-01";
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** The request body passed the limit. */
  private static final class TooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    TooLarge() {
      super("the body is larger than max_body_bytes", null);
    }
  }

  private final HttpClient client;
  private final LlmUpstream upstream;
  private final String method;
  private final String path;
  private final @Nullable String query;
  private final URI target;
  private final org.eclipse.jetty.server.Request request;
  private final Response response;
  private final ClientWatch watch;
  private final long maxBodyBytes;
  private final long check;
  private final DigestKey.ByteDigest digest;
  /** The request body forwarded, or null for a request without one. */
  private final @Nullable Body body;
  private int upstreamStatus = -1;
  /** Whether a whole answer (the upstream's, or an error) reached the client. */
  private boolean answered;
  private boolean digestUsed;
  /** The answer's digest, once it is known; null when none was taken. */
  private @Nullable String responseDigest;
  private long responseSize = -1;

  PassthroughCall(HttpClient client, LlmUpstream upstream, String method, String path,
      @Nullable String query, URI target, org.eclipse.jetty.server.Request request,
      Response response, ClientWatch watch, long maxBodyBytes, java.time.Duration check,
      DigestKey digestKey) {
    this.client = client;
    this.upstream = upstream;
    this.method = method;
    this.path = path;
    this.query = query;
    this.target = target;
    this.request = request;
    this.response = response;
    this.watch = watch;
    this.maxBodyBytes = maxBodyBytes;
    this.check = check.toNanos();
    this.digest = digestKey.bytes();
    this.body = "GET".equals(method) || "DELETE".equals(method) && request.getLength() <= 0
        ? null : new Body();
  }

  /** The governed request's arguments, before the call: what the policy decides on. */
  static ObjectNode arguments(String method, String path, @Nullable String query,
      @Nullable String contentType, long length) {
    ObjectNode out = JSON.createObjectNode();
    out.put("http_method", method);
    out.put("path", path);
    if (query != null) {
      out.put("query", query);
    }
    if (contentType != null) {
      out.put("content_type", contentType);
    }
    if (length >= 0) {
      out.put("content_length", length);
    }
    return out;
  }

  /**
   * Whether the client got a whole answer: the upstream's, or an error in the API's shape. A
   * committed response that is not whole was cut midway and must be aborted, not ended.
   */
  boolean answered() {
    return answered;
  }

  // ---- the audit view ------------------------------------------------------------------------

  @Override
  public JsonNode arguments(Request governed) {
    ObjectNode out = JSON.createObjectNode();
    out.put("route", "passthrough");
    out.put("upstream", upstream.name());
    out.setAll((ObjectNode) governed.arguments());
    if (body != null && body.read >= 0) {
      out.put("request_bytes", body.read);
    }
    if (upstreamStatus >= 0) {
      out.put("status", upstreamStatus);
    }
    return out;
  }

  @Override
  public long responseSize() {
    return responseSize;
  }

  @Override
  public @Nullable String responseDigest() {
    return responseDigest;
  }

  // ---- the invoker ---------------------------------------------------------------------------

  @Override
  public Integer invoke(Request governed) throws Exception {
    try {
      return forward();
    } finally {
      if (digestUsed) {
        CanonicalJson.Digest finished = digest.finish();
        responseSize = finished.size();
        responseDigest = finished.digest();
      }
    }
  }

  private int forward() throws Exception {
    CompletableFuture<org.eclipse.jetty.client.Response> head = new CompletableFuture<>();
    CompletableFuture<Content.Source> answer = new CompletableFuture<>();
    org.eclipse.jetty.client.Request up = client.newRequest(target)
        .method(HttpMethod.fromString(method))
        .headers(this::upstreamHeaders)
        .idleTimeout(upstream.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .onResponseHeaders(head::complete)
        .onResponseContentSource((r, source) -> answer.complete(source));
    if (body != null) {
      up.body(body);
    }
    long started = System.nanoTime();
    up.send(result -> {
      if (result.isFailed()) {
        head.completeExceptionally(result.getFailure());
        answer.completeExceptionally(result.getFailure());
      } else {
        answer.complete(null);
      }
    });
    org.eclipse.jetty.client.Response head2 = awaitHead(up, head, started);
    upstreamStatus = head2.getStatus();
    Content.@Nullable Source source; // null when the answer has no content
    try {
      source = answer.get();
    } catch (ExecutionException e) {
      throw failed(up, Objects.requireNonNull(e.getCause(), "get() wraps a cause"));
    }
    if (upstreamStatus < 200 || upstreamStatus >= 300) {
      return upstreamError(up, head2, source);
    }
    response.setStatus(upstreamStatus);
    copyHeaders(head2.getHeaders());
    if (watch.closeAfter()) {
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
    }
    if (source != null) {
      relay(up, source);
    }
    try (Blocker.Callback done = Blocker.callback()) {
      response.write(true, null, done);
      done.block();
    } catch (IOException gone) {
      throw new CancellationException("the client went away");
    }
    answered = true;
    return upstreamStatus;
  }

  private void upstreamHeaders(HttpFields.Mutable headers) {
    HttpFields from = request.getHeaders();
    for (String name : REQUEST_HEADERS) {
      String value = from.get(name);
      if (value != null) {
        headers.put(name, value);
      }
    }
    if (upstream.api() == LlmApi.ANTHROPIC) {
      String version = from.get("anthropic-version");
      headers.put("anthropic-version", version == null ? DEFAULT_ANTHROPIC_VERSION : version);
    }
    UpstreamCall.addCredential(headers, upstream);
  }

  private void copyHeaders(HttpFields from) {
    HttpFields.Mutable to = response.getHeaders();
    for (HttpField field : from) {
      String name = field.getLowerCaseName();
      if (RESPONSE_HEADERS.contains(name)
          || RESPONSE_PREFIXES.stream().anyMatch(name::startsWith)) {
        to.add(field);
      }
    }
  }

  /** The upstream's status and headers, within {@code first_byte_timeout}. */
  private org.eclipse.jetty.client.Response awaitHead(org.eclipse.jetty.client.Request up,
      CompletableFuture<org.eclipse.jetty.client.Response> head, long started) throws Exception {
    long deadline = started + upstream.firstByteTimeout().toNanos();
    while (true) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        TimeoutException timeout = new TimeoutException("the upstream did not answer within "
            + upstream.firstByteTimeout().toMillis() + " ms (first_byte_timeout)");
        up.abort(timeout);
        answerError(504, "the upstream did not answer in time");
        throw timeout;
      }
      try {
        return head.get(Math.min(remaining, check), TimeUnit.NANOSECONDS);
      } catch (TimeoutException quiet) {
        abandonIfGone(up);
      } catch (ExecutionException e) {
        throw failed(up, Objects.requireNonNull(e.getCause(), "get() wraps a cause"));
      }
    }
  }

  /** Writes the answer's chunks as they come, each flushed before the next is read. */
  private void relay(org.eclipse.jetty.client.Request up, Content.Source source)
      throws Exception {
    ChunkReader reader = new ChunkReader(source);
    long silence = upstream.idleTimeout().toNanos() + 1_000_000_000L;
    long quietSince = System.nanoTime();
    while (true) {
      Content.Chunk chunk = reader.next(check);
      if (chunk == null) {
        if (System.nanoTime() - quietSince < silence) {
          abandonIfGone(up);
          continue;
        }
        chunk = Content.Chunk.from(new TimeoutException("silent"), true);
      }
      quietSince = System.nanoTime();
      if (Content.Chunk.isFailure(chunk)) {
        Throwable failure = chunk.getFailure();
        up.abort(failure);
        if (failure instanceof TimeoutException) {
          throw new TimeoutException("the upstream was silent longer than "
              + upstream.idleTimeout().toMillis() + " ms (idle_timeout)");
        }
        throw new UpstreamCall.UpstreamException("the upstream's answer failed");
      }
      try {
        ByteBuffer buffer = chunk.getByteBuffer();
        if (buffer.hasRemaining()) {
          byte[] bytes = new byte[buffer.remaining()];
          buffer.get(bytes);
          digestUsed = true;
          digest.update(bytes, 0, bytes.length);
          try (Blocker.Callback done = Blocker.callback()) {
            response.write(false, ByteBuffer.wrap(bytes), done);
            done.block();
          } catch (IOException gone) {
            up.abort(gone);
            throw new CancellationException("the client went away");
          }
        }
      } finally {
        chunk.release();
      }
      if (chunk.isLast()) {
        return;
      }
    }
  }

  /** Answers the client with the upstream's error, unless it concerns the gateway's key. */
  private int upstreamError(org.eclipse.jetty.client.Request up,
      org.eclipse.jetty.client.Response head, Content.@Nullable Source source) throws Exception {
    byte[] bytes = readAll(up, source, UpstreamCall.MAX_EVENT_BYTES);
    int status = upstreamStatus;
    String message = "the upstream answered " + status;
    boolean generic = !UpstreamCall.passesOn(status, bytes, upstream.apiKey());
    if (status == 401 || status == 403) {
      status = 502;
      message = "the upstream refused the gateway's credentials";
    }
    String retryAfter = head.getHeaders().get(HttpHeader.RETRY_AFTER);
    if (retryAfter != null && status == 429) {
      response.getHeaders().put(HttpHeader.RETRY_AFTER, retryAfter);
    }
    // A body too large to read (null) is never passed on.
    answer(status, generic || bytes == null
        ? JSON.writeValueAsBytes(ApiErrors.body(upstream.api(), status, message, null)) : bytes);
    throw new UpstreamCall.UpstreamException(message);
  }

  private byte @Nullable [] readAll(org.eclipse.jetty.client.Request up,
      Content.@Nullable Source source, int max) throws Exception {
    if (source == null) {
      return new byte[0];
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ChunkReader reader = new ChunkReader(source);
    while (true) {
      Content.Chunk chunk = reader.next(upstream.idleTimeout().toNanos() + 1_000_000_000L);
      if (chunk == null || Content.Chunk.isFailure(chunk)) {
        up.abort(chunk == null ? new TimeoutException("silent") : chunk.getFailure());
        return null;
      }
      try {
        ByteBuffer buffer = chunk.getByteBuffer();
        if (out.size() + buffer.remaining() > max) {
          up.abort(new UpstreamCall.UpstreamException("answer too large"));
          return null;
        }
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        out.write(bytes, 0, bytes.length);
      } finally {
        chunk.release();
      }
      if (chunk.isLast()) {
        return out.toByteArray();
      }
    }
  }

  /** A failure of the upstream request before an answer: too large a body, a timeout, or else. */
  private Exception failed(org.eclipse.jetty.client.Request up, Throwable cause)
      throws Exception {
    up.abort(cause);
    if (body != null && body.tooLarge) {
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
      throw new RefusedException(Refusal.of(Outcome.DENIED, List.of("body-too-large"),
          "the body is larger than " + maxBodyBytes + " bytes (llm.max_body_bytes)"));
    }
    if (cause instanceof TimeoutException) {
      answerError(504, "the upstream did not answer in time");
      return new TimeoutException("the upstream timed out");
    }
    if (watch.gone()) {
      return new CancellationException("the client went away");
    }
    answerError(502, "the upstream could not be reached");
    return new UpstreamCall.UpstreamException("the upstream could not be reached");
  }

  /** Aborts the upstream request and cancels the call when the client went away. */
  private void abandonIfGone(org.eclipse.jetty.client.Request up) {
    // Not while the request body is still being read: the connection is the server's to read.
    if ((body == null || body.done) && watch.gone()) {
      CancellationException gone = new CancellationException("the client went away");
      up.abort(gone);
      throw gone;
    }
  }

  private void answerError(int status, String message) throws IOException {
    answer(status, JSON.writeValueAsBytes(ApiErrors.body(upstream.api(), status, message, null)));
  }

  private void answer(int status, byte[] bytes) throws IOException {
    if (watch.closeAfter()) {
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
    }
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    digestUsed = true;
    digest.update(bytes, 0, bytes.length);
    try (Blocker.Callback done = Blocker.callback()) {
      response.write(true, ByteBuffer.wrap(bytes), done);
      done.block();
    } catch (IOException gone) {
      throw new CancellationException("the client went away");
    }
    answered = true;
  }

  /**
   * The client's request body as the upstream request's content, read chunk by chunk on demand
   * and cut with a failure past {@code max_body_bytes}.
   */
  private final class Body implements org.eclipse.jetty.client.Request.Content {
    volatile long read;
    volatile boolean done;
    volatile boolean tooLarge;

    @Override
    public String getContentType() {
      return request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    }

    @Override
    public long getLength() {
      return request.getLength();
    }

    @Override
    public Content.Chunk read() {
      if (tooLarge) {
        return Content.Chunk.from(new TooLarge(), true);
      }
      Content.Chunk chunk = request.read();
      if (chunk == null || Content.Chunk.isFailure(chunk)) {
        return chunk;
      }
      read += chunk.remaining();
      if (read > maxBodyBytes) {
        chunk.release();
        tooLarge = true;
        return Content.Chunk.from(new TooLarge(), true);
      }
      if (chunk.isLast()) {
        done = true;
      }
      return chunk;
    }

    @Override
    public void demand(Runnable demandCallback) {
      request.demand(demandCallback);
    }

    @Override
    public void fail(Throwable failure) {
      // The upstream request failed: the gateway answers the client itself (and closes the
      // connection when the body was cut), so the client's request is left as it is.
    }

    @Override
    public boolean rewind() {
      return false;
    }
  }

  /** Whether requests of an HTTP method (case-sensitive) are passed through. */
  static boolean passes(String method) {
    return method.equals("GET") || method.equals("POST") || method.equals("DELETE");
  }
}
