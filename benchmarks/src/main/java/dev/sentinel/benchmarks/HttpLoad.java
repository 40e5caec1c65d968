package dev.sentinel.benchmarks;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A load generator for MCP servers over Streamable HTTP, closed loop or paced. Each of N sessions
 * sends {@code initialize}, then {@code notifications/initialized}, then {@code tools/call} after
 * {@code tools/call}: in the closed loop each as soon as the previous answer arrived; paced
 * ({@link Settings#rate} &gt; 0, open loop) each at its scheduled time (see {@link Pacer}: a
 * total rate spread over the sessions; a call whose session is still waiting when it is due is
 * counted as late, sent when the answer arrives, and its latency counts from the scheduled
 * time, so a stall is not hidden by the calls it delayed). Requests carry the spec's headers
 * ({@code Mcp-Session-Id} from the {@code initialize} answer when the server gives one,
 * {@code MCP-Protocol-Version} as negotiated, {@code Accept: application/json,
 * text/event-stream}) and optionally {@code X-API-Key}. Answers may be JSON or an event stream
 * (the answer is the {@code data} event carrying the request's id).
 *
 * <p>A session of a stateless revision ({@link Settings#stateless}: MCP 2026-07-28) sends no
 * {@code initialize} and has no session id: each {@code tools/call} stands alone, with
 * {@code params._meta} naming the protocol version, the client's capabilities and its info, and
 * the headers that mirror the body ({@code MCP-Protocol-Version}, {@code Mcp-Method},
 * {@code Mcp-Name}). Its answers must also say {@code "resultType":"complete"}, which only a
 * server that served the request statelessly writes; an answer without it is a failure.
 *
 * <p>Closed loop: calls that start after the warm-up and end before the end of the measured window
 * are measured. Paced: calls scheduled inside the window are measured (their answers may arrive
 * after it), and their count over the window is the achieved rate. Either way their count gives
 * calls per second and their round trips (from just before the request is handed to the client,
 * or from the scheduled time for a late paced call, to its complete answer) the percentiles.
 * Every failure is
 * counted: an HTTP status other than 200, a JSON-RPC error, an {@code isError} result, an answer
 * without the expected text, a timeout, a refused connection, and a session that cannot be
 * initialized (it is retried after 100 ms, and each failed attempt counts). A session whose
 * {@code tools/call} gets {@code 404} (its session ended) initializes again.
 *
 * <p>It uses Jetty's asynchronous {@link HttpClient} (one selector, a few threads, no thread per
 * session): on a 2-core machine the generator shares the CPUs with what it measures, and Jetty's
 * client costs less CPU per call than the JDK's {@code java.net.http} client, which hands every
 * exchange between its selector thread and executor more often. Thread-safe: {@link #run} may
 * be called from any thread; one run at a time per instance is the intended use.
 */
final class HttpLoad {
  private static final String ACCEPT = "application/json, text/event-stream";
  private static final int MAX_BODY = 4 << 20;
  private static final int ERROR_SAMPLES = 5;
  /** The revisions whose clients are stateless: no {@code initialize}, no session. */
  static final java.util.Set<String> STATELESS_REVISIONS = java.util.Set.of("2026-07-28");
  private static final String COMPLETE = "\"resultType\":\"complete\"";

  private HttpLoad() {}

  /**
   * What to run.
   *
   * @param endpoint the MCP endpoint URL
   * @param sessions concurrent sessions (closed loop: one call in flight each)
   * @param warmup how long to call before measuring
   * @param measure the measured window
   * @param apiKey sent as {@code X-API-Key} when not null
   * @param tool the tool to call
   * @param arguments the call's arguments, raw JSON
   * @param expect text every answer must contain
   * @param protocolVersion the revision asked for in {@code initialize}, or, for a stateless
   *     revision ({@link #STATELESS_REVISIONS}), the one every request names
   * @param timeout how long one request may take before it counts as failed
   * @param rate the total target rate in calls per second spread over the sessions (open loop,
   *     see {@link Pacer}), or 0 for the closed loop
   */
  record Settings(URI endpoint, int sessions, Duration warmup, Duration measure, String apiKey,
      String tool, String arguments, String expect, String protocolVersion, Duration timeout,
      double rate) {
    /** Validates. */
    Settings {
      Objects.requireNonNull(endpoint, "endpoint");
      if (sessions < 1) {
        throw new IllegalArgumentException("sessions must be at least 1: " + sessions);
      }
      if (warmup.isNegative() || measure.isNegative() || measure.isZero()) {
        throw new IllegalArgumentException("warm-up must be >= 0 and the window > 0");
      }
      Objects.requireNonNull(tool, "tool");
      Objects.requireNonNull(arguments, "arguments");
      Objects.requireNonNull(expect, "expect");
      Objects.requireNonNull(protocolVersion, "protocolVersion");
      Objects.requireNonNull(timeout, "timeout");
      if (!(rate >= 0) || Double.isInfinite(rate)) {
        throw new IllegalArgumentException("rate must be >= 0 calls/s (0: closed loop): " + rate);
      }
    }

    /** Whether the client is stateless (MCP 2026-07-28): no initialize, no session. */
    boolean stateless() {
      return STATELESS_REVISIONS.contains(protocolVersion);
    }

    /** Whether calls are paced (open loop) rather than sent as answers arrive. */
    boolean paced() {
      return rate > 0;
    }

    /** The same paced at {@code callsPerSecond} in total (0: closed loop). */
    Settings withRate(double callsPerSecond) {
      return new Settings(endpoint, sessions, warmup, measure, apiKey, tool, arguments, expect,
          protocolVersion, timeout, callsPerSecond);
    }

    /** Echo calls with the given text, protocol 2025-06-18, a 30 s timeout, no key. */
    static Settings echo(URI endpoint, int sessions, Duration warmup, Duration measure,
        String text) {
      return new Settings(endpoint, sessions, warmup, measure, null, "echo",
          "{\"text\":\"" + text + "\"}", text, "2025-06-18", Duration.ofSeconds(30), 0);
    }

    /** The same with an API key. */
    Settings withApiKey(String key) {
      return new Settings(endpoint, sessions, warmup, measure, key, tool, arguments, expect,
          protocolVersion, timeout, rate);
    }

    /** The same with another protocol revision (2026-07-28: stateless requests). */
    Settings withProtocolVersion(String version) {
      return new Settings(endpoint, sessions, warmup, measure, apiKey, tool, arguments, expect,
          version, timeout, rate);
    }

    /** The same with another tool name (a gateway may prefix it). */
    Settings withTool(String name) {
      return new Settings(endpoint, sessions, warmup, measure, apiKey, name, arguments, expect,
          protocolVersion, timeout, rate);
    }
  }

  /**
   * What a run measured.
   *
   * @param calls measured calls (successful, inside the window)
   * @param seconds the measured window's length
   * @param callsPerSecond {@code calls / seconds}
   * @param latency order statistics of the measured calls, null when there were none
   * @param errors every failure counted, warm-up and window alike
   * @param errorsInWindow failures of calls that started inside the window
   * @param sessionFailures failed {@code initialize} attempts (also in {@code errors})
   * @param totalCalls successful calls, warm-up included
   * @param errorSamples the first few failures, described
   * @param stats the measured samples, for merging runs
   * @param targetRate the paced target rate in calls/s, 0 for the closed loop
   * @param late paced calls of the window that could not start on time because their session
   *     was still waiting for the previous answer (their latency counts from the scheduled time)
   */
  record Outcome(long calls, double seconds, double callsPerSecond, LatencyStats.Summary latency,
      long errors, long errorsInWindow, long sessionFailures, long totalCalls,
      List<String> errorSamples, LatencyStats stats, double targetRate, long late) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s%d calls in %.1f s = %.0f calls/s; %s; %d errors"
              + " (%d in window, %d failed initializations)%s",
          targetRate > 0 ? String.format(Locale.ROOT, "paced at %.0f/s, %d late: ", targetRate,
              late) : "", calls, seconds, callsPerSecond,
          latency == null ? "no samples" : latency.toString(), errors, errorsInWindow,
          sessionFailures, errorSamples.isEmpty() ? "" : "; first: " + errorSamples);
    }
  }

  /** Runs the load and returns what was measured; never throws for a failing server. */
  static Outcome run(Settings settings) throws Exception {
    QueuedThreadPool threads = new QueuedThreadPool(8, 2);
    threads.setName("http-load");
    threads.setDaemon(true);
    HttpClient client = new HttpClient();
    client.setExecutor(threads);
    client.setFollowRedirects(false);
    client.setMaxConnectionsPerDestination(settings.sessions() * 2 + 4);
    client.setMaxRequestsQueuedPerDestination(settings.sessions() * 4 + 16);
    client.setUserAgentField(null);
    ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "http-load-retry");
      t.setDaemon(true);
      return t;
    });
    client.start();
    try {
      Run run = new Run(settings, client, retries);
      return run.execute();
    } finally {
      retries.shutdownNow();
      client.stop();
    }
  }

  /** One run's shared state. */
  private static final class Run {
    final Settings settings;
    final HttpClient client;
    final ScheduledExecutorService retries;
    final AtomicLong errors = new AtomicLong();
    final AtomicLong errorsInWindow = new AtomicLong();
    final AtomicLong sessionFailures = new AtomicLong();
    final AtomicLong late = new AtomicLong();
    final List<String> errorSamples = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch done;
    long windowStart;
    long windowEnd;
    Pacer pacer;

    Run(Settings settings, HttpClient client, ScheduledExecutorService retries) {
      this.settings = settings;
      this.client = client;
      this.retries = retries;
      this.done = new CountDownLatch(settings.sessions());
    }

    Outcome execute() throws InterruptedException {
      long now = System.nanoTime();
      windowStart = now + settings.warmup().toNanos();
      windowEnd = windowStart + settings.measure().toNanos();
      if (settings.paced()) {
        // Paced calls start after the sessions had time to initialize; the window is unchanged.
        pacer = Pacer.of(settings.rate(), settings.sessions(), now + TimeUnit.MILLISECONDS
            .toNanos(settings.warmup().isZero() ? 0 : 200));
      }
      List<Session> sessions = new ArrayList<>();
      for (int i = 0; i < settings.sessions(); i++) {
        sessions.add(new Session(this, i));
      }
      sessions.forEach(Session::initialize);
      long grace = settings.timeout().toNanos() + TimeUnit.SECONDS.toNanos(5);
      if (!done.await(windowEnd - System.nanoTime() + grace, TimeUnit.NANOSECONDS)) {
        error(System.nanoTime(), "sessions still busy " + TimeUnit.NANOSECONDS.toSeconds(grace)
            + " s after the window ended: " + done.getCount());
      }
      LatencyStats all = new LatencyStats();
      long total = 0;
      for (Session session : sessions) {
        synchronized (session) {
          all.merge(session.stats);
          total += session.successes;
        }
      }
      for (Session session : sessions) {
        session.delete();
      }
      double seconds = settings.measure().toNanos() / 1e9;
      return new Outcome(all.count(), seconds, all.count() / seconds, all.summary(),
          errors.get(), errorsInWindow.get(), sessionFailures.get(), total,
          List.copyOf(errorSamples), all, settings.rate(), late.get());
    }

    void error(long started, String what) {
      errors.incrementAndGet();
      if (started >= windowStart && started < windowEnd) {
        errorsInWindow.incrementAndGet();
      }
      synchronized (errorSamples) {
        if (errorSamples.size() < ERROR_SAMPLES) {
          errorSamples.add(what);
        }
      }
    }
  }

  /**
   * One session's loop. Its callbacks run one after another (each call starts after the
   * previous one ended), on Jetty's threads or the scheduler's; the monitor publishes its counters to the reader.
   */
  private static final class Session {
    final Run run;
    final int number;
    final LatencyStats stats = new LatencyStats();
    long successes;
    String sessionId;
    String protocolVersion;
    long nextId = 1;
    long paceIndex;
    boolean called;
    boolean finished;

    Session(Run run, int number) {
      this.run = run;
      this.number = number;
    }

    void initialize() {
      if (System.nanoTime() >= run.windowEnd) {
        finish();
        return;
      }
      sessionId = null;
      if (run.settings.stateless()) {
        // Nothing to set up: every request carries the version, capabilities and client info.
        protocolVersion = run.settings.protocolVersion();
        call();
        return;
      }
      protocolVersion = null;
      long id = nextId++;
      String body = "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"initialize\",\"params\":"
          + "{\"protocolVersion\":\"" + run.settings.protocolVersion() + "\",\"capabilities\":{},"
          + "\"clientInfo\":{\"name\":\"sentinel-http-load\",\"version\":\"1\"}}}";
      long started = System.nanoTime();
      post(body).send(new BufferingResponseListener(MAX_BODY) {
        @Override
        public void onComplete(Result result) {
          String failure = check(result, getContentAsString(StandardCharsets.UTF_8),
              getMediaType(), id, null);
          if (failure != null) {
            initFailed(started, "initialize: " + failure);
            return;
          }
          sessionId = result.getResponse().getHeaders().get("Mcp-Session-Id");
          String answer = getContentAsString(StandardCharsets.UTF_8);
          protocolVersion = field(answer, "protocolVersion");
          initialized(started);
        }
      });
    }

    void initialized(long started) {
      post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}")
          .send(new BufferingResponseListener(MAX_BODY) {
            @Override
            public void onComplete(Result result) {
              if (result.isFailed()) {
                initFailed(started, "notifications/initialized: " + result.getFailure());
              } else if (result.getResponse().getStatus() != 202
                  && result.getResponse().getStatus() != 200) {
                initFailed(started, "notifications/initialized: HTTP "
                    + result.getResponse().getStatus());
              } else {
                call();
              }
            }
          });
    }

    void initFailed(long started, String what) {
      run.sessionFailures.incrementAndGet();
      run.error(started, "session " + number + ": " + what);
      if (System.nanoTime() >= run.windowEnd) {
        finish();
      } else {
        run.retries.schedule(this::initialize, 100, TimeUnit.MILLISECONDS);
      }
    }

    void call() {
      if (run.pacer != null) {
        next(System.nanoTime());
        return;
      }
      long now = System.nanoTime();
      // every initialized session makes at least one call, so that a session that initialized
      // only after the window (a loaded machine) still shows whether calls succeed
      if (now >= run.windowEnd && called) {
        finish();
        return;
      }
      called = true;
      send(now, now);
    }

    /**
     * Paced: the previous exchange (or the initialization) ended at {@code free}; sends the next
     * call now when it is due or late, or schedules it for when it is due.
     */
    void next(long free) {
      long due = run.pacer.due(number, paceIndex);
      if (due >= run.windowEnd) {
        finish();
        return;
      }
      paceIndex++;
      if (Pacer.late(due, free)) {
        if (due >= run.windowStart) {
          run.late.incrementAndGet();
        }
        send(due, Pacer.latencyOrigin(due, free, System.nanoTime()));
        return;
      }
      long wait = due - System.nanoTime();
      if (wait <= 0) {
        send(due, System.nanoTime());
      } else {
        run.retries.schedule(() -> send(due, System.nanoTime()), wait, TimeUnit.NANOSECONDS);
      }
    }

    /**
     * Sends one {@code tools/call}; {@code due} decides whether it is in the window (paced: when
     * it was scheduled; closed loop: when it started) and {@code origin} is where its latency
     * counts from.
     */
    void send(long due, long origin) {
      long id = nextId++;
      boolean stateless = run.settings.stateless();
      String body = "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":"
          + "{\"name\":\"" + run.settings.tool() + "\",\"arguments\":" + run.settings.arguments()
          + (stateless ? ",\"_meta\":" + statelessMeta(run.settings.protocolVersion()) : "")
          + "}}";
      Request request = post(body);
      if (stateless) {
        String name = run.settings.tool();
        request.headers(h -> {
          h.put("Mcp-Method", "tools/call");
          h.put("Mcp-Name", headerValue(name));
        });
      }
      boolean paced = run.pacer != null;
      long started = paced ? origin : System.nanoTime();
      request.send(new BufferingResponseListener(MAX_BODY) {
        @Override
        public void onComplete(Result result) {
          long ended = System.nanoTime();
          String answer = getContentAsString(StandardCharsets.UTF_8);
          String failure = check(result, answer, getMediaType(), id, run.settings.expect());
          if (failure == null && stateless && !answer.contains(COMPLETE)) {
            failure = "not served statelessly (no " + COMPLETE + "): " + abbreviate(answer);
          }
          long windowed = paced ? due : started;
          if (failure == null) {
            synchronized (Session.this) {
              successes++;
              boolean inWindow = paced
                  ? due >= run.windowStart && due < run.windowEnd
                  : started >= run.windowStart && ended <= run.windowEnd;
              if (inWindow) {
                stats.add(ended - started);
              }
            }
            proceed(ended);
          } else {
            run.error(windowed, "session " + number + ": tools/call: " + failure);
            if (!stateless && !result.isFailed() && result.getResponse().getStatus() == 404) {
              initialize(); // the server ended the session
            } else {
              proceed(ended);
            }
          }
        }
      });
    }

    private void proceed(long ended) {
      if (run.pacer != null) {
        next(ended);
      } else {
        call();
      }
    }

    synchronized void finish() {
      if (!finished) {
        finished = true;
        run.done.countDown();
      }
    }

    /** Ends the session at the server (best effort: the server may not support it). */
    void delete() {
      if (sessionId == null) {
        return;
      }
      try {
        headers(run.client.newRequest(run.settings.endpoint()).method(HttpMethod.DELETE))
            .timeout(5, TimeUnit.SECONDS).send();
      } catch (Exception e) {
        // Best effort: the run is over.
      }
    }

    Request post(String body) {
      return headers(run.client.newRequest(run.settings.endpoint()).method(HttpMethod.POST))
          .timeout(run.settings.timeout().toMillis(), TimeUnit.MILLISECONDS)
          .body(new StringRequestContent("application/json", body, StandardCharsets.UTF_8));
    }

    Request headers(Request request) {
      String session = sessionId;
      String version = protocolVersion;
      String key = run.settings.apiKey();
      return request.headers(h -> {
        h.put("Accept", ACCEPT);
        if (session != null) {
          h.put("Mcp-Session-Id", session);
        }
        if (version != null) {
          h.put("MCP-Protocol-Version", version);
        }
        if (key != null) {
          h.put("X-API-Key", key);
        }
      });
    }
  }

  /**
   * The {@code params._meta} of a stateless request at {@code version}: the protocol version, no
   * client capabilities, and this client's info.
   */
  static String statelessMeta(String version) {
    return "{\"io.modelcontextprotocol/protocolVersion\":\"" + version + "\","
        + "\"io.modelcontextprotocol/clientCapabilities\":{},"
        + "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"sentinel-http-load\",\"version\":\"1\"}}";
  }

  /**
   * A header value for {@code text}: as is when it is printable ASCII without leading or trailing
   * spaces, else the {@code =?base64?...?=} form (padded standard Base64 of UTF-8).
   */
  static String headerValue(String text) {
    boolean plain = !text.isEmpty() && text.charAt(0) != ' ' && text.charAt(text.length() - 1) != ' ';
    for (int i = 0; plain && i < text.length(); i++) {
      char c = text.charAt(i);
      plain = c >= 0x20 && c < 0x7f;
    }
    return plain ? text : "=?base64?" + java.util.Base64.getEncoder().encodeToString(
        text.getBytes(StandardCharsets.UTF_8)) + "?=";
  }

  /**
   * Why an answer is not the expected successful response to request {@code id}, or null when it
   * is. {@code expect} (when not null) must appear in the answer.
   */
  static String check(Result result, String body, String mediaType, long id, String expect) {
    if (result.isFailed()) {
      Throwable cause = result.getFailure();
      return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }
    int status = result.getResponse().getStatus();
    if (status != 200) {
      return "HTTP " + status + " " + abbreviate(body);
    }
    String message = mediaType != null && mediaType.startsWith("text/event-stream")
        ? eventFor(body, id) : body;
    if (message == null) {
      return "no event with the response to id " + id + " in " + abbreviate(body);
    }
    if (!hasId(message, id)) {
      return "not the response to id " + id + ": " + abbreviate(message);
    }
    if (!message.contains("\"result\"") || message.contains("\"isError\":true")) {
      return "not a success: " + abbreviate(message);
    }
    if (expect != null && !message.contains(expect)) {
      return "answer without '" + expect + "': " + abbreviate(message);
    }
    return null;
  }

  /** The {@code data} of the event in an SSE body that answers {@code id}, or null. */
  static String eventFor(String body, long id) {
    StringBuilder data = new StringBuilder();
    for (String line : body.split("\r\n|\n|\r", -1)) {
      if (line.startsWith("data:")) {
        if (data.length() > 0) {
          data.append('\n');
        }
        data.append(line.startsWith("data: ") ? line.substring(6) : line.substring(5));
      } else if (line.isEmpty() && data.length() > 0) {
        String event = data.toString();
        data.setLength(0);
        if (hasId(event, id) && !event.contains("\"method\"")) {
          return event;
        }
      }
    }
    String last = data.toString();
    return hasId(last, id) && !last.contains("\"method\"") ? last : null;
  }

  private static boolean hasId(String message, long id) {
    String key = "\"id\":" + id;
    int at = message.indexOf(key);
    while (at >= 0) {
      int after = at + key.length();
      char next = after < message.length() ? message.charAt(after) : ' ';
      if (next == ',' || next == '}' || next == ' ') {
        return true;
      }
      at = message.indexOf(key, after);
    }
    return false;
  }

  /** A string field's value, found textually ({@code "name":"value"}), or null. */
  static String field(String json, String name) {
    String key = "\"" + name + "\":\"";
    int at = json.indexOf(key);
    if (at < 0) {
      return null;
    }
    int end = json.indexOf('"', at + key.length());
    return end < 0 ? null : json.substring(at + key.length(), end);
  }

  private static String abbreviate(String text) {
    String flat = text == null ? "" : text.replace('\n', ' ');
    return flat.length() <= 200 ? flat : flat.substring(0, 200) + "…";
  }

  /**
   * Runs a load from the command line: {@code URL [--sessions N] [--warmup S] [--measure S]
   * [--api-key KEY] [--tool NAME] [--text TEXT] [--rate CALLS_PER_S] [--protocol-version V]};
   * prints the outcome. Exit status 1 when there
   * were errors.
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].startsWith("-")) {
      System.err.println("usage: HttpLoad URL [--sessions 16] [--warmup 5] [--measure 10]"
          + " [--api-key KEY] [--tool echo] [--text hello] [--rate CALLS_PER_S]"
          + " [--protocol-version 2025-06-18|2026-07-28]");
      System.exit(2);
    }
    URI endpoint = URI.create(args[0]);
    int sessions = 16;
    double warmup = 5;
    double measure = 10;
    String key = null;
    String tool = "echo";
    String text = "hello-bench";
    double rate = 0;
    String version = "2025-06-18";
    for (int i = 1; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      String value = args[i + 1];
      switch (args[i]) {
        case "--sessions": sessions = Integer.parseInt(value); break;
        case "--warmup": warmup = Double.parseDouble(value); break;
        case "--measure": measure = Double.parseDouble(value); break;
        case "--api-key": key = value; break;
        case "--tool": tool = value; break;
        case "--text": text = value; break;
        case "--rate": rate = Double.parseDouble(value); break;
        case "--protocol-version": version = value; break;
        default: throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Settings settings = Settings.echo(endpoint, sessions, seconds(warmup), seconds(measure), text)
        .withApiKey(key).withTool(tool).withRate(rate).withProtocolVersion(version);
    Outcome outcome = run(settings);
    System.out.println(outcome);
    System.exit(outcome.errors() == 0 ? 0 : 1);
  }

  static Duration seconds(double seconds) {
    return Duration.ofNanos((long) (seconds * 1e9));
  }
}
