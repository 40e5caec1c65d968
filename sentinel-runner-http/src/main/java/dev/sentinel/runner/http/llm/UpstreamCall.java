package dev.sentinel.runner.http.llm;

import dev.sentinel.api.Principal;
import dev.sentinel.api.Request;
import dev.sentinel.core.AuditView;
import dev.sentinel.core.Invoker;
import dev.sentinel.core.audit.CanonicalJson;
import dev.sentinel.core.audit.DigestKey;
import dev.sentinel.core.llm.LlmApi;
import dev.sentinel.core.llm.LlmSettings;
import dev.sentinel.core.llm.LlmUpstream;
import dev.sentinel.core.llm.ModelRequest;
import dev.sentinel.core.llm.TokenBudgets;
import dev.sentinel.core.llm.Usage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.Scheduler;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One model request forwarded to its upstream, once the pipeline allowed it: the invoker of
 * its governed call, and the {@link AuditView} of its record. A whole (non-streamed) answer is
 * forwarded by {@link #start}, the {@link dev.sentinel.core.AsyncInvoker} of a {@code
 * Sentinel.callAsync}: no thread waits for it. A stream is forwarded by {@link #invoke}, the
 * {@link Invoker} of a {@code Sentinel.call}, on the handler's thread.
 *
 * <p>It reserves tokens from the budgets first (refusing with {@code RefusedException} before
 * anything is sent), sends the body as the policy saw it with the gateway's key for the upstream
 * (never the client's credential), and answers the client: a whole answer at once (collected
 * within {@link #MAX_ANSWER_BYTES}), or a stream event by event, each written and flushed before
 * the next is read, with a comment after {@code keep_alive} of upstream silence. A client that
 * goes away aborts the upstream request: a stream finds out when a write fails, a whole answer by
 * {@linkplain ClientWatch watching} the client every {@link #CLIENT_CHECK} (or {@code
 * keep_alive}, when shorter) on the upstream client's scheduler while it waits. Upstream errors,
 * timeouts and invalid streams become the API's error answer or error event; the call then ends
 * with {@link UpstreamException}, {@link TimeoutException} or {@link CancellationException} so
 * that the record says how it ended.
 *
 * <p>One per request: a stream is used by the thread that handles it; a whole answer by that
 * thread until it is sent, then by the upstream client's listeners and scheduler, which {@link
 * Whole} orders.
 */
final class UpstreamCall implements Invoker<Integer>, AuditView {
  /** The largest single event of a stream, and the largest error answer kept. */
  static final int MAX_EVENT_BYTES = 1 << 20;
  /** The largest whole (non-streamed) answer. */
  static final int MAX_ANSWER_BYTES = 32 << 20;
  /** How often a whole answer's wait looks whether its client is still there, at most. */
  static final java.time.Duration CLIENT_CHECK = java.time.Duration.ofSeconds(1);
  private static final String DEFAULT_ANTHROPIC_VERSION = "2023-06-01";
  private static final byte[] KEEP_ALIVE = ": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** The upstream answered with an error, could not be reached, or broke its stream. */
  static final class UpstreamException extends Exception {
    private static final long serialVersionUID = 1L;

    UpstreamException(String message) {
      super(message, null, false, false);
    }
  }

  private final HttpClient client;
  private final java.net.URI url;
  private final LlmRoute route;
  private final LlmUpstream upstream;
  private final LlmSettings settings;
  private final ModelRequest request;
  private final String modelRequested;
  private final boolean usageInjected;
  private final HttpFields clientHeaders;
  private final Response response;
  private final ClientWatch watch;
  private final Principal principal;
  private final TokenBudgets budgets;
  private final DigestKey.ByteDigest digest;
  private final Usage usage = new Usage();
  private long started = -1;
  private long ttftNanos = -1;
  private int upstreamStatus = -1;
  private boolean streamCommitted;
  /** Whether any byte of the answer went through {@link #digest}. */
  private boolean digestUsed;
  /** The answer's digest, once it is known; null when none was taken. */
  private @Nullable String responseDigest;
  private long responseSize = -1;

  UpstreamCall(HttpClient client, java.net.URI url, LlmRoute route, LlmUpstream upstream,
      LlmSettings settings, ModelRequest request, String modelRequested, boolean usageInjected,
      HttpFields clientHeaders, Response response, ClientWatch watch, Principal principal,
      TokenBudgets budgets, DigestKey digestKey) {
    this.client = client;
    this.url = url;
    this.route = route;
    this.upstream = upstream;
    this.settings = settings;
    this.request = request;
    this.modelRequested = modelRequested;
    this.usageInjected = usageInjected;
    this.clientHeaders = clientHeaders;
    this.response = response;
    this.watch = watch;
    this.principal = principal;
    this.budgets = budgets;
    this.digest = digestKey.bytes();
  }

  Usage usage() {
    return usage;
  }

  long ttftNanos() {
    return ttftNanos;
  }

  // ---- the audit view ------------------------------------------------------------------------

  @Override
  public JsonNode arguments(Request ignored) {
    ObjectNode out = JSON.createObjectNode();
    out.put("route", route.path());
    out.put("model_requested", modelRequested);
    out.put("model", request.model());
    out.put("upstream", upstream.name());
    out.set("request", request.summary());
    if (usageInjected) {
      out.put("usage_requested_by_gateway", true);
    }
    if (upstreamStatus >= 0) {
      out.put("status", upstreamStatus);
    }
    if (usage.known()) {
      out.set("usage", usage.toJson());
    }
    if (ttftNanos >= 0) {
      out.put("ttft_ms", ttftNanos / 1_000_000.0);
    }
    if (settings.auditBodies() == LlmSettings.AuditBodies.REDACTED) {
      out.set("body", request.json());
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

  /**
   * Forwards a streamed request, answering on the calling thread (a whole answer is forwarded by
   * {@link #start}).
   */
  @Override
  public Integer invoke(Request governed) throws Exception {
    if (!request.stream()) {
      throw new IllegalStateException("a whole answer is forwarded by start()");
    }
    TokenBudgets.Reservation reservation = reserve();
    boolean ok = false;
    try {
      int status = forward();
      ok = true;
      return status;
    } finally {
      settle(reservation, ok);
    }
  }

  /** Reserves the request's tokens from the budgets that charge it; null when none does. */
  private TokenBudgets.@Nullable Reservation reserve() throws Exception {
    if (budgets.any() && route.chargesTokens()) {
      long tokens = request.maxTokens().orElse(settings.defaultReservation());
      return budgets.reserve(principal, request.model(), tokens);
    }
    return null;
  }

  /** Settles the reservation with what the upstream used, and closes the answer's digest. */
  private void settle(TokenBudgets.@Nullable Reservation reservation, boolean ok) {
    if (reservation != null) {
      // Nothing was produced by an upstream that refused; unknown usage keeps the reservation.
      reservation.settle(usage.known() ? usage.total()
          : upstreamStatus >= 300 || (upstreamStatus < 0 && !ok) ? 0 : -1);
    }
    if (digestUsed) {
      CanonicalJson.Digest finished = digest.finish();
      responseSize = finished.size();
      responseDigest = finished.digest();
    }
  }

  /**
   * Forwards a request whose answer is whole (not streamed) without a thread waiting for it: the
   * {@link dev.sentinel.core.AsyncInvoker} of its {@code Sentinel.callAsync}. Reserves tokens on
   * the calling thread (a refusal is thrown, before anything is sent), sends, and returns; the
   * answer is collected by the upstream client's listeners within {@link #MAX_ANSWER_BYTES},
   * {@code first_byte_timeout} and the client watch run on the client's scheduler, and the
   * client's answer is written when the upstream's is complete. The stage completes once that
   * write is done: with the upstream's status, or as {@link #invoke} would have thrown.
   */
  CompletableFuture<Integer> start(Request governed) throws Exception {
    if (request.stream()) {
      throw new IllegalStateException("a stream is forwarded by invoke()");
    }
    Whole whole = new Whole(reserve());
    whole.send();
    return whole.result;
  }

  /**
   * One whole answer on its way: the upstream client's listeners collect it, a tick on the
   * client's scheduler enforces {@code first_byte_timeout} and watches the client, and the
   * completion answers the client and completes {@link #result}. Jetty calls the listeners one
   * at a time (the content listener before the completion); the tick and the completion meet
   * under {@link #lock}, so that the client's connection is never probed once the answer is
   * being written.
   */
  private final class Whole implements Runnable, org.eclipse.jetty.client.Response.Listener {
    final CompletableFuture<Integer> result = new CompletableFuture<>();
    private final TokenBudgets.@Nullable Reservation reservation;
    private final org.eclipse.jetty.client.Request up;
    private final Scheduler scheduler = client.getScheduler();
    private final long check = Math.min(settings.keepAlive().toNanos(), CLIENT_CHECK.toNanos());
    private final Object lock = new Object();
    /** Whether the answer is being written (or nothing is to be): the tick stops. */
    private boolean done;
    private Scheduler.@Nullable Task tick;
    /** The failure the tick aborted the upstream request with, if it did. */
    private volatile @Nullable Exception aborted;
    private volatile boolean headed;
    private long deadline;
    // Written by the listeners, read by the completion: Jetty orders them.
    private byte[] bytes = new byte[0];
    private int size;
    private int max = MAX_ANSWER_BYTES;
    private boolean tooLarge;
    private final java.util.concurrent.atomic.AtomicBoolean ended =
        new java.util.concurrent.atomic.AtomicBoolean();

    Whole(TokenBudgets.@Nullable Reservation reservation) {
      this.reservation = reservation;
      this.up = client.newRequest(url)
          .method(route.get() ? HttpMethod.GET : HttpMethod.POST)
          .headers(UpstreamCall.this::upstreamHeaders)
          .idleTimeout(upstream.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
      if (!route.get()) {
        up.body(new BytesRequestContent("application/json", request.body()));
      }
    }

    void send() {
      started = System.nanoTime();
      deadline = started + upstream.firstByteTimeout().toNanos();
      synchronized (lock) {
        schedule(started);
      }
      up.send(this);
    }

    /** Schedules the next tick; under the lock. */
    private void schedule(long now) {
      long next = headed ? check : Math.min(check, deadline - now);
      tick = scheduler.schedule(this, Math.max(0, next), TimeUnit.NANOSECONDS);
    }

    /** The tick: the first byte's deadline, and whether the client is still there. */
    @Override
    public void run() {
      Exception abort = null;
      synchronized (lock) {
        if (done) {
          return;
        }
        long now = System.nanoTime();
        if (!headed && now - deadline >= 0) {
          abort = new TimeoutException("the upstream did not answer within "
              + upstream.firstByteTimeout().toMillis() + " ms (first_byte_timeout)");
        } else if (watch.gone()) {
          // Nobody would read the answer, and the upstream would go on producing (and charging
          // for) it.
          abort = new CancellationException("the client went away");
        } else {
          schedule(now);
          return;
        }
        aborted = abort;
      }
      up.abort(abort);
    }

    /** Stops the tick; after this the client's connection is the answer's alone. */
    private void stop() {
      synchronized (lock) {
        done = true;
        if (tick != null) {
          tick.cancel();
        }
      }
    }

    @Override
    public void onHeaders(org.eclipse.jetty.client.Response answer) {
      upstreamStatus = answer.getStatus();
      headed = true;
      max = upstreamStatus >= 200 && upstreamStatus < 300 ? MAX_ANSWER_BYTES : MAX_EVENT_BYTES;
      long length = answer.getHeaders().getLongField(HttpHeader.CONTENT_LENGTH);
      if (length > 0 && length <= max) {
        bytes = new byte[(int) length];
      }
    }

    @Override
    public void onContent(org.eclipse.jetty.client.Response answer, ByteBuffer content) {
      int n = content.remaining();
      if (n == 0 || tooLarge) {
        return;
      }
      if (ttftNanos < 0) {
        ttftNanos = System.nanoTime() - started;
      }
      if (n > max - size) {
        tooLarge = true;
        // Cut, so that the connection is not left half read.
        up.abort(new UpstreamException("answer too large"));
        return;
      }
      if (size + n > bytes.length) {
        bytes = java.util.Arrays.copyOf(bytes,
            (int) Math.min(max, Math.max(size + n, 2L * bytes.length + 1024)));
      }
      content.get(bytes, size, n);
      size += n;
    }

    @Override
    public void onComplete(org.eclipse.jetty.client.Result outcome) {
      stop();
      try {
        complete(outcome);
      } catch (RuntimeException | Error e) {
        end(e instanceof Exception x ? x : new UpstreamException("failed: " + e));
      }
    }

    private void complete(org.eclipse.jetty.client.Result outcome) {
      Throwable failure = outcome.getFailure();
      boolean ok = upstreamStatus >= 200 && upstreamStatus < 300;
      if (failure == null || (tooLarge && !ok)) {
        byte[] body = tooLarge ? null : size == bytes.length ? bytes
            : java.util.Arrays.copyOf(bytes, size);
        if (ok) {
          answered(body == null ? new byte[0] : body, outcome.getResponse());
        } else {
          upstreamError(body, outcome.getResponse());
        }
        return;
      }
      if (tooLarge) {
        error(502, "the upstream's answer is larger than " + (MAX_ANSWER_BYTES >> 20) + " MiB",
            new UpstreamException("the upstream's answer is larger than "
                + (MAX_ANSWER_BYTES >> 20) + " MiB"));
        return;
      }
      Exception tick = aborted;
      if (tick instanceof CancellationException gone) {
        end(gone); // nobody to answer
        return;
      }
      if (tick instanceof TimeoutException firstByte) {
        error(504, "the upstream did not answer in time", firstByte);
        return;
      }
      if (failure instanceof TimeoutException) {
        if (headed) {
          error(504, "the upstream stopped answering", new TimeoutException("the upstream was"
              + " silent longer than " + upstream.idleTimeout().toMillis()
              + " ms (idle_timeout)"));
        } else {
          error(504, "the upstream did not answer in time",
              new TimeoutException(failure.getMessage()));
        }
        return;
      }
      String message = headed ? "the upstream's answer failed" : "the upstream could not be reached";
      error(502, message, new UpstreamException(message));
    }

    /** A whole answer: its usage noted, passed on as it came. */
    private void answered(byte[] body, org.eclipse.jetty.client.Response answer) {
      // Passed on as it came; an answer that is not JSON has no usage to count.
      UsageScan.read(body, usage);
      String type = answer.getHeaders().get(HttpHeader.CONTENT_TYPE);
      reply(upstreamStatus, type == null ? "application/json" : type, body, null);
    }

    /** The upstream's error, in the route's API shape ({@link #errorAnswer}). */
    private void upstreamError(byte @Nullable [] body, org.eclipse.jetty.client.Response answer) {
      ErrorAnswer error = errorAnswer(body, answer);
      reply(error.status(), "application/json", error.body(), new UpstreamException(error.message()));
    }

    private void error(int status, String message, Exception then) {
      reply(status, "application/json",
          JSON.writeValueAsBytes(ApiErrors.body(route.api(), status, message, null)), then);
    }

    /**
     * Writes the client's answer, then ends the call: as {@code then} says, or cancelled when
     * the client is gone.
     */
    private void reply(int status, String type, byte[] body, @Nullable Exception then) {
      response.write(true, whole(status, type, body), org.eclipse.jetty.util.Callback.from(
          Invocable.InvocationType.NON_BLOCKING, () -> end(then),
          gone -> end(new CancellationException("the client went away"))));
    }

    /** Settles the budgets and completes the call's stage, once. */
    private void end(@Nullable Exception failure) {
      if (ended.getAndSet(true)) {
        return;
      }
      try {
        settle(reservation, failure == null);
      } finally {
        if (failure == null) {
          result.complete(upstreamStatus);
        } else {
          result.completeExceptionally(failure);
        }
      }
    }
  }

  private int forward() throws Exception {
    CompletableFuture<org.eclipse.jetty.client.Response> head = new CompletableFuture<>();
    CompletableFuture<Content.Source> body = new CompletableFuture<>();
    org.eclipse.jetty.client.Request up = client.newRequest(url)
        .method(route.get() ? HttpMethod.GET : HttpMethod.POST)
        .headers(this::upstreamHeaders)
        .idleTimeout(upstream.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .onResponseHeaders(head::complete)
        .onResponseContentSource((r, source) -> body.complete(source));
    if (!route.get()) {
      up.body(new BytesRequestContent("application/json", request.body()));
    }
    started = System.nanoTime();
    up.send(result -> {
      if (result.isFailed()) {
        head.completeExceptionally(result.getFailure());
        body.completeExceptionally(result.getFailure());
      } else {
        body.complete(null); // no content
      }
    });
    org.eclipse.jetty.client.Response answer = awaitHead(up, head);
    upstreamStatus = answer.getStatus();
    Content.@Nullable Source source; // null when the answer has no content
    try {
      source = body.get();
    } catch (ExecutionException e) {
      throw fail(up, 502, "the upstream's answer failed", e.getCause());
    }
    if (upstreamStatus < 200 || upstreamStatus >= 300) {
      return upstreamError(up, answer, source);
    }
    return stream(up, answer, source);
  }

  private void upstreamHeaders(HttpFields.Mutable headers) {
    // An allow-list: the client's credential, cookies and everything else stay behind.
    headers.put(HttpHeader.CONTENT_TYPE, "application/json");
    headers.put(HttpHeader.ACCEPT, request.stream() ? "text/event-stream" : "application/json");
    if (upstream.api() == LlmApi.ANTHROPIC) {
      String version = clientHeaders.get("anthropic-version");
      headers.put("anthropic-version", version == null ? DEFAULT_ANTHROPIC_VERSION : version);
      String beta = clientHeaders.get("anthropic-beta");
      if (beta != null) {
        headers.put("anthropic-beta", beta);
      }
    }
    addCredential(headers, upstream);
  }

  /**
   * The upstream's status and headers, waiting up to {@code first_byte_timeout}; the client's
   * stream is opened and gets a comment every {@code keep_alive} meanwhile.
   */
  private org.eclipse.jetty.client.Response awaitHead(
      org.eclipse.jetty.client.Request up, CompletableFuture<org.eclipse.jetty.client.Response> head)
      throws Exception {
    long deadline = started + upstream.firstByteTimeout().toNanos();
    long keepAlive = settings.keepAlive().toNanos();
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
        return head.get(Math.min(remaining, keepAlive), TimeUnit.NANOSECONDS);
      } catch (TimeoutException quiet) {
        commitStream();
        write(up, KEEP_ALIVE, 0, KEEP_ALIVE.length, false);
      } catch (ExecutionException e) {
        throw fail(up, 502, "the upstream could not be reached", e.getCause());
      }
    }
  }

  /** Answers the client with the upstream's error, in the route's API shape. */
  private int upstreamError(org.eclipse.jetty.client.Request up,
      org.eclipse.jetty.client.Response answer, Content.@Nullable Source source)
      throws Exception {
    byte[] bytes = readAll(up, source, MAX_EVENT_BYTES);
    String message = "the upstream answered " + upstreamStatus;
    if (streamCommitted) {
      writeEvent(up, ApiErrors.event(route.api(), 502, message));
      finish(up);
      throw new UpstreamException(message);
    }
    ErrorAnswer error = errorAnswer(bytes, answer);
    answer(error.status(), "application/json", error.body());
    throw new UpstreamException(error.message());
  }

  /** What the client gets for an upstream's error answer. */
  private record ErrorAnswer(int status, String message, byte[] body) {}

  /**
   * The upstream's error answer as the client gets it, in the route's API shape: its body when
   * it may pass on ({@link #passesOn}), else a generic one; a refusal of the gateway's key is a
   * 502 (not the client's business, and its text may quote the key). Sets {@code Retry-After}
   * on a 429 that has one.
   */
  private ErrorAnswer errorAnswer(byte @Nullable [] body, org.eclipse.jetty.client.Response answer) {
    String message = "the upstream answered " + upstreamStatus;
    int status = upstreamStatus;
    boolean generic = !passesOn(status, body, upstream.apiKey());
    if (status == 401 || status == 403) {
      status = 502;
      message = "the upstream refused the gateway's credentials";
    }
    String retryAfter = answer.getHeaders().get(HttpHeader.RETRY_AFTER);
    if (retryAfter != null && status == 429) {
      response.getHeaders().put(HttpHeader.RETRY_AFTER, retryAfter);
    }
    // A body too large to read (null) is never passed on.
    byte[] out = generic || body == null
        ? JSON.writeValueAsBytes(ApiErrors.body(route.api(), status, message, null)) : body;
    return new ErrorAnswer(status, message, out);
  }

  /** A stream: event by event, with keep-alives while the upstream is silent. */
  private int stream(org.eclipse.jetty.client.Request up, org.eclipse.jetty.client.Response answer,
      Content.@Nullable Source source) throws Exception {
    commitStream();
    if (source == null) {
      finish(up);
      return upstreamStatus;
    }
    ChunkReader reader = new ChunkReader(source);
    Events events = new Events();
    long keepAlive = settings.keepAlive().toNanos();
    while (true) {
      Content.Chunk chunk = reader.next(keepAlive);
      if (chunk == null) {
        write(up, KEEP_ALIVE, 0, KEEP_ALIVE.length, false);
        continue;
      }
      if (Content.Chunk.isFailure(chunk)) {
        Throwable failure = chunk.getFailure();
        if (failure instanceof TimeoutException) {
          writeEvent(up, ApiErrors.event(route.api(), 504, "the upstream stopped answering"));
          finish(up);
          throw new TimeoutException("the upstream was silent longer than "
              + upstream.idleTimeout().toMillis() + " ms (idle_timeout)");
        }
        writeEvent(up, ApiErrors.event(route.api(), 502, "the upstream's stream failed"));
        finish(up);
        throw new UpstreamException("the upstream's stream failed");
      }
      try {
        ByteBuffer buffer = chunk.getByteBuffer();
        if (ttftNanos < 0 && buffer.hasRemaining()) {
          ttftNanos = System.nanoTime() - started;
        }
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        if (!events.feed(up, bytes)) {
          return invalidStream(up);
        }
      } finally {
        chunk.release();
      }
      if (chunk.isLast()) {
        break;
      }
    }
    if (!events.drained()) {
      return invalidStream(up);
    }
    finish(up);
    return upstreamStatus;
  }

  private int invalidStream(org.eclipse.jetty.client.Request up) throws Exception {
    up.abort(new UpstreamException("invalid SSE"));
    writeEvent(up, ApiErrors.event(route.api(), 502, "the upstream sent an invalid event stream"));
    finish(up);
    throw new UpstreamException("the upstream sent an invalid event stream");
  }

  /**
   * The events of a stream: bytes are held until an event is complete (a blank line), then the
   * event is checked and written. Holds at most one event.
   */
  private final class Events {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    /** Adds bytes, writing every event they complete; false for an invalid stream. */
    boolean feed(org.eclipse.jetty.client.Request up, byte[] bytes) throws Exception {
      pending.write(bytes, 0, bytes.length);
      byte[] held = pending.toByteArray();
      int start = 0;
      int line = 0;
      for (int i = 0; i < held.length; i++) {
        byte b = held[i];
        if (b != '\n' && b != '\r') {
          continue;
        }
        int next;
        if (b == '\r') {
          if (i + 1 == held.length) {
            break; // a CR at the end may be followed by its LF
          }
          next = held[i + 1] == '\n' ? i + 2 : i + 1;
        } else {
          next = i + 1;
        }
        if (line == i) {
          // a blank line: the event [start, next) is complete
          if (!event(up, held, start, next)) {
            return false;
          }
          start = next;
        }
        line = next;
        i = next - 1;
      }
      pending.reset();
      pending.write(held, start, held.length - start);
      return pending.size() <= MAX_EVENT_BYTES;
    }

    /** Whether nothing but blank space is left unwritten at the end of the stream. */
    boolean drained() {
      for (byte b : pending.toByteArray()) {
        if (b != '\n' && b != '\r' && b != ' ') {
          return false;
        }
      }
      return true;
    }

    private boolean event(org.eclipse.jetty.client.Request up, byte[] held, int start, int end)
        throws Exception {
      String text = new String(held, start, end - start, StandardCharsets.UTF_8);
      StringBuilder data = null;
      for (String field : text.split("\r\n|\r|\n")) {
        if (field.startsWith("data:")) {
          String value = field.substring(5);
          value = value.startsWith(" ") ? value.substring(1) : value;
          data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
        }
      }
      if (data != null && !data.toString().equals("[DONE]")) {
        JsonNode json;
        try {
          json = JSON.readTree(data.toString());
        } catch (JacksonException e) {
          return false;
        }
        if (json == null || !json.isObject()) {
          return false;
        }
        usage.read(json);
        JsonNode choices = json.get("choices");
        if (usageInjected && choices != null && choices.isArray() && choices.isEmpty()
            && json.has("usage")) {
          return true; // the usage chunk the gateway asked for; the client did not
        }
      }
      write(up, held, start, end - start, true);
      return true;
    }
  }

  /**
   * All the bytes of a source, or {@code null} when there are more than {@code max} (the
   * request is then aborted, so that its connection is not left half read).
   */
  private byte @Nullable [] readAll(org.eclipse.jetty.client.Request up,
      Content.@Nullable Source source, int max) throws Exception {
    if (source == null) {
      return new byte[0];
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ChunkReader reader = new ChunkReader(source);
    // Jetty's idle timeout bounds the silence (a failure chunk ends the wait); this is a backstop.
    long silence = upstream.idleTimeout().toNanos() + 1_000_000_000L;
    long check = Math.min(settings.keepAlive().toNanos(), CLIENT_CHECK.toNanos());
    long quietSince = System.nanoTime();
    while (true) {
      Content.Chunk chunk = reader.next(check);
      if (chunk == null && System.nanoTime() - quietSince < silence) {
        abandonIfGone(up);
        continue;
      }
      quietSince = System.nanoTime();
      if (chunk == null || Content.Chunk.isFailure(chunk)) {
        Throwable failure = chunk == null ? new TimeoutException("silent") : chunk.getFailure();
        if (failure instanceof TimeoutException) {
          up.abort(failure);
          answerError(504, "the upstream stopped answering");
          throw new TimeoutException("the upstream was silent longer than "
              + upstream.idleTimeout().toMillis() + " ms (idle_timeout)");
        }
        throw fail(up, 502, "the upstream's answer failed", failure);
      }
      try {
        ByteBuffer buffer = chunk.getByteBuffer();
        if (ttftNanos < 0 && buffer.hasRemaining()) {
          ttftNanos = System.nanoTime() - started;
        }
        if (out.size() + buffer.remaining() > max) {
          up.abort(new UpstreamException("answer too large"));
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

  /**
   * Aborts the upstream request and cancels the call when the client of a whole answer went
   * away: nobody would read the answer, and the upstream would go on producing (and charging
   * for) it.
   */
  private void abandonIfGone(org.eclipse.jetty.client.Request up) throws CancellationException {
    if (watch.gone()) {
      CancellationException gone = new CancellationException("the client went away");
      up.abort(gone);
      throw gone;
    }
  }

  /**
   * Whether an upstream's error body may reach the client as it is (the model route's and the
   * passthrough's one rule): a JSON object, not a refusal of the gateway's own credential (401,
   * 403), and never quoting the gateway's key; else the client gets a generic error of the API's
   * shape.
   */
  static boolean passesOn(int status, byte @Nullable [] body, @Nullable String apiKey) {
    return body != null && status != 401 && status != 403
        && (apiKey == null || !new String(body, StandardCharsets.UTF_8).contains(apiKey))
        && isJsonObject(body);
  }

  private static boolean isJsonObject(byte[] bytes) {
    try {
      JsonNode node = JSON.readTree(bytes);
      return node != null && node.isObject();
    } catch (JacksonException e) {
      return false;
    }
  }

  /** Adds the gateway's own credential for the upstream, as its API takes it (none without a key). */
  static void addCredential(HttpFields.Mutable headers, LlmUpstream upstream) {
    String key = upstream.apiKey();
    if (key == null) {
      return;
    }
    if (upstream.api() == LlmApi.ANTHROPIC) {
      headers.put("x-api-key", key);
    } else {
      headers.put(HttpHeader.AUTHORIZATION, "Bearer " + key);
    }
  }

  // ---- answering the client -------------------------------------------------------------------

  private Exception fail(org.eclipse.jetty.client.Request up, int status, String message,
      @Nullable Throwable cause) throws Exception {
    up.abort(cause != null ? cause : new UpstreamException(message));
    if (cause instanceof TimeoutException) {
      answerError(504, "the upstream did not answer in time");
      return new TimeoutException(message);
    }
    answerError(status, message);
    return new UpstreamException(message);
  }

  /** An error in the API's shape: an answer, or an event when the stream has begun. */
  private void answerError(int status, String message) throws IOException {
    if (streamCommitted) {
      byte[] event = ApiErrors.event(route.api(), status, message);
      try (Blocker.Callback done = Blocker.callback()) {
        response.write(true, ByteBuffer.wrap(event), done);
        done.block();
      }
      return;
    }
    answer(status, "application/json",
        JSON.writeValueAsBytes(ApiErrors.body(route.api(), status, message, null)));
  }

  /**
   * Sets the status and headers of a whole answer to the client, digests its body for the
   * record, and returns the body to write.
   */
  private ByteBuffer whole(int status, String type, byte[] body) {
    if (watch.closeAfter()) {
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
    }
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    digestUsed = true;
    digest.update(body, 0, body.length);
    return ByteBuffer.wrap(body);
  }

  private void answer(int status, String type, byte[] bytes) throws IOException {
    try (Blocker.Callback done = Blocker.callback()) {
      response.write(true, whole(status, type, bytes), done);
      done.block();
    } catch (IOException gone) {
      throw new CancellationException("the client went away");
    }
  }

  private void commitStream() {
    if (streamCommitted) {
      return;
    }
    streamCommitted = true;
    response.setStatus(200);
    HttpFields.Mutable headers = response.getHeaders();
    headers.put(HttpHeader.CONTENT_TYPE, "text/event-stream");
    headers.put(HttpHeader.CACHE_CONTROL, "no-cache");
    // Proxies such as nginx buffer responses unless told not to.
    headers.put(new HttpField("X-Accel-Buffering", "no"));
  }

  private void writeEvent(org.eclipse.jetty.client.Request up, byte[] event) throws Exception {
    write(up, event, 0, event.length, true);
  }

  /**
   * Writes and flushes bytes of the stream, blocking until they are written; a client that went
   * away aborts the upstream request and cancels the call.
   */
  private void write(org.eclipse.jetty.client.Request up, byte[] bytes, int offset, int length,
      boolean digested) throws CancellationException {
    if (digested) {
      digestUsed = true;
      digest.update(bytes, offset, length);
    }
    try (Blocker.Callback done = Blocker.callback()) {
      response.write(false, ByteBuffer.wrap(bytes, offset, length), done);
      done.block();
    } catch (IOException gone) {
      up.abort(gone);
      throw new CancellationException("the client went away");
    }
  }

  private void finish(org.eclipse.jetty.client.Request up) throws CancellationException {
    try (Blocker.Callback done = Blocker.callback()) {
      response.write(true, null, done);
      done.block();
    } catch (IOException gone) {
      up.abort(gone);
      throw new CancellationException("the client went away");
    }
  }
}
