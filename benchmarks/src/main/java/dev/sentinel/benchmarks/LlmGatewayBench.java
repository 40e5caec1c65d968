package dev.sentinel.benchmarks;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;

/**
 * The LLM route's end-to-end benchmark (issue 15, item 9): non-streamed chat completions, 16
 * clients in a closed loop, against the upstream ({@link LlmEchoServer}, its own JVM) directly
 * and through {@code bin/sentinel http} (its own JVM) with an API key, a policy allowing the
 * model, a request limit and a token budget that never refuse, and the default SQLite audit
 * trail. Arms alternate for the given rounds; each reports requests/s, p50 and p99. The load
 * generator (Jetty's HttpClient, one per arm) runs in this JVM: the machine's two cores are
 * shared by the generator, the gateway and the upstream, so compare the arms of one run.
 *
 * <p>Then, in the same rounds, streamed chat completions ({@code "stream":true}) directly and
 * through the gateway at each of {@code --stream-clients} (a comma-separated list of client
 * counts): each reports streams/s and the time to first byte, from sending the request to the
 * first byte of the answer's body (the first event), p50 and p99.
 *
 * <p>For the non-streamed gateway arms it also reports the gateway JVM's CPU per request over
 * the measured seconds ({@code /proc/<pid>/stat} ticks, less the JIT compilers' threads, with
 * the split by thread group of {@link Machine#threadCpuDelta}) and its context switches per
 * request. {@code --sentinel PATH} measures another build's {@code bin/sentinel} (a baseline in a
 * second worktree) with this harness; {@code --stream-clients none} skips the streamed arms.
 *
 * <pre>{@code
 * benchmarks/llm-bench [--seconds 15] [--warmup 5] [--rounds 2] [--clients 16]
 *     [--stream-clients 1,16|none] [--sentinel bin/sentinel]
 * }</pre>
 */
public final class LlmGatewayBench {
  private static final Pattern KEY = Pattern.compile("snk_[A-Za-z0-9_-]+");
  private static final byte[] BODY = ("{\"model\":\"bench-model\",\"max_tokens\":64,"
      + "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the benchmark\"}]}")
      .getBytes(StandardCharsets.UTF_8);
  private static final byte[] STREAM_BODY = ("{\"model\":\"bench-model\",\"max_tokens\":64,"
      + "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the"
      + " benchmark\"}]}").getBytes(StandardCharsets.UTF_8);
  private static final List<Process> LIVE = new ArrayList<>();
  /** The gateway's process, measured during the gateway arms' measured seconds. */
  private static Process gatewayProcess;

  private LlmGatewayBench() {}

  /** Runs the benchmark; see the class comment for the options. */
  public static void main(String[] args) throws Exception {
    int seconds = 15;
    int warmup = 5;
    int rounds = 2;
    int clients = 16;
    int[] streamClients = {1, 16};
    Path sentinel = Path.of("bin/sentinel");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--seconds": seconds = Integer.parseInt(args[i + 1]); break;
        case "--warmup": warmup = Integer.parseInt(args[i + 1]); break;
        case "--rounds": rounds = Integer.parseInt(args[i + 1]); break;
        case "--clients": clients = Integer.parseInt(args[i + 1]); break;
        case "--sentinel": sentinel = Path.of(args[i + 1]); break;
        case "--stream-clients":
          streamClients = args[i + 1].equals("none") ? new int[0]
              : Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
          break;
        default: throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Runtime.getRuntime().addShutdownHook(new Thread(LlmGatewayBench::stopAll));
    Path work = Files.createTempDirectory("llm-bench");
    String java = ProcessHandle.current().info().command().orElse("java");
    String jar = Path.of("benchmarks/target/benchmarks.jar").toAbsolutePath().toString();
    int upstreamPort = freePort();
    start(work, "upstream", List.of(java, "-XX:+UseSerialGC", "-Xmx256m", "-cp", jar,
        LlmEchoServer.class.getName(), Integer.toString(upstreamPort)), Map.of());
    Path config = work.resolve("sentinel.yaml");
    Files.writeString(config, "gateway: { name: llm-bench }\n"
        + "backends:\n  - name: echo\n    stdio: { command: \"" + java + "\", args: [\"-cp\", \""
        + jar + "\", \"" + EchoStdioServer.class.getName() + "\"] }\n"
        + "policy:\n  roles: { bench: {} }\n  rules:\n"
        + "    - id: bench-model\n      allow: { roles: [bench], models: [bench-model] }\n"
        + "    - id: bounded\n      deny: { models: [\"*\"], when: { /max_tokens: { gt: 4096 } } }\n"
        + "  limits:\n    - { id: never-refuses, rate: 1000000000/s, per: [principal],"
        + " methods: [llm/chat] }\n"
        + "llm:\n  upstreams:\n    - name: bench\n      api: openai\n"
        + "      base_url: http://127.0.0.1:" + upstreamPort + "/v1\n"
        + "      api_key: ${env:BENCH_UPSTREAM_KEY}\n      models: [bench-model]\n"
        + "  budgets:\n    - { id: huge, tokens: 1000000000/s, per: [principal] }\n");
    String key = issueKey(sentinel, config);
    int gatewayPort = freePort();
    gatewayProcess = start(work, "gateway", List.of(sentinel.toAbsolutePath().toString(), "http", "--config",
        config.toString(), "--port", Integer.toString(gatewayPort)),
        Map.of("BENCH_UPSTREAM_KEY", "sk-bench-upstream-key-0000000000"));
    URI direct = URI.create("http://127.0.0.1:" + upstreamPort + "/v1/chat/completions");
    URI gateway = URI.create("http://127.0.0.1:" + gatewayPort + "/v1/chat/completions");
    awaitOk(direct, null);
    awaitOk(gateway, key);
    System.out.printf("# %d clients, closed loop, %d s warm-up + %d s per arm, %d rounds%n",
        clients, warmup, seconds, rounds);
    System.out.println("| arm | round | requests/s | p50 µs | p99 µs | gateway CPU µs/request"
        + " (without JIT: serving, audit, vm, ended) | gateway ctx switches/request |");
    System.out.println("|---|---|---|---|---|---|---|");
    double[][] p50 = new double[2][rounds];
    double[][] rate = new double[2][rounds];
    for (int round = 0; round < rounds; round++) {
      for (int a = 0; a < 2; a++) {
        int arm = round % 2 == 0 ? a : 1 - a; // alternate which arm goes first
        Result result = load(arm == 0 ? direct : gateway, arm == 0 ? null : key, clients,
            warmup, seconds, false);
        p50[arm][round] = result.p50;
        rate[arm][round] = result.rate;
        System.out.printf("| %s | %d | %.0f | %.0f | %.0f | %s | %s |%n",
            arm == 0 ? "upstream directly" : "sentinel http (LLM route)", round + 1,
            result.rate, result.p50, result.p99, result.cpu, result.switches);
      }
    }
    for (int round = 0; round < rounds; round++) {
      System.out.printf("# round %d: added p50 %.0f µs, throughput ratio %.2f%n", round + 1,
          p50[1][round] - p50[0][round], rate[1][round] / rate[0][round]);
    }
    if (streamClients.length > 0) {
      System.out.printf("%n# streamed (\"stream\":true): time to first byte of the body%n");
      System.out.println("| arm | clients | round | streams/s | TTFB p50 µs | TTFB p99 µs |");
      System.out.println("|---|---|---|---|---|---|");
      Result[][][] streamed = new Result[streamClients.length][2][rounds];
      for (int round = 0; round < rounds; round++) {
        for (int s = 0; s < streamClients.length; s++) {
          for (int a = 0; a < 2; a++) {
            int arm = round % 2 == 0 ? a : 1 - a;
            Result result = load(arm == 0 ? direct : gateway, arm == 0 ? null : key,
                streamClients[s], warmup, seconds, true);
            streamed[s][arm][round] = result;
            System.out.printf("| %s | %d | %d | %.0f | %.0f | %.0f |%n",
                arm == 0 ? "upstream directly" : "sentinel http (LLM route)", streamClients[s],
                round + 1, result.rate, result.p50, result.p99);
          }
        }
      }
      for (int s = 0; s < streamClients.length; s++) {
        for (int round = 0; round < rounds; round++) {
          Result d = streamed[s][0][round];
          Result g = streamed[s][1][round];
          System.out.printf("# %d clients, round %d: added TTFB p50 %.0f µs (%.2fx), p99 %.0f µs"
              + " (%.2fx); streams/s ratio %.2f%n", streamClients[s], round + 1, g.p50 - d.p50,
              g.p50 / d.p50, g.p99 - d.p99, g.p99 / d.p99, g.rate / d.rate);
        }
      }
    }
    stopAll();
  }

  /**
   * One arm's numbers; {@code cpu} and {@code switches} are the gateway's per request over the
   * measured seconds ("" for the direct arms).
   */
  private record Result(double rate, double p50, double p99, String cpu, String switches) {}

  /**
   * One arm: {@code clients} closed loops for {@code warmup} then {@code seconds} seconds. The
   * latency is the whole request's, or for a stream the time to the first byte of its body.
   */
  private static Result load(URI uri, String key, int clients, int warmup, int seconds,
      boolean stream) throws Exception {
    HttpClient client = new HttpClient();
    client.setMaxConnectionsPerDestination(clients);
    client.start();
    try {
      long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup);
      long end = warmEnd + TimeUnit.SECONDS.toNanos(seconds);
      long[][] latencies = new long[clients][];
      int[] counts = new int[clients];
      Thread[] threads = new Thread[clients];
      for (int c = 0; c < clients; c++) {
        int me = c;
        threads[c] = new Thread(() -> {
          long[] mine = new long[1 << 16];
          int n = 0;
          try {
            while (true) {
              long start = System.nanoTime();
              if (start >= end) {
                break;
              }
              long[] first = new long[1];
              var request = client.newRequest(uri).method(HttpMethod.POST)
                  .body(new BytesRequestContent("application/json", stream ? STREAM_BODY : BODY));
              if (key != null) {
                request.headers(h -> h.put(HttpHeader.AUTHORIZATION, "Bearer " + key));
              }
              if (stream) {
                request.onResponseContent((r, content) -> {
                  if (first[0] == 0 && content.hasRemaining()) {
                    first[0] = System.nanoTime();
                  }
                });
              }
              ContentResponse response = request.send();
              long took = (stream ? first[0] : System.nanoTime()) - start;
              if (response.getStatus() != 200
                  || stream && !response.getContentAsString().endsWith("data: [DONE]\n\n")) {
                throw new IllegalStateException("status " + response.getStatus() + ": "
                    + response.getContentAsString());
              }
              if (start >= warmEnd) {
                if (n == mine.length) {
                  mine = Arrays.copyOf(mine, n * 2);
                }
                mine[n++] = took;
              }
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          } finally {
            latencies[me] = mine;
            counts[me] = n;
          }
        });
        threads[c].start();
      }
      Process gateway = key != null ? gatewayProcess : null;
      long[] ticks = null;
      long switches = 0;
      Map<Long, Map.Entry<String, Long>> tasks = null;
      if (gateway != null) {
        long wait = warmEnd - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait); // the measured seconds start
        }
        ticks = Machine.cpuTicks(gateway.pid());
        switches = Machine.contextSwitches(gateway.pid());
        tasks = Machine.taskCpu(gateway.pid());
      }
      for (Thread thread : threads) {
        thread.join();
      }
      String cpu = "";
      String ctx = "";
      int total = 0;
      for (int count : counts) {
        total += count;
      }
      long[] all = new long[total];
      int at = 0;
      for (int c = 0; c < clients; c++) {
        System.arraycopy(latencies[c], 0, all, at, counts[c]);
        at += counts[c];
      }
      if (gateway != null && total > 0) {
        long[] after = Machine.cpuTicks(gateway.pid());
        long processNs = (after[0] + after[1] - ticks[0] - ticks[1]) * 10_000_000L;
        Map<String, Long> groups = Machine.threadCpuDelta(tasks, Machine.taskCpu(gateway.pid()),
            processNs);
        long withoutJit = processNs - groups.get("jit");
        cpu = String.format("%.0f (%.0f, %.0f, %.0f, %.0f)", withoutJit / 1000.0 / total,
            groups.get("serving") / 1000.0 / total, groups.get("audit") / 1000.0 / total,
            groups.get("vm") / 1000.0 / total, groups.get("ended") / 1000.0 / total);
        ctx = String.format("%.1f",
            (Machine.contextSwitches(gateway.pid()) - switches) / (double) total);
      }
      Arrays.sort(all);
      return new Result(total / (double) seconds, all[(int) (total * 0.50)] / 1000.0,
          all[Math.min(total - 1, (int) (total * 0.99))] / 1000.0, cpu, ctx);
    } finally {
      client.stop();
    }
  }

  private static void awaitOk(URI uri, String key) throws Exception {
    HttpClient client = new HttpClient();
    client.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      String last = "";
      while (System.nanoTime() < deadline) {
        try {
          var request = client.newRequest(uri).method(HttpMethod.POST)
              .body(new BytesRequestContent("application/json", BODY)).timeout(5, TimeUnit.SECONDS);
          if (key != null) {
            request.headers(h -> h.put(HttpHeader.AUTHORIZATION, "Bearer " + key));
          }
          ContentResponse response = request.send();
          if (response.getStatus() == 200) {
            return;
          }
          last = response.getStatus() + " " + response.getContentAsString();
        } catch (Exception e) {
          last = e.toString();
        }
        Thread.sleep(200); // polling a child's readiness
      }
      throw new IllegalStateException(uri + " is not answering 200 after 60 s: " + last);
    } finally {
      client.stop();
    }
  }

  private static String issueKey(Path sentinel, Path config) throws Exception {
    Process process = new ProcessBuilder(sentinel.toAbsolutePath().toString(), "keys", "create",
        "--principal", "bench", "--role", "bench", "--name", "llm-bench", "--config",
        config.toString()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor(60, TimeUnit.SECONDS);
    Matcher matcher = KEY.matcher(output);
    if (process.exitValue() != 0 || !matcher.find()) {
      throw new IllegalStateException("sentinel keys create failed: " + output);
    }
    return matcher.group();
  }

  private static Process start(Path work, String label, List<String> command,
      Map<String, String> env) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile())
        .redirectErrorStream(true).redirectOutput(work.resolve(label + ".log").toFile());
    builder.environment().putAll(env);
    Process process = builder.start();
    synchronized (LIVE) {
      LIVE.add(process);
    }
    return process;
  }

  private static void stopAll() {
    synchronized (LIVE) {
      for (Process process : LIVE) {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
      }
      for (Process process : LIVE) {
        try {
          if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      LIVE.clear();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
