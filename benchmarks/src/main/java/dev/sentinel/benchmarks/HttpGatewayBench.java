package dev.sentinel.benchmarks;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The end-to-end benchmark of {@code sentinel http} (issue 5, item 8), in one run:
 * <ol>
 *   <li><b>HTTP backend.</b> {@link EchoHttpServer} (a separate JVM) reached directly, and the
 *       same backend behind {@code bin/sentinel http} (a separate JVM) with API-key
 *       authentication, a policy rule allowing the tool, a rate limit that never refuses and the
 *       default SQLite audit trail on, called by session-based clients ({@code --session-version},
 *       2025-11-25 by default) and by stateless MCP 2026-07-28 clients (a third arm: no
 *       {@code initialize}, no session, {@code _meta} and mirrored headers on every request).
 *       Reported: calls/s and p50/p90/p99/max of each, and what the gateway adds.</li>
 *   <li><b>Stdio backend.</b> One stdio server ({@link EchoStdioServer}, C1, 64 MB heap) fronted
 *       by {@code sentinel http} with the same governance, by {@code supergateway@4.0.0
 *       --outputTransport streamableHttp --stateful} and by {@code mcp-proxy@6.7.19} (both
 *       without governance, from {@code benchmarks/node}): calls/s and latency of each.</li>
 * </ol>
 *
 * <p>The load is {@link HttpLoad} in this JVM: N sessions (16 by default) in a closed loop,
 * after a warm-up. Arms run one after another, in rounds whose order alternates, so drift on
 * a shared machine hits both sides; each run records the load average before it. Every child
 * is stopped at the end (and by a shutdown hook if the harness is interrupted). This is a
 * harness, not a test: it fails only on errors, never on a number. Not thread-safe.
 */
public final class HttpGatewayBench {
  private static final String TEXT = "hello-bench";
  private static final String STATELESS_VERSION = "2026-07-28";
  private static final Pattern KEY = Pattern.compile("snk_[A-Za-z0-9_-]+");

  private final Options options;
  private final Path work;
  private final String javaBin;
  private final String jar;
  private final ObjectNode root = JsonNodeFactory.instance.objectNode();

  private HttpGatewayBench(Options options, Path work) throws Exception {
    this.options = options;
    this.work = work;
    this.javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    this.jar = Path.of(HttpGatewayBench.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI()).toString();
  }

  /** Runs the benchmark; {@code --help} lists the options. */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("http-bench: " + e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    if (options.help) {
      System.out.println(Options.USAGE);
      return;
    }
    Path work = Files.createTempDirectory("http-bench-");
    HttpGatewayBench bench = new HttpGatewayBench(options, work);
    int errors = 0;
    try {
      errors = bench.run();
    } finally {
      Children.killAll();
      if (options.out != null) {
        Files.createDirectories(options.out.toAbsolutePath().getParent());
        JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build()
            .writeValue(options.out.toFile(), bench.root);
      }
    }
    System.out.print(bench.markdown());
    System.exit(errors == 0 ? 0 : 1);
  }

  private int run() throws Exception {
    root.put("benchmark", "sentinel http end to end (issue 5, item 8)");
    root.put("started", Instant.now().toString());
    root.set("machine", Machine.describe(javaBin));
    ObjectNode settings = root.putObject("settings");
    settings.put("sessions", options.sessions);
    settings.put("warmupSeconds", options.warmup);
    settings.put("measureSeconds", options.measure);
    settings.put("rounds", options.rounds);
    settings.put("prewarmSeconds", options.prewarm);
    settings.put("stdioWarmupSeconds", options.stdioWarmup);
    settings.put("gatewayJavaOpts", options.gatewayOpts);
    ArrayNode rates = settings.putArray("pacedRates");
    for (double rate : options.rates) {
      rates.add(rate);
    }
    settings.put("pacedWarmupSeconds", options.pacedWarmup);
    settings.put("pacedMeasureSeconds", options.pacedMeasure);
    settings.put("sentinel", options.sentinel.toString());
    settings.put("sessionProtocolVersion", options.sessionVersion);
    settings.put("statelessProtocolVersion", STATELESS_VERSION);
    ObjectNode targets = root.putObject("targets");
    targets.put("addedP50Us", 300);
    targets.put("addedP99Us", 2000);
    targets.put("gatewayCallsPerSecond", 5000);
    ArrayNode notes = root.putArray("notes");
    int errors = 0;
    if (options.phases.contains("http") || options.phases.contains("paced")) {
      errors += httpPhase(root.putObject("httpBackend"));
    }
    if (options.phases.contains("stdio")) {
      errors += stdioPhase(root.putObject("stdioBackend"), notes);
    }
    root.put("finished", Instant.now().toString());
    root.put("loadAverageAtEnd", Machine.loadAverage());
    return errors;
  }

  // ---------------------------------------------------------------------------------------------
  // Phases

  private int httpPhase(ObjectNode out) throws Exception {
    log("HTTP backend: starting the echo backend and the gateway");
    int backendPort = Children.freePort();
    Process backend = start("echo-http", List.of(javaBin, "-XX:+UseSerialGC", "-Xmx256m", "-cp",
        jar, EchoHttpServer.class.getName(), Integer.toString(backendPort)), Map.of());
    String backendUrl = "http://127.0.0.1:" + backendPort + "/mcp";
    Children.awaitPort(backend, backendPort);
    Path dir = Files.createDirectories(work.resolve("gateway-http"));
    Path config = config(dir, "  - name: echo\n    http: { url: \"" + backendUrl + "\" }\n"
        + options.backendYaml, options.configYaml);
    String key = issueKey(config);
    Gateway gateway = gateway("gateway-http", config);
    // The gateway is served to both client eras at once; each era is its own arm. The backend
    // speaks the session-based revision either way.
    List<Arm> arms = List.of(
        new Arm("direct", URI.create(backendUrl), null, "echo", options.sessionVersion),
        new Arm("sentinel http", gateway.endpoint, key, "echo__echo", options.sessionVersion),
        new Arm("sentinel http, " + STATELESS_VERSION + " client", gateway.endpoint, key,
            "echo__echo", STATELESS_VERSION));
    arms.get(0).process = backend;
    for (Arm arm : arms.subList(1, arms.size())) {
      arm.process = gateway.process;
      arm.backend = backend;
    }
    int errors = 0;
    if (options.phases.contains("http")) {
      errors += measure(arms, out.putArray("runs"), options.warmup);
    }
    ArrayNode results = out.putArray("arms");
    for (Arm arm : arms) {
      results.add(arm.json(arm == arms.get(0) ? null : arms.get(0)));
    }
    if (options.phases.contains("paced")) {
      errors += paced(arms, out.putArray("paced"));
    }
    Arm direct = arms.get(0);
    Arm through = arms.get(1);
    if (direct.stats.count() > 0 && through.stats.count() > 0) {
      ObjectNode added = out.putObject("addedUs");
      for (double p : new double[] {50, 90, 99}) {
        added.put("p" + (int) p, (through.stats.percentile(p) - direct.stats.percentile(p)) / 1e3);
      }
      out.put("throughputRatio", through.callsPerSecond() / direct.callsPerSecond());
    }
    Arm stateless = arms.get(2);
    if (direct.stats.count() > 0 && stateless.stats.count() > 0) {
      out.put("throughputRatioStateless", stateless.callsPerSecond() / direct.callsPerSecond());
    }
    out.set("gatewayProcess", gateway.usage());
    Children.stop(gateway.process);
    Children.stop(backend);
    return errors;
  }

  private int stdioPhase(ObjectNode out, ArrayNode notes) throws Exception {
    Path node = options.nodeDir.toAbsolutePath();
    String nodeBin = which("node");
    List<String> server = List.of(javaBin, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Xshare:auto", "-Xmx64m", "-cp", jar, EchoStdioServer.class.getName());
    out.put("stdioServer", String.join(" ", server));
    List<Arm> arms = new ArrayList<>();
    List<Process> processes = new ArrayList<>();
    log("stdio backend: starting sentinel http");
    Path dir = Files.createDirectories(work.resolve("gateway-stdio"));
    StringBuilder backend = new StringBuilder("  - name: echo\n    stdio:\n      command: ")
        .append(quote(server.get(0))).append("\n      args: [");
    for (int i = 1; i < server.size(); i++) {
      backend.append(i > 1 ? ", " : "").append(quote(server.get(i)));
    }
    backend.append("]\n");
    Path config = config(dir, backend.toString() + options.backendYaml, options.configYaml);
    String key = issueKey(config);
    Gateway gateway = gateway("gateway-stdio", config);
    processes.add(gateway.process);
    arms.add(new Arm("sentinel http (governance on)", gateway.endpoint, key, "echo__echo",
        options.sessionVersion));
    Path preload = node.resolve("loopback.cjs");
    Path supergateway = node.resolve("node_modules/supergateway/dist/index.js");
    Path mcpProxy = node.resolve("node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs");
    if (nodeBin == null) {
      notes.add("node not found: supergateway and mcp-proxy are skipped");
    } else if (!Files.isRegularFile(supergateway) || !Files.isRegularFile(mcpProxy)) {
      notes.add("the bridges are not installed (cd benchmarks/node && npm ci): skipped");
    } else {
      log("stdio backend: starting supergateway and mcp-proxy");
      int port = Children.freePort();
      StringBuilder shell = new StringBuilder();
      for (String part : server) {
        shell.append(shell.length() == 0 ? "" : " ").append(shellQuote(part));
      }
      Process sg = start("supergateway", List.of(nodeBin, "--require", preload.toString(),
          supergateway.toString(), "--stdio", shell.toString(), "--outputTransport",
          "streamableHttp", "--stateful", "--port", Integer.toString(port), "--logLevel", "none"),
          Map.of());
      Children.awaitPort(sg, port);
      processes.add(sg);
      arms.add(new Arm("supergateway 4.0.0 (--stateful)", URI.create("http://127.0.0.1:" + port
          + "/mcp"), null, "echo", options.sessionVersion));
      int proxyPort = Children.freePort();
      List<String> proxy = new ArrayList<>(List.of(nodeBin, "--require", preload.toString(),
          mcpProxy.toString(), "--host", "127.0.0.1", "--port", Integer.toString(proxyPort),
          "--server", "stream", "--"));
      proxy.addAll(server);
      Process mp = start("mcp-proxy", proxy, Map.of());
      Children.awaitPort(mp, proxyPort);
      processes.add(mp);
      arms.add(new Arm("mcp-proxy 6.7.19", URI.create("http://127.0.0.1:" + proxyPort + "/mcp"),
          null, "echo", options.sessionVersion));
    }
    for (int i = 0; i < arms.size(); i++) {
      arms.get(i).process = processes.get(i);
    }
    int errors = measure(arms, out.putArray("runs"), Math.max(options.warmup, options.stdioWarmup));
    ArrayNode results = out.putArray("arms");
    for (Arm arm : arms) {
      results.add(arm.json(null));
    }
    out.set("gatewayProcess", gateway.usage());
    for (Process process : processes) {
      Children.stop(process);
    }
    return errors;
  }

  /** Runs every arm once per round, the order alternating; returns the errors. */
  private int measure(List<Arm> arms, ArrayNode runs, double warmup) throws Exception {
    int errors = 0;
    java.util.concurrent.ScheduledExecutorService sampler =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "http-bench-sampler");
          t.setDaemon(true);
          return t;
        });
    if (options.prewarm > 0) {
      // One unmeasured run per arm first: a gateway's JIT needs more than a round's warm-up
      // to compile Jetty, the JDK's HTTP client, Jackson and the SQLite driver on two busy CPUs.
      for (Arm arm : arms) {
        HttpLoad.Outcome outcome = HttpLoad.run(arm.settings(options.sessions, 0,
            options.prewarm));
        log(String.format(Locale.ROOT, "pre-warm-up, %s (not measured): %s", arm.label,
            outcome));
        errors += (int) Math.min(Integer.MAX_VALUE, outcome.errors());
      }
    }
    for (int round = 0; round < options.rounds; round++) {
      List<Arm> order = new ArrayList<>(arms);
      if (round % 2 == 1) {
        java.util.Collections.reverse(order);
      }
      for (Arm arm : order) {
        String load = Machine.loadAverage();
        HttpLoad.Settings settings = arm.settings(options.sessions, warmup, options.measure);
        if (arm.process != null) {
          // How many servers the bridge runs, counted in the middle of the measured window.
          Process process = arm.process;
          sampler.schedule(() -> {
            arm.childProcesses = Math.max(arm.childProcesses, process.descendants()
                .filter(p -> p.info().command().orElse("").endsWith("java")).count());
          }, (long) ((warmup + options.measure / 2) * 1000), TimeUnit.MILLISECONDS);
        }
        long[] before = arm.process == null ? null : Machine.cpuTicks(arm.process.pid());
        long switches = arm.process == null ? 0 : Machine.contextSwitches(arm.process.pid());
        Map<Long, Map.Entry<String, Long>> threadCpu =
            arm.process == null ? null : Machine.taskCpu(arm.process.pid());
        long[] backendBefore = arm.backend == null ? null : Machine.cpuTicks(arm.backend.pid());
        long backendSwitches = arm.backend == null ? 0 : Machine.contextSwitches(arm.backend.pid());
        String recording = profileStart(arm, "http", round);
        HttpLoad.Outcome outcome = HttpLoad.run(settings);
        profileStop(arm, recording);
        if (before != null) {
          long[] after = Machine.cpuTicks(arm.process.pid());
          arm.cpuTicks += after[0] - before[0] + after[1] - before[1];
          arm.systemTicks += after[1] - before[1];
          arm.switches += Machine.contextSwitches(arm.process.pid()) - switches;
          arm.addThreadCpu(threadCpu, Machine.taskCpu(arm.process.pid()),
              (after[0] - before[0] + after[1] - before[1]) * 10_000_000L);
          arm.threads = Math.max(arm.threads,
              Machine.status(arm.process.pid()).getOrDefault("Threads", -1L));
          arm.allCalls += outcome.totalCalls();
        }
        if (backendBefore != null) {
          long[] after = Machine.cpuTicks(arm.backend.pid());
          arm.backendTicks += after[0] - backendBefore[0] + after[1] - backendBefore[1];
          arm.backendSwitches += Machine.contextSwitches(arm.backend.pid()) - backendSwitches;
        }
        log(String.format(Locale.ROOT, "round %d, %s (load %s): %s", round + 1, arm.label, load,
            outcome));
        arm.add(outcome);
        errors += (int) Math.min(Integer.MAX_VALUE, outcome.errors());
        ObjectNode run = runs.addObject();
        run.put("round", round + 1);
        run.put("arm", arm.label);
        run.put("loadAverageBefore", load);
        run.put("outcome", outcome.toString());
        run.put("callsPerSecond", outcome.callsPerSecond());
        run.put("errors", outcome.errors());
      }
    }
    sampler.shutdownNow();
    return errors;
  }

  /**
   * The open-loop phase: at each rate, every arm paced at that total rate over the sessions, in
   * rounds whose order alternates; per rate the merged latencies and the added p50/p99.
   */
  private int paced(List<Arm> arms, ArrayNode out) throws Exception {
    int errors = 0;
    if (!options.phases.contains("http") && options.prewarm > 0) {
      for (Arm arm : arms) {
        HttpLoad.Outcome outcome = HttpLoad.run(arm.settings(options.sessions, 0,
            options.prewarm));
        log(String.format(Locale.ROOT, "pre-warm-up, %s (not measured): %s", arm.label,
            outcome));
        errors += (int) Math.min(Integer.MAX_VALUE, outcome.errors());
      }
    }
    for (double rate : options.rates) {
      List<Arm> rated = new ArrayList<>();
      for (Arm arm : arms) {
        rated.add(new Arm(arm.label, arm.endpoint, arm.apiKey, arm.tool, arm.protocolVersion));
      }
      long[] late = new long[rated.size()];
      ObjectNode node = out.addObject();
      node.put("rate", rate);
      ArrayNode runs = node.putArray("runs");
      for (int round = 0; round < options.rounds; round++) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < rated.size(); i++) {
          order.add(i);
        }
        if (round % 2 == 1) {
          java.util.Collections.reverse(order);
        }
        for (int i : order) {
          Arm arm = rated.get(i);
          String load = Machine.loadAverage();
          Process process = arms.get(i).process;
          long[] ticks = process == null ? null : Machine.cpuTicks(process.pid());
          long switches = process == null ? 0 : Machine.contextSwitches(process.pid());
          Map<Long, Map.Entry<String, Long>> threadCpu =
              process == null ? null : Machine.taskCpu(process.pid());
          String recording = profileStart(arms.get(i), "paced" + fmt(rate).replace(",", ""), round);
          HttpLoad.Outcome outcome = HttpLoad.run(arm.settings(options.sessions,
              options.pacedWarmup, options.pacedMeasure).withRate(rate));
          profileStop(arms.get(i), recording);
          if (process != null) {
            // At a fixed rate the gateway's work per call does not depend on how fast it could
            // go: the CPU per call here is comparable between gateways, the closed loop's less so.
            long[] after = Machine.cpuTicks(process.pid());
            arm.cpuTicks += after[0] - ticks[0] + after[1] - ticks[1];
            arm.systemTicks += after[1] - ticks[1];
            arm.switches += Machine.contextSwitches(process.pid()) - switches;
            arm.addThreadCpu(threadCpu, Machine.taskCpu(process.pid()),
                (after[0] - ticks[0] + after[1] - ticks[1]) * 10_000_000L);
            arm.threads = Math.max(arm.threads,
                Machine.status(process.pid()).getOrDefault("Threads", -1L));
            arm.allCalls += outcome.totalCalls();
          }
          log(String.format(Locale.ROOT, "paced %s/s, round %d, %s (load %s): %s", fmt(rate),
              round + 1, arm.label, load, outcome));
          arm.add(outcome);
          late[i] += outcome.late();
          errors += (int) Math.min(Integer.MAX_VALUE, outcome.errors());
          ObjectNode run = runs.addObject();
          run.put("round", round + 1);
          run.put("arm", arm.label);
          run.put("loadAverageBefore", load);
          run.put("outcome", outcome.toString());
        }
      }
      ArrayNode results = node.putArray("arms");
      for (int i = 0; i < rated.size(); i++) {
        results.add(rated.get(i).json(i == 0 ? null : rated.get(0)).put("late", late[i]));
      }
      Arm direct = rated.get(0);
      Arm through = rated.get(1);
      if (direct.stats.count() > 0 && through.stats.count() > 0) {
        ObjectNode added = node.putObject("addedUs");
        for (double p : new double[] {50, 90, 99}) {
          added.put("p" + (int) p,
              (through.stats.percentile(p) - direct.stats.percentile(p)) / 1e3);
        }
      }
    }
    return errors;
  }

  /** One side of a comparison and what its runs measured. */
  private static final class Arm {
    final String label;
    final URI endpoint;
    final String apiKey;
    final String tool;
    /** The revision its client asks for; a stateless one (2026-07-28) sends no initialize. */
    final String protocolVersion;
    final LatencyStats stats = new LatencyStats();
    double seconds;
    long errors;
    Process process;
    /** The backend behind the gateway an arm measures, or null. */
    Process backend;
    volatile long childProcesses = -1;
    long cpuTicks;
    long systemTicks;
    long switches;
    long threads = -1;
    long backendTicks;
    long backendSwitches;
    /** CPU nanoseconds of the process's threads by group ({@link Machine#threadCpuDelta}). */
    final Map<String, Long> threadCpu = new LinkedHashMap<>();
    long allCalls;
    long sessionFailures;
    final List<String> errorSamples = new ArrayList<>();

    Arm(String label, URI endpoint, String apiKey, String tool, String protocolVersion) {
      this.label = label;
      this.endpoint = endpoint;
      this.apiKey = apiKey;
      this.tool = tool;
      this.protocolVersion = protocolVersion;
    }

    /** The load for one run of this arm (closed loop; {@code withRate} paces it). */
    HttpLoad.Settings settings(int sessions, double warmup, double measure) {
      return HttpLoad.Settings.echo(endpoint, sessions, HttpLoad.seconds(warmup),
          HttpLoad.seconds(measure), TEXT).withApiKey(apiKey).withTool(tool)
          .withProtocolVersion(protocolVersion);
    }

    void add(HttpLoad.Outcome outcome) {
      stats.merge(outcome.stats());
      seconds += outcome.seconds();
      errors += outcome.errors();
      sessionFailures += outcome.sessionFailures();
      for (String sample : outcome.errorSamples()) {
        if (errorSamples.size() < 5) {
          errorSamples.add(sample);
        }
      }
    }

    double callsPerSecond() {
      return seconds == 0 ? 0 : stats.count() / seconds;
    }

    void addThreadCpu(Map<Long, Map.Entry<String, Long>> before,
        Map<Long, Map.Entry<String, Long>> after, long processNs) {
      Machine.threadCpuDelta(before, after, processNs).forEach((group, ns) ->
          threadCpu.merge(group, ns, Long::sum));
    }

    /** This arm's results; {@code baseline} (when not null) is what its added latency is against. */
    ObjectNode json(Arm baseline) {
      ObjectNode node = JsonNodeFactory.instance.objectNode();
      node.put("label", label);
      node.put("endpoint", endpoint.toString());
      node.put("apiKey", apiKey != null);
      node.put("protocolVersion", protocolVersion);
      node.put("stateless", HttpLoad.STATELESS_REVISIONS.contains(protocolVersion));
      node.put("calls", stats.count());
      node.put("seconds", seconds);
      node.put("callsPerSecond", callsPerSecond());
      LatencyStats.Summary summary = stats.summary();
      if (summary != null) {
        ObjectNode us = node.putObject("us");
        us.put("p50", summary.p50Us());
        us.put("p90", summary.p90Us());
        us.put("p99", summary.p99Us());
        us.put("max", summary.maxUs());
        us.put("mean", summary.meanUs());
        if (baseline != null && baseline.stats.count() > 0) {
          ObjectNode added = node.putObject("addedUs");
          for (double p : new double[] {50, 90, 99}) {
            added.put("p" + (int) p, (stats.percentile(p) - baseline.stats.percentile(p)) / 1e3);
          }
        }
      }
      node.put("errors", errors);
      node.put("sessionFailures", sessionFailures);
      if (allCalls > 0) {
        // CPU of the process the client talks to (not its children), warm-up included.
        node.put("cpuUsPerCall", cpuTicks * 10_000.0 / allCalls);
        node.put("cpuSystemUsPerCall", systemTicks * 10_000.0 / allCalls);
        // Context switches of all its threads (voluntary and not): hand-offs and wake-ups per
        // call, which depend less on the machine's load than CPU time does.
        node.put("contextSwitchesPerCall", (double) switches / allCalls);
        node.put("threads", threads);
        if (!threadCpu.isEmpty()) {
          // Exact (ns) where the ticks above are 10 ms; "jit" is compilation, which a run under
          // load still pays long after its warm-up and which says nothing about serving a call.
          ObjectNode groups = node.putObject("threadCpuUsPerCall");
          long withoutJit = 0;
          for (Map.Entry<String, Long> e : threadCpu.entrySet()) {
            groups.put(e.getKey(), e.getValue() / 1e3 / allCalls);
            withoutJit += e.getKey().equals("jit") ? 0 : e.getValue();
          }
          node.put("cpuUsPerCallWithoutJit", withoutJit / 1e3 / allCalls);
        }
        if (backend != null) {
          node.put("backendCpuUsPerCall", backendTicks * 10_000.0 / allCalls);
          node.put("backendContextSwitchesPerCall", (double) backendSwitches / allCalls);
        }
      }
      if (childProcesses >= 0) {
        node.put("childProcesses", childProcesses);
      }
      ArrayNode samples = node.putArray("errorSamples");
      errorSamples.forEach(samples::add);
      return node;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The gateway

  /** A running {@code sentinel http} and its endpoint. */
  private record Gateway(Process process, URI endpoint, long[] cpuAtStart) {
    ObjectNode usage() {
      ObjectNode node = JsonNodeFactory.instance.objectNode();
      long[] now = Machine.cpuTicks(process.pid());
      node.put("cpuSecondsUser", (now[0] - cpuAtStart[0]) / 100.0);
      node.put("cpuSecondsSystem", (now[1] - cpuAtStart[1]) / 100.0);
      Map<String, Long> status = Machine.status(process.pid());
      node.put("rssMb", status.getOrDefault("VmRSS", -1L) / 1024.0);
      node.put("threads", status.getOrDefault("Threads", -1L));
      return node;
    }
  }

  /**
   * A gateway config in {@code dir} fronting the given backend YAML, with governance on: a role
   * and a rule allowing {@code *__echo}, a rate limit that never refuses, and no {@code audit}
   * section, so the default SQLite audit trail ({@code sentinel.db} beside the config) is on.
   */
  private static Path config(Path dir, String backendYaml, String configYaml) throws IOException {
    String yaml = "gateway: { name: http-bench }\n"
        + "backends:\n" + backendYaml
        + "policy:\n"
        + "  roles: { bench: {} }\n"
        + "  rules:\n"
        + "    - id: bench-echo\n"
        + "      allow: { roles: [bench], tools: [\"*__echo\"] }\n"
        + "  limits:\n"
        + "    - { id: never-refuses, rate: 1000000000/s, per: [principal] }\n"
        + configYaml;
    Path file = dir.resolve("sentinel.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private String issueKey(Path config) throws Exception {
    Process process = new ProcessBuilder(options.sentinel.toAbsolutePath().toString(), "keys",
        "create", "--principal", "bench", "--role", "bench", "--name", "http-bench", "--config",
        config.toString()).redirectErrorStream(true).start();
    Children.watch(process);
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor(60, TimeUnit.SECONDS);
    Children.kill(process); // gone already, unless it hung
    Matcher matcher = KEY.matcher(output);
    if (process.exitValue() != 0 || !matcher.find()) {
      throw new IllegalStateException("sentinel keys create failed: " + output);
    }
    return matcher.group();
  }

  private Gateway gateway(String label, Path config) throws Exception {
    int port = Children.freePort();
    String opts = options.gatewayOpts;
    if (options.profile != null) {
      Files.createDirectories(options.profile);
      opts += " -XX:StartFlightRecording=filename=" + options.profile.toAbsolutePath()
          .resolve(label + ".jfr") + ",settings=profile,dumponexit=true";
    }
    Process process = start(label, List.of(options.sentinel.toAbsolutePath().toString(), "http",
        "--config", config.toString(), "--port", Integer.toString(port)),
        Map.of("JAVA_OPTS", opts));
    URI endpoint = URI.create("http://127.0.0.1:" + port + "/mcp");
    Children.awaitReady(process, URI.create("http://127.0.0.1:" + port + "/readyz"), Duration.ofSeconds(60),
        work);
    return new Gateway(process, endpoint, Machine.cpuTicks(process.pid()));
  }

  /**
   * With {@code --profile}, starts a JFR recording of the gateway an arm measures (named for the
   * arm, phase and round) so that each client era has recordings of its own although both share
   * one gateway; returns its name, or null when nothing is recorded.
   */
  private String profileStart(Arm arm, String phase, int round) {
    if (options.profile == null || arm.backend == null || arm.process == null) {
      return null;
    }
    String name = arm.label.replaceAll("[^A-Za-z0-9]+", "-") + "-" + phase + "-r" + (round + 1);
    List<String> command = new ArrayList<>(List.of("JFR.start", "name=" + name));
    command.addAll(List.of(options.profileOptions.trim().split("\\s+")));
    return jcmd(arm.process, command.toArray(String[]::new)) ? name : null;
  }

  /** Stops and writes the recording {@link #profileStart} started, if any. */
  private void profileStop(Arm arm, String name) {
    if (name != null) {
      jcmd(arm.process, "JFR.stop", "name=" + name,
          "filename=" + options.profile.toAbsolutePath().resolve(name + ".jfr"));
    }
  }

  private boolean jcmd(Process process, String... command) {
    List<String> line = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin",
        "jcmd").toString(), Long.toString(process.pid())));
    line.addAll(List.of(command));
    try {
      Process jcmd = new ProcessBuilder(line).redirectErrorStream(true).start();
      String output = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      boolean ok = jcmd.waitFor(30, TimeUnit.SECONDS) && jcmd.exitValue() == 0;
      if (!ok) {
        log("jcmd " + String.join(" ", command) + " failed: " + output.trim());
      }
      return ok;
    } catch (IOException e) {
      log("jcmd " + String.join(" ", command) + " failed: " + e.getMessage());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Processes

  private Process start(String label, List<String> command, Map<String, String> env)
      throws IOException {
    return Children.start(work, work.resolve(label + ".log"), false, command, env);
  }





  private static String which(String program) {
    String path = System.getenv("PATH");
    for (String dir : path == null ? new String[0] : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, program);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    return null;
  }

  private static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static String shellQuote(String text) {
    return text.matches("[A-Za-z0-9_./:=+-]+") ? text : "'" + text.replace("'", "'\\''") + "'";
  }

  private static void log(String text) {
    System.err.println("http-bench: " + text);
  }

  // ---------------------------------------------------------------------------------------------
  // Report

  private String markdown() {
    StringBuilder out = new StringBuilder();
    ObjectNode machine = (ObjectNode) root.path("machine");
    out.append("## sentinel http: end-to-end benchmark\n\n");
    out.append(String.format(Locale.ROOT, "%s to %s; %d CPUs (%s), %d MiB; load %s at start, %s"
            + " at end; JDK: %s%n%n", root.path("started").asString(),
        root.path("finished").asString(), machine.path("nproc").asInt(),
        machine.path("cpuModel").asString(), machine.path("memTotalMb").asLong(),
        machine.path("loadAverageAtStart").asString(), root.path("loadAverageAtEnd").asString(),
        machine.path("gatewayJavaVersion").asString().replace("\n", "; ")));
    out.append(String.format(Locale.ROOT, "%d sessions, closed loop; one unmeasured %s s run per"
            + " arm, then per run %s s warm-up (%s s for the stdio phase) and %s s measured; %d"
            + " rounds, order alternating; gateway JAVA_OPTS `%s`%n",
        options.sessions, fmt(options.prewarm), fmt(options.warmup),
        fmt(Math.max(options.warmup, options.stdioWarmup)), fmt(options.measure), options.rounds,
        options.gatewayOpts));
    root.path("notes").forEach(n -> out.append("- note: ").append(n.asString()).append('\n'));
    if (root.has("httpBackend")) {
      ObjectNode http = (ObjectNode) root.get("httpBackend");
      out.append("\n### Echo tool on a Streamable HTTP backend, directly and through the gateway"
          + " (µs)\n\n");
      table(out, http.path("arms"));
      out.append(String.format(Locale.ROOT, "%nSession-based arms ask for %s; the %s arm sends"
              + " stateless requests (no initialize, no session; every answer checked for"
              + " `\"resultType\":\"complete\"`).%n",
          options.sessionVersion, STATELESS_VERSION));
      double directRate = http.path("arms").path(0).path("callsPerSecond").asDouble();
      for (tools.jackson.databind.JsonNode arm : http.path("arms")) {
        if (arm.has("addedUs")) {
          out.append(String.format(Locale.ROOT, "%nAdded by the gateway (%s): p50 **%s µs**, p90"
                  + " %s µs, p99 **%s µs**; throughput %.0f %% of direct.%n",
              arm.path("label").asString(), fmt(arm.path("addedUs").path("p50").asDouble()),
              fmt(arm.path("addedUs").path("p90").asDouble()),
              fmt(arm.path("addedUs").path("p99").asDouble()),
              directRate == 0 ? 0 : 100 * arm.path("callsPerSecond").asDouble() / directRate));
        }
      }
      if (http.path("paced").size() > 0) {
        out.append(String.format(Locale.ROOT, "%n### Paced (open loop), %d sessions: added"
                + " latency by total rate (µs)%n%n%s s warm-up and %s s measured per run, %d"
                + " rounds, order alternating; a call whose session was still waiting when it"
                + " was due is late and measured from its scheduled time.%n%n",
            options.sessions, fmt(options.pacedWarmup), fmt(options.pacedMeasure),
            options.rounds));
        out.append("| rate/s | arm | achieved/s | p50 | p90 | p99 | max | late | errors |"
            + " added p50 | added p99 | CPU µs/call: without JIT, by thread group |"
            + " ctx switches/call |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (tools.jackson.databind.JsonNode rate : http.path("paced")) {
          for (tools.jackson.databind.JsonNode arm : rate.path("arms")) {
            boolean first = !arm.has("addedUs");
            tools.jackson.databind.JsonNode us = arm.path("us");
            out.append(String.format(Locale.ROOT,
                "| %s | %s | %.0f | %s | %s | %s | %s | %d | %d | %s | %s | %s | %s |%n",
                fmt(rate.path("rate").asDouble()), arm.path("label").asString(),
                arm.path("callsPerSecond").asDouble(), fmt(us.path("p50").asDouble()),
                fmt(us.path("p90").asDouble()), fmt(us.path("p99").asDouble()),
                fmt(us.path("max").asDouble()), arm.path("late").asLong(),
                arm.path("errors").asLong(),
                first ? "" : fmt(arm.path("addedUs").path("p50").asDouble()),
                first ? "" : fmt(arm.path("addedUs").path("p99").asDouble()),
                threadCpu(arm),
                arm.has("contextSwitchesPerCall") ? String.format(Locale.ROOT, "%.2f",
                    arm.path("contextSwitchesPerCall").asDouble()) : ""));
          }
        }
        out.append('\n');
      }
      out.append("Gateway process: ").append(http.path("gatewayProcess").toString())
          .append("\n\nTargets: added p50 ≤ 300 µs, added p99 ≤ 2,000 µs, ≥ 5,000 calls/s"
              + " through the gateway.\n");
    }
    if (root.has("stdioBackend")) {
      ObjectNode stdio = (ObjectNode) root.get("stdioBackend");
      out.append("\n### One stdio server behind each bridge (µs)\n\nServer: `")
          .append(stdio.path("stdioServer").asString()).append("`\n\n");
      table(out, stdio.path("arms"));
      out.append("\nCPU µs/call: the process the client talks to (the gateway or bridge, not its"
          + " stdio servers), warm-up included.");
      out.append("\nChild processes: the bridge's stdio servers (java descendants) in the middle of a measured window"
          + " (a bridge that starts a server per session runs one per session).\n");
    }
    out.append("\n### Runs\n\n| round | arm | load before | result |\n|---|---|---|---|\n");
    for (String phase : new String[] {"httpBackend", "stdioBackend"}) {
      root.path(phase).path("runs").forEach(run -> out.append(String.format(Locale.ROOT,
          "| %d | %s | %s | %s |%n", run.path("round").asInt(), run.path("arm").asString(),
          run.path("loadAverageBefore").asString(), run.path("outcome").asString())));
      root.path(phase).path("paced").forEach(rate -> rate.path("runs").forEach(run ->
          out.append(String.format(Locale.ROOT, "| %d | %s @ %s/s | %s | %s |%n",
              run.path("round").asInt(), run.path("arm").asString(),
              fmt(rate.path("rate").asDouble()), run.path("loadAverageBefore").asString(),
              run.path("outcome").asString()))));
    }
    if (options.out != null) {
      out.append("\nJSON: `").append(options.out).append("`\n");
    }
    return out.toString();
  }

  /** "total (serving 120, audit 30, ...)" of an arm's CPU per call without JIT, or "". */
  private static String threadCpu(tools.jackson.databind.JsonNode arm) {
    if (!arm.has("cpuUsPerCallWithoutJit")) {
      return "";
    }
    StringBuilder text = new StringBuilder(fmt(Math.rint(arm.path("cpuUsPerCallWithoutJit")
        .asDouble()))).append(" (");
    String sep = "";
    for (java.util.Map.Entry<String, tools.jackson.databind.JsonNode> e
        : arm.path("threadCpuUsPerCall").properties()) {
      text.append(sep).append(e.getKey()).append(' ').append(fmt(Math.rint(e.getValue().asDouble())));
      sep = ", ";
    }
    return text.append(')').toString();
  }

  private static void table(StringBuilder out, tools.jackson.databind.JsonNode arms) {
    out.append("| arm | calls/s | p50 | p90 | p99 | max | calls | errors | CPU µs/call (system) |"
        + " CPU µs/call: without JIT, by thread group |"
        + " ctx switches/call | threads | backend CPU µs/call, ctx switches/call |"
        + " child processes |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (tools.jackson.databind.JsonNode arm : arms) {
      tools.jackson.databind.JsonNode us = arm.path("us");
      out.append(String.format(Locale.ROOT,
          "| %s | %.0f | %s | %s | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s |%n",
          arm.path("label").asString(), arm.path("callsPerSecond").asDouble(),
          fmt(us.path("p50").asDouble()), fmt(us.path("p90").asDouble()),
          fmt(us.path("p99").asDouble()), fmt(us.path("max").asDouble()),
          arm.path("calls").asLong(), arm.path("errors").asLong(),
          arm.has("cpuUsPerCall") ? fmt(Math.rint(arm.path("cpuUsPerCall").asDouble())) + " ("
              + fmt(Math.rint(arm.path("cpuSystemUsPerCall").asDouble())) + ")" : "",
          threadCpu(arm),
          arm.has("contextSwitchesPerCall")
              ? String.format(Locale.ROOT, "%.2f", arm.path("contextSwitchesPerCall").asDouble()) : "",
          arm.has("threads") ? arm.path("threads").asString() : "",
          arm.has("backendCpuUsPerCall") ? fmt(Math.rint(arm.path("backendCpuUsPerCall").asDouble()))
              + ", " + String.format(Locale.ROOT, "%.2f",
                  arm.path("backendContextSwitchesPerCall").asDouble()) : "",
          arm.has("childProcesses") ? arm.path("childProcesses").asString() : ""));
    }
  }

  private static String fmt(double value) {
    return String.format(Locale.ROOT, value == Math.rint(value) ? "%,.0f" : "%,.1f", value);
  }

  // ---------------------------------------------------------------------------------------------

  /** Command-line options. */
  private static final class Options {
    static final String USAGE = String.join("\n",
        "usage: HttpGatewayBench [options]",
        "  --sentinel PATH      the launcher (default bin/sentinel)",
        "  --node-dir DIR       where the bridges are installed (default benchmarks/node)",
        "  --sessions N         concurrent sessions (default 16)",
        "  --warmup S           warm-up seconds per run (default 5)",
        "  --measure S          measured seconds per run (default 10)",
        "  --stdio-warmup S     warm-up of the stdio phase, where bridges start a server per"
            + " session (default 10)",
        "  --prewarm S          one unmeasured run per arm before the rounds (default 10)",
        "  --rounds N           rounds of all arms, order alternating (default 2)",
        "  --phases LIST        http (closed loop, saturation), paced (open loop at --rates),"
            + " stdio (default all three)",
        "  --rates LIST         total calls/s of the paced phase (default 500,1000,2000,4000)",
        "  --paced-warmup S     warm-up seconds per paced run (default 3)",
        "  --paced-measure S    measured seconds per paced run (default 10)",
        "  --gateway-opts OPTS  JAVA_OPTS for the gateway (default: -XX:TieredStopAtLevel=4"
            + " -Xmx256m, what bin/sentinel recommends for a busy gateway)",
        "  --session-version V  the revision session-based clients ask for (default 2025-11-25)",
        "  --profile DIR        record JFR of each gateway into DIR, the whole run and each"
            + " measured run of a gateway arm (one file per arm, phase and round)",
        "  --profile-options O  JFR.start options of the per-run recordings (default"
            + " settings=profile; 'settings=profile method-profiling=max' samples every 1 ms)",
        "  --backend-yaml LINE  a YAML line added to the benchmarked backend (isolation: shared)",
        "  --config-yaml TEXT   YAML added to the gateway config (audit: { sinks: [ { jsonl: a.jsonl } ] })",
        "  --out FILE           write the JSON result there");
    Path sentinel = Path.of("bin/sentinel");
    Path nodeDir = Path.of("benchmarks/node");
    int sessions = 16;
    double warmup = 5;
    double measure = 10;
    double stdioWarmup = 10;
    double prewarm = 10;
    int rounds = 2;
    Set<String> phases = Set.of("http", "paced", "stdio");
    double[] rates = {500, 1000, 2000, 4000};
    double pacedWarmup = 3;
    double pacedMeasure = 10;
    String gatewayOpts = "-XX:TieredStopAtLevel=4 -Xmx256m";
    /** YAML lines added to the benchmarked backend's entry (ablation: {@code isolation: shared}). */
    String backendYaml = "";
    /** YAML added at the end of the gateway config (ablation: an {@code audit:} section). */
    String configYaml = "";
    String sessionVersion = "2025-11-25";
    String profileOptions = "settings=profile";
    Path profile;
    Path out;
    boolean help;

    static Options parse(String[] args) {
      Options o = new Options();
      Map<String, String> values = new LinkedHashMap<>();
      for (int i = 0; i < args.length; i++) {
        if (args[i].equals("--help") || args[i].equals("-h")) {
          o.help = true;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(args[i] + " needs a value");
        }
        values.put(args[i], args[++i]);
      }
      for (Map.Entry<String, String> e : values.entrySet()) {
        String v = e.getValue();
        switch (e.getKey()) {
          case "--sentinel": o.sentinel = Path.of(v); break;
          case "--backend-yaml": o.backendYaml = "    " + v + "\n"; break;
          case "--config-yaml": o.configYaml = v + "\n"; break;
          case "--node-dir": o.nodeDir = Path.of(v); break;
          case "--sessions": o.sessions = Integer.parseInt(v); break;
          case "--warmup": o.warmup = Double.parseDouble(v); break;
          case "--measure": o.measure = Double.parseDouble(v); break;
          case "--stdio-warmup": o.stdioWarmup = Double.parseDouble(v); break;
          case "--prewarm": o.prewarm = Double.parseDouble(v); break;
          case "--rounds": o.rounds = Integer.parseInt(v); break;
          case "--phases": o.phases = Set.of(v.split(",")); break;
          case "--rates": o.rates = java.util.Arrays.stream(v.split(","))
              .mapToDouble(Double::parseDouble).toArray(); break;
          case "--paced-warmup": o.pacedWarmup = Double.parseDouble(v); break;
          case "--paced-measure": o.pacedMeasure = Double.parseDouble(v); break;
          case "--gateway-opts": o.gatewayOpts = v; break;
          case "--profile": o.profile = Path.of(v); break;
          case "--session-version": o.sessionVersion = v; break;
          case "--profile-options": o.profileOptions = v; break;
          case "--out": o.out = Path.of(v); break;
          default: throw new IllegalArgumentException("unknown option " + e.getKey());
        }
      }
      if (o.sessions < 1 || o.rounds < 1 || o.measure <= 0 || o.warmup < 0) {
        throw new IllegalArgumentException("sessions and rounds must be >= 1, measure > 0");
      }
      for (double rate : o.rates) {
        if (!(rate > 0) || Double.isInfinite(rate)) {
          throw new IllegalArgumentException("--rates: each rate must be > 0 calls/s: " + rate);
        }
      }
      if (HttpLoad.STATELESS_REVISIONS.contains(o.sessionVersion)) {
        throw new IllegalArgumentException("--session-version: " + o.sessionVersion
            + " has no sessions (its arm runs anyway)");
      }
      if (o.pacedMeasure <= 0 || o.pacedWarmup < 0) {
        throw new IllegalArgumentException("--paced-measure must be > 0, --paced-warmup >= 0");
      }
      return o;
    }
  }
}
