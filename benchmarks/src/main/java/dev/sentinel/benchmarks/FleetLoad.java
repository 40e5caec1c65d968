package dev.sentinel.benchmarks;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The fleet benchmark's load: MCP sessions spread round robin over several gateways' endpoints,
 * each a thread calling one tool after another (closed loop), every call recorded with its start,
 * end and outcome: admitted (the tool's answer), limited (JSON-RPC {@code -32014}: a rate limit,
 * or a shared limit whose store is away) or another error. Sessions are opened once and reused
 * by every phase; a session the gateway ended ({@code 404}) is opened again.
 *
 * <p>Blocking calls on one thread per session keep the code short; the comparison the harness
 * makes (the same calls with and without a shared limit) uses the same generator on both sides.
 * Thread-safe for one {@link #phase} at a time.
 */
final class FleetLoad implements AutoCloseable {
  /** An admitted call. */
  static final byte ADMITTED = 0;
  /** A call refused by a limit ({@code -32014}). */
  static final byte LIMITED = 1;
  /** Any other failure. */
  static final byte ERROR = 2;

  private static final String ACCEPT = "application/json, text/event-stream";
  private static final String TEXT = "hello-fleet";

  private final HttpClient client;
  private final List<Session> sessions = new ArrayList<>();

  /** Opens {@code perEndpoint} sessions on each endpoint. */
  FleetLoad(List<URI> endpoints, int perEndpoint) throws Exception {
    QueuedThreadPool threads = new QueuedThreadPool(16, 2);
    threads.setName("fleet-load");
    threads.setDaemon(true);
    client = new HttpClient();
    client.setExecutor(threads);
    client.setFollowRedirects(false);
    client.setMaxConnectionsPerDestination(perEndpoint * 2 + 4);
    client.setUserAgentField(null);
    client.start();
    for (int i = 0; i < perEndpoint; i++) {
      for (int g = 0; g < endpoints.size(); g++) {
        Session session = new Session(g, endpoints.get(g));
        session.initialize();
        sessions.add(session);
      }
    }
  }

  /** What one phase recorded: every call's start and end (System.nanoTime) and outcome. */
  static final class Calls {
    long[] start = new long[4096];
    long[] end = new long[4096];
    byte[] outcome = new byte[4096];
    int[] gateway = new int[4096];
    int count;
    final List<String> errorSamples = new ArrayList<>();

    void add(long started, long ended, byte result, int gatewayIndex) {
      if (count == start.length) {
        int size = count * 2;
        start = Arrays.copyOf(start, size);
        end = Arrays.copyOf(end, size);
        outcome = Arrays.copyOf(outcome, size);
        gateway = Arrays.copyOf(gateway, size);
      }
      start[count] = started;
      end[count] = ended;
      outcome[count] = result;
      gateway[count] = gatewayIndex;
      count++;
    }

    void addAll(Calls other) {
      for (int i = 0; i < other.count; i++) {
        add(other.start[i], other.end[i], other.outcome[i], other.gateway[i]);
      }
      for (String sample : other.errorSamples) {
        if (errorSamples.size() < 5) {
          errorSamples.add(sample);
        }
      }
    }

    /** Calls with this outcome that started in [from, to). */
    long count(byte result, long from, long to) {
      long n = 0;
      for (int i = 0; i < count; i++) {
        if (outcome[i] == result && start[i] >= from && start[i] < to) {
          n++;
        }
      }
      return n;
    }

    /** Calls with this outcome that started and ended in [from, to). */
    long within(byte result, long from, long to) {
      long n = 0;
      for (int i = 0; i < count; i++) {
        if (outcome[i] == result && start[i] >= from && end[i] < to) {
          n++;
        }
      }
      return n;
    }

    /** Round trips of admitted calls that started at or after {@code from} and ended by {@code to}. */
    LatencyStats latency(long from, long to) {
      LatencyStats stats = new LatencyStats();
      for (int i = 0; i < count; i++) {
        if (outcome[i] == ADMITTED && start[i] >= from && end[i] <= to) {
          stats.add(end[i] - start[i]);
        }
      }
      return stats;
    }
  }

  /**
   * Calls {@code tool} from every session until {@code until} (System.nanoTime); {@code during},
   * if not null, runs on the calling thread meanwhile (the outage). Returns every call.
   */
  Calls phase(String tool, long until, Runnable during) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(sessions.size());
    List<Calls> recorded = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (Session session : sessions) {
      Calls calls = new Calls();
      recorded.add(calls);
      Thread thread = new Thread(() -> {
        try {
          session.loop(tool, until, calls);
        } finally {
          done.countDown();
        }
      }, "fleet-session-" + threads.size());
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    if (during != null) {
      during.run();
    }
    if (!done.await(until - System.nanoTime() + TimeUnit.SECONDS.toNanos(40),
        TimeUnit.NANOSECONDS)) {
      throw new IllegalStateException("sessions still calling 40 s after the phase ended");
    }
    Calls all = new Calls();
    recorded.forEach(all::addAll);
    return all;
  }

  @Override
  public void close() throws Exception {
    client.stop();
  }

  /** One MCP session on one gateway. */
  private final class Session {
    final int gatewayIndex;
    final URI endpoint;
    String sessionId;
    String protocolVersion;
    long nextId = 1;

    Session(int gatewayIndex, URI endpoint) {
      this.gatewayIndex = gatewayIndex;
      this.endpoint = endpoint;
    }

    void initialize() throws Exception {
      sessionId = null;
      protocolVersion = null;
      long id = nextId++;
      ContentResponse answer = post("{\"jsonrpc\":\"2.0\",\"id\":" + id
          + ",\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
          + "\"capabilities\":{},\"clientInfo\":{\"name\":\"sentinel-fleet-load\",\"version\":\"1\"}}}");
      if (answer.getStatus() != 200) {
        throw new IllegalStateException("initialize on " + endpoint + ": HTTP " + answer.getStatus()
            + " " + answer.getContentAsString());
      }
      sessionId = answer.getHeaders().get("Mcp-Session-Id");
      protocolVersion = HttpLoad.field(answer.getContentAsString(), "protocolVersion");
      ContentResponse initialized = post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
      if (initialized.getStatus() != 202 && initialized.getStatus() != 200) {
        throw new IllegalStateException("notifications/initialized on " + endpoint + ": HTTP "
            + initialized.getStatus());
      }
    }

    void loop(String tool, long until, Calls calls) {
      while (System.nanoTime() < until) {
        long id = nextId++;
        String body = "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":"
            + "{\"name\":\"" + tool + "\",\"arguments\":{\"text\":\"" + TEXT + "\"}}}";
        long started = System.nanoTime();
        byte result;
        String failure;
        int status = 0;
        try {
          ContentResponse answer = post(body);
          status = answer.getStatus();
          String text = answer.getContentAsString();
          String media = answer.getMediaType();
          String message = media != null && media.startsWith("text/event-stream")
              ? HttpLoad.eventFor(text, id) : text;
          if (status == 200 && message != null && message.contains("\"code\":-32014")) {
            result = LIMITED;
            failure = null;
          } else if (status == 200 && message != null && message.contains("\"result\"")
              && !message.contains("\"isError\":true") && message.contains(TEXT)) {
            result = ADMITTED;
            failure = null;
          } else {
            result = ERROR;
            failure = "HTTP " + status + " " + abbreviate(text);
          }
        } catch (Exception e) {
          result = ERROR;
          failure = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        long ended = System.nanoTime();
        calls.add(started, ended, result, gatewayIndex);
        if (failure != null && calls.errorSamples.size() < 5) {
          calls.errorSamples.add(endpoint + ": " + failure);
        }
        if (status == 404) {
          try {
            initialize();
          } catch (Exception e) {
            // counted as the next call's error
          }
        }
      }
    }

    ContentResponse post(String body) throws Exception {
      Request request = client.newRequest(endpoint).method(HttpMethod.POST)
          .timeout(30, TimeUnit.SECONDS)
          .body(new StringRequestContent("application/json", body, StandardCharsets.UTF_8));
      String session = sessionId;
      String version = protocolVersion;
      request.headers(h -> {
        h.put("Accept", ACCEPT);
        if (session != null) {
          h.put("Mcp-Session-Id", session);
        }
        if (version != null) {
          h.put("MCP-Protocol-Version", version);
        }
      });
      return request.send();
    }
  }

  private static String abbreviate(String text) {
    String flat = text == null ? "" : text.replace('\n', ' ');
    return flat.length() <= 200 ? flat : flat.substring(0, 200) + "…";
  }
}
