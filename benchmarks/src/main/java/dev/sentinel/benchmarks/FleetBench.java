package dev.sentinel.benchmarks;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * A fleet on one machine (issue 17, item 4): G {@code sentinel http} processes (the packaged
 * launcher, 4 by default) on one embedded PostgreSQL 18 (keys, kill switch and, in the PostgreSQL
 * runs, the shared limits), and in a second run with their limits in one Debian {@code
 * redis-server}; an {@link EchoHttpServer} backend behind them all; the load ({@link FleetLoad}:
 * sessions spread round robin over the gateways, closed loop) in this JVM.
 *
 * <p>Each gateway fronts the same echo backend three times, so one fleet measures everything
 * without a restart: {@code free__echo} under no limit, {@code echo__echo} under a shared limit
 * that never binds (one global bucket: the hottest key a fleet has), and {@code capped__echo}
 * under a shared limit that binds ({@code --capped-rate}/s, burst the same). Callers are the
 * gateways' anonymous principal (no API keys), and each gateway audits to its own JSONL file,
 * so that stopping the store stops only the shared limits. For each store and sync mode
 * ({@code exact}, {@code batched(N)}):
 * <ol>
 *   <li>warm-up, then {@code free} and {@code limited} measured one after the other, twice in
 *       alternating order: admitted calls/s, limit checks/s (each limited call is one check),
 *       p50/p99, and the p99 the shared limit adds ({@code limited} minus {@code free});</li>
 *   <li>{@code capped}: admitted calls against what one exact bucket allows over the phase
 *       (burst + rate × elapsed), the over-admission as a percentage of the limit and in tokens,
 *       beside the documented bound (G − 1) × N;</li>
 *   <li>the store stopped for {@code --outage} seconds mid-run (PostgreSQL: a fast shutdown of
 *       the server, then a restart on the same data and port; Redis: the process stopped and
 *       started again), with {@code on_unavailable: deny}: calls admitted while it was down (in
 *       its first second, where a batched gateway may still spend its copy, and after), refused,
 *       and the time from the store being back to the first admitted call on each gateway.</li>
 * </ol>
 *
 * <p>Every figure is printed with the load average before it: the machine is shared. Every child
 * (gateways, backend, redis-server, PostgreSQL) is stopped at the end and by a shutdown hook.
 * This is a harness, not a test: it fails on errors (a phase without admitted calls, a gateway
 * that does not start), never on a number. Not thread-safe.
 */
public final class FleetBench {
  private static final String NEVER_BINDS = "1000000000/s";

  private final Options options;
  private final Path work;
  private final String javaBin;
  private final String jar;
  private final ObjectNode root = JsonNodeFactory.instance.objectNode();
  private final StringBuilder report = new StringBuilder();
  private Postgres postgres;
  private Redis currentRedis; // the Redis run's server, or null

  private FleetBench(Options options, Path work) throws Exception {
    this.options = options;
    this.work = work;
    this.javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    this.jar = Path.of(FleetBench.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI()).toString();
  }

  /** Runs the benchmark; {@code --help} lists the options. */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("fleet: " + e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    if (options.help) {
      System.out.println(Options.USAGE);
      return;
    }
    Path work = Files.createTempDirectory("fleet-bench-");
    FleetBench bench = new FleetBench(options, work);
    int errors;
    try {
      errors = bench.run();
    } finally {
      bench.stopAll();
      if (options.out != null) {
        Files.createDirectories(options.out.toAbsolutePath().getParent());
        JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build()
            .writeValue(options.out.toFile(), bench.root);
      }
    }
    System.out.print(bench.report);
    if (errors == 0) {
      Children.deleteTree(work);
    } else {
      System.out.println("\nLogs kept in " + work);
    }
    System.exit(errors == 0 ? 0 : 1);
  }

  private int run() throws Exception {
    root.put("benchmark", "a fleet of sentinel http on one machine (issue 17, item 4)");
    root.put("started", Instant.now().toString());
    root.set("machine", Machine.describe(javaBin));
    ObjectNode settings = root.putObject("settings");
    settings.put("gateways", options.gateways);
    settings.put("sessionsPerGateway", options.sessionsPerGateway);
    settings.put("warmupSeconds", options.warmup);
    settings.put("measureSeconds", options.measure);
    settings.put("outageSeconds", options.outage);
    settings.put("batch", options.batch);
    settings.put("cappedRate", options.cappedRate);
    settings.put("gatewayJavaOpts", options.gatewayOpts);
    report.append(String.format(Locale.ROOT, "## A fleet of %d sentinel http on one machine%n%n"
            + "%s; %d CPUs; load %s at start. %d sessions per gateway (closed loop), %s s warm-up,"
            + " %s s per measured phase, store stopped for %s s; gateway JAVA_OPTS `%s`.%n",
        options.gateways, root.path("started").asString(), Runtime.getRuntime().availableProcessors(),
        Machine.loadAverage(), options.sessionsPerGateway, fmt(options.warmup), fmt(options.measure),
        fmt(options.outage), options.gatewayOpts));
    int backendPort = Children.freePort();
    Process backend = start("echo-http", List.of(javaBin, "-XX:+UseSerialGC", "-Xmx256m", "-cp",
        jar, EchoHttpServer.class.getName(), Integer.toString(backendPort)));
    Children.awaitPort(backend, backendPort);
    String backendUrl = "http://127.0.0.1:" + backendPort + "/mcp";
    log("starting PostgreSQL");
    postgres = new Postgres(work.resolve("pg"), Children.freePort());
    postgres.start();
    ArrayNode runs = root.putArray("runs");
    int errors = 0;
    for (String store : options.stores) {
      Redis redis = store.equals("redis") ? new Redis(Children.freePort()) : null;
      currentRedis = redis;
      if (redis != null) {
        redis.start();
      }
      try {
        for (String sync : options.syncs) {
          String mode = sync.equals("batched") ? "batched(" + options.batch + ")" : sync;
          errors += fleet(runs.addObject(), store, mode, backendUrl, redis);
        }
      } finally {
        if (redis != null) {
          redis.stop();
        }
      }
    }
    root.put("finished", Instant.now().toString());
    root.put("loadAverageAtEnd", Machine.loadAverage());
    report.append(String.format(Locale.ROOT, "%nFinished %s, load %s.%n",
        root.path("finished").asString(), root.path("loadAverageAtEnd").asString()));
    return errors;
  }

  /** One fleet: G gateways on {@code store} in sync {@code mode}, measured. */
  private int fleet(ObjectNode out, String store, String mode, String backendUrl, Redis redis)
      throws Exception {
    String tag = store.substring(0, 2) + "-" + mode.replaceAll("[^a-z0-9]", "");
    out.put("store", store);
    out.put("sync", mode);
    log(store + " " + mode + ": starting " + options.gateways + " gateways");
    List<Process> gateways = new ArrayList<>();
    List<URI> endpoints = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    for (int g = 0; g < options.gateways; g++) {
      Path dir = Files.createDirectories(work.resolve(tag + "-" + g));
      Path config = dir.resolve("sentinel.yaml");
      Files.writeString(config, config(tag, g, mode, backendUrl, redis));
      int port = Children.freePort();
      ports.add(port);
      endpoints.add(URI.create("http://127.0.0.1:" + port + "/mcp"));
    }
    int errors = 0;
    try {
      // One after another: four JVMs starting at once on two loaded cores can take longer than
      // the store's connect timeout (1 s for Redis), which a gateway treats as a failed start.
      for (int g = 0; g < options.gateways; g++) {
        Path config = work.resolve(tag + "-" + g).resolve("sentinel.yaml");
        gateways.add(start(tag + "-" + g, List.of(options.sentinel.toAbsolutePath().toString(),
            "http", "--config", config.toString(), "--port", Integer.toString(ports.get(g))),
            Map.of("JAVA_OPTS", options.gatewayOpts)));
        Children.awaitReady(gateways.get(g), URI.create("http://127.0.0.1:" + ports.get(g) + "/readyz"),
            Duration.ofSeconds(120), work);
      }
      try (FleetLoad load = new FleetLoad(endpoints, options.sessionsPerGateway)) {
        errors += measure(out, load, store, mode);
      }
    } finally {
      gateways.forEach(Children::stop);
    }
    return errors;
  }

  private int measure(ObjectNode out, FleetLoad load, String store, String mode)
      throws Exception {
    int errors = 0;
    long second = TimeUnit.SECONDS.toNanos(1);
    log(store + " " + mode + ": warm-up");
    load.phase("free__echo", System.nanoTime() + (long) (options.warmup / 2 * second), null);
    load.phase("echo__echo", System.nanoTime() + (long) (options.warmup / 2 * second), null);
    // free and limited, twice, order alternating: drift on a shared machine hits both.
    Map<String, FleetLoad.Calls> merged = new LinkedHashMap<>();
    Map<String, Double> seconds = new LinkedHashMap<>();
    ArrayNode phases = out.putArray("phases");
    String[][] order = {{"free", "limited"}, {"limited", "free"}};
    for (int round = 0; round < options.rounds; round++) {
      for (String arm : order[round % 2]) {
        String tool = arm.equals("free") ? "free__echo" : "echo__echo";
        String loadBefore = Machine.loadAverage();
        long from = System.nanoTime();
        long to = from + (long) (options.measure * second);
        FleetLoad.Calls calls = load.phase(tool, to, null);
        ObjectNode phase = phases.addObject();
        phase.put("arm", arm);
        phase.put("round", round + 1);
        phase.put("loadAverageBefore", loadBefore);
        describe(phase, calls, from, to);
        merged.computeIfAbsent(arm, a -> new FleetLoad.Calls()).addAll(calls);
        seconds.merge(arm, options.measure, Double::sum);
        errors += calls.count(FleetLoad.ADMITTED, from, to) == 0 ? 1 : 0;
        log(store + " " + mode + " " + arm + ": " + phase);
      }
    }
    ObjectNode summary = out.putObject("throughput");
    for (Map.Entry<String, FleetLoad.Calls> e : merged.entrySet()) {
      ObjectNode arm = summary.putObject(e.getKey());
      describe(arm, e.getValue(), Long.MIN_VALUE, Long.MAX_VALUE);
      double s = seconds.get(e.getKey());
      arm.put("admittedPerSecond", arm.path("admitted").asLong() / s);
      arm.put("checksPerSecond", e.getKey().equals("free") ? 0
          : (arm.path("admitted").asLong() + arm.path("limited").asLong()) / s);
      arm.put("checksPerSecondPerGateway", arm.path("checksPerSecond").asDouble() / options.gateways);
    }
    summary.put("addedP50Us", summary.path("limited").path("p50Us").asDouble()
        - summary.path("free").path("p50Us").asDouble());
    summary.put("addedP99Us", summary.path("limited").path("p99Us").asDouble()
        - summary.path("free").path("p99Us").asDouble());

    log(store + " " + mode + ": capped at " + options.cappedRate + "/s");
    String cappedLoad = Machine.loadAverage();
    long from = System.nanoTime();
    long to = from + (long) (options.measure * second);
    FleetLoad.Calls capped = load.phase("capped__echo", to, null);
    ObjectNode cap = out.putObject("capped");
    cap.put("loadAverageBefore", cappedLoad);
    describe(cap, capped, from, to);
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    for (int i = 0; i < capped.count; i++) {
      first = Math.min(first, capped.start[i]);
      if (capped.outcome[i] == FleetLoad.ADMITTED) {
        last = Math.max(last, capped.start[i]);
      }
    }
    long admitted = capped.count(FleetLoad.ADMITTED, Long.MIN_VALUE, Long.MAX_VALUE);
    // What one exact bucket (burst = rate) allows from the first call to the end of the phase.
    double elapsed = (to - first) / 1e9;
    double allowed = options.cappedRate + options.cappedRate * elapsed;
    long bound = mode.startsWith("batched") ? (options.gateways - 1L) * options.batch : 0;
    cap.put("rate", options.cappedRate);
    cap.put("elapsedSeconds", elapsed);
    cap.put("admittedTotal", admitted);
    cap.put("exactAllows", allowed);
    cap.put("overTokens", admitted - allowed);
    cap.put("overPercent", 100 * (admitted - allowed) / allowed);
    cap.put("boundTokens", bound);
    log(store + " " + mode + " capped: " + cap);

    if (options.outage > 0) {
      errors += outage(out.putObject("outage"), load, store, mode);
    }
    report(out);
    return errors;
  }

  private int outage(ObjectNode out, FleetLoad load, String store, String mode) throws Exception {
    long second = TimeUnit.SECONDS.toNanos(1);
    out.put("loadAverageBefore", Machine.loadAverage());
    long[] marks = new long[4]; // stopping, down, restarting, up
    long begin = System.nanoTime();
    long until = begin + (long) ((options.lead + options.outage + options.recoveryMax) * second);
    log(store + " " + mode + ": stopping the store for " + fmt(options.outage) + " s");
    FleetLoad.Calls calls = load.phase("echo__echo", until, () -> {
      try {
        Thread.sleep((long) (options.lead * 1000)); // run before the outage
        marks[0] = System.nanoTime();
        stopStore(store);
        marks[1] = System.nanoTime();
        Thread.sleep((long) (options.outage * 1000)); // the outage itself
        marks[2] = System.nanoTime();
        startStore(store);
        marks[3] = System.nanoTime();
      } catch (Exception e) {
        throw new IllegalStateException("stopping or starting " + store + " failed", e);
      }
    });
    out.put("stopSeconds", (marks[1] - marks[0]) / 1e9);
    out.put("downSeconds", (marks[2] - marks[1]) / 1e9);
    out.put("restartSeconds", (marks[3] - marks[2]) / 1e9);
    out.put("admittedBefore", calls.count(FleetLoad.ADMITTED, begin, marks[0]));
    out.put("admittedWhileStopping", calls.count(FleetLoad.ADMITTED, marks[0], marks[1]));
    // Admitted, started and answered while the store was down: decided without it. A batched
    // gateway may spend its copy in the first second; after that none may pass.
    out.put("admittedDownFirstSecond", calls.within(FleetLoad.ADMITTED, marks[1], marks[1] + second));
    out.put("admittedDownAfterFirstSecond",
        calls.within(FleetLoad.ADMITTED, marks[1] + second, marks[2]));
    // Started while it was down, answered after it was back: the gateway waited for the store
    // (a connection, a reconnect) and decided once it answered.
    out.put("admittedStartedDownAnsweredAfter", calls.count(FleetLoad.ADMITTED, marks[1], marks[2])
        - calls.within(FleetLoad.ADMITTED, marks[1], marks[2]));
    out.put("limitedWhileDown", calls.count(FleetLoad.LIMITED, marks[1], marks[2]));
    out.put("errorsWhileDown", calls.count(FleetLoad.ERROR, marks[1], marks[2]));
    out.put("admittedWhileRestarting", calls.count(FleetLoad.ADMITTED, marks[2], marks[3]));
    ArrayNode recovery = out.putArray("firstAdmittedAfterUpSeconds");
    double worst = 0;
    for (int g = 0; g < options.gateways; g++) {
      long firstEnd = Long.MAX_VALUE;
      for (int i = 0; i < calls.count; i++) {
        if (calls.gateway[i] == g && calls.outcome[i] == FleetLoad.ADMITTED
            && calls.end[i] >= marks[3] && calls.start[i] >= marks[2]) {
          firstEnd = Math.min(firstEnd, calls.end[i]);
        }
      }
      double s = firstEnd == Long.MAX_VALUE ? -1 : (firstEnd - marks[3]) / 1e9;
      recovery.add(s);
      worst = s < 0 ? Double.POSITIVE_INFINITY : Math.max(worst, s);
    }
    out.put("recoverySeconds", Double.isInfinite(worst) ? -1 : worst);
    out.put("admittedAfterUp", calls.count(FleetLoad.ADMITTED, marks[3], Long.MAX_VALUE));
    ArrayNode samples = out.putArray("errorSamples");
    calls.errorSamples.forEach(samples::add);
    log(store + " " + mode + " outage: " + out);
    return Double.isInfinite(worst) ? 1 : 0;
  }

  private void stopStore(String store) throws Exception {
    if (store.equals("redis")) {
      currentRedis.stop();
    } else {
      postgres.stop();
    }
  }

  private void startStore(String store) throws Exception {
    if (store.equals("redis")) {
      currentRedis.start();
    } else {
      postgres.start();
    }
  }

  private void describe(ObjectNode node, FleetLoad.Calls calls, long from, long to) {
    node.put("admitted", calls.count(FleetLoad.ADMITTED, from, to));
    node.put("limited", calls.count(FleetLoad.LIMITED, from, to));
    node.put("errors", calls.count(FleetLoad.ERROR, from, to));
    LatencyStats stats = calls.latency(from, to);
    if (stats.count() > 0) {
      node.put("p50Us", stats.percentile(50) / 1e3);
      node.put("p99Us", stats.percentile(99) / 1e3);
    }
    if (from != Long.MIN_VALUE) {
      node.put("admittedPerSecond", node.path("admitted").asLong() / ((to - from) / 1e9));
    }
    if (!calls.errorSamples.isEmpty()) {
      node.put("firstError", calls.errorSamples.get(0));
    }
  }

  private void report(ObjectNode run) {
    String store = run.path("store").asString();
    String mode = run.path("sync").asString();
    ObjectNode t = (ObjectNode) run.path("throughput");
    report.append(String.format(Locale.ROOT, "%n### %s, %s%n%n| phase | load before | admitted/s |"
        + " limit checks/s (per gateway) | p50 µs | p99 µs | limited | errors |%n"
        + "|---|---|---|---|---|---|---|---|%n", store, mode));
    for (tools.jackson.databind.JsonNode p : run.path("phases")) {
      report.append(String.format(Locale.ROOT, "| %s (round %d) | %s | %s | %s | %s | %s | %d | %d |%n",
          p.path("arm").asString(), p.path("round").asInt(), p.path("loadAverageBefore").asString(),
          fmt(Math.rint(p.path("admittedPerSecond").asDouble())),
          p.path("arm").asString().equals("free") ? "-" : fmt(Math.rint(
              (p.path("admitted").asLong() + p.path("limited").asLong()) / options.measure)) + " ("
              + fmt(Math.rint((p.path("admitted").asLong() + p.path("limited").asLong())
                  / options.measure / options.gateways)) + ")",
          fmt(Math.rint(p.path("p50Us").asDouble())), fmt(Math.rint(p.path("p99Us").asDouble())),
          p.path("limited").asLong(), p.path("errors").asLong()));
    }
    report.append(String.format(Locale.ROOT, "%nShared limit added: p50 %s µs, p99 %s µs"
            + " (limited minus free, rounds merged); limit checks/s %s (%s per gateway).%n",
        fmt(Math.rint(t.path("addedP50Us").asDouble())), fmt(Math.rint(t.path("addedP99Us").asDouble())),
        fmt(Math.rint(t.path("limited").path("checksPerSecond").asDouble())),
        fmt(Math.rint(t.path("limited").path("checksPerSecondPerGateway").asDouble()))));
    ObjectNode c = (ObjectNode) run.path("capped");
    report.append(String.format(Locale.ROOT, "Binding limit %s/s (burst %s), load before %s: %d"
            + " admitted over %.2f s where one exact bucket allows %.0f: %+.0f tokens (%+.1f %%),"
            + " bound %d tokens; %d limited, %d errors.%n",
        fmt(options.cappedRate), fmt(options.cappedRate), c.path("loadAverageBefore").asString(),
        c.path("admittedTotal").asLong(), c.path("elapsedSeconds").asDouble(),
        c.path("exactAllows").asDouble(), c.path("overTokens").asDouble(),
        c.path("overPercent").asDouble(), c.path("boundTokens").asLong(), c.path("limited").asLong(),
        c.path("errors").asLong()));
    if (run.has("outage")) {
      ObjectNode o = (ObjectNode) run.path("outage");
      report.append(String.format(Locale.ROOT, "Store stopped (took %.2f s) for %.1f s, load before"
              + " %s: admitted while stopping %d; admitted and answered while down: %d in its first"
              + " second, %d after; started while down and admitted once it was back %d;"
              + " refused %d (limited), %d other errors; restart took %.2f s; first admitted call"
              + " after it was back: %s s (per gateway %s).%n",
          o.path("stopSeconds").asDouble(), o.path("downSeconds").asDouble(),
          o.path("loadAverageBefore").asString(), o.path("admittedWhileStopping").asLong(),
          o.path("admittedDownFirstSecond").asLong(), o.path("admittedDownAfterFirstSecond").asLong(),
          o.path("admittedStartedDownAnsweredAfter").asLong(), o.path("limitedWhileDown").asLong(), o.path("errorsWhileDown").asLong(),
          o.path("restartSeconds").asDouble(), fmt2(o.path("recoverySeconds").asDouble()),
          o.path("firstAdmittedAfterUpSeconds").toString()));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Config

  private String config(String tag, int gateway, String mode, String backendUrl, Redis redis) {
    String redisYaml = redis == null ? ""
        : "  redis: { url: \"redis://127.0.0.1:" + redis.port + "/0\", timeout: 1s, kill_switch: true }\n";
    return "gateway: { name: fleet-" + gateway + " }\n"
        + "backends:\n"
        + "  - { name: free, http: { url: \"" + backendUrl + "\" } }\n"
        + "  - { name: echo, http: { url: \"" + backendUrl + "\" } }\n"
        + "  - { name: capped, http: { url: \"" + backendUrl + "\" } }\n"
        + "policy:\n"
        + "  roles: { bench: {} }\n"
        + "  rules:\n"
        + "    - { id: bench-echo, allow: { roles: [bench], tools: [\"*__echo\"] } }\n"
        + "  limits:\n"
        + "    - { id: open-" + tag + ", rate: " + NEVER_BINDS + ", backends: [echo] }\n"
        + "    - { id: capped-" + tag + ", rate: " + fmtRate(options.cappedRate)
        + ", backends: [capped] }\n"
        + "server:\n"
        + "  anonymous: { id: fleet, roles: [bench] }\n"
        + "database: { url: \"jdbc:postgresql://127.0.0.1:" + postgres.port
        + "/postgres\", user: postgres, sync_interval: 5s }\n"
        + "audit: { sinks: [ { jsonl: audit.jsonl } ] }\n"
        + "shared_state:\n"
        + "  limits: { sync: \"" + mode + "\", on_unavailable: deny }\n"
        + redisYaml;
  }

  private static String fmtRate(double rate) {
    return (long) rate + "/s";
  }

  // ---------------------------------------------------------------------------------------------
  // Stores

  /** The embedded PostgreSQL, stopped and started again on the same data and port. */
  private static final class Postgres {
    final Path data;
    final int port;
    EmbeddedPostgres server;

    Postgres(Path data, int port) {
      this.data = data;
      this.port = port;
    }

    void start() throws IOException {
      server = EmbeddedPostgres.builder().setPort(port).setDataDirectory(data)
          .setCleanDataDirectory(false).setServerConfig("max_connections", "200")
          .setOutputRedirector(ProcessBuilder.Redirect.DISCARD)
          .setErrorRedirector(ProcessBuilder.Redirect.DISCARD).start();
    }

    void stop() throws IOException {
      if (server != null) {
        server.close();
        server = null;
      }
    }
  }

  /** A Debian redis-server on 127.0.0.1, without persistence. */
  private final class Redis {
    final int port;
    Process process;

    Redis(int port) {
      this.port = port;
    }

    void start() throws Exception {
      process = FleetBench.this.start("redis-" + port, List.of("redis-server", "--port",
          Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"));
      Children.awaitPort(process, port);
    }

    void stop() {
      if (process != null) {
        Children.stop(process);
        process = null;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Processes

  private void stopAll() {
    Children.stopAll();
    try {
      if (postgres != null) {
        postgres.stop();
      }
    } catch (IOException e) {
      log("stopping PostgreSQL: " + e.getMessage());
    }
  }

  private Process start(String label, List<String> command) throws IOException {
    return start(label, command, Map.of());
  }

  private Process start(String label, List<String> command, Map<String, String> env)
      throws IOException {
    return Children.start(work, work.resolve(label + ".log"), true, command, env);
  }






  private static void log(String text) {
    System.err.println("fleet: " + text);
  }

  private static String fmt(double value) {
    return String.format(Locale.ROOT, value == Math.rint(value) ? "%,.0f" : "%,.1f", value);
  }

  private static String fmt2(double value) {
    return String.format(Locale.ROOT, "%.2f", value);
  }

  // ---------------------------------------------------------------------------------------------

  /** Command-line options. */
  private static final class Options {
    static final String USAGE = String.join("\n",
        "usage: FleetBench [options]",
        "  --sentinel PATH      the launcher (default bin/sentinel)",
        "  --gateways N         sentinel http processes (default 4)",
        "  --sessions N         sessions per gateway (default 4)",
        "  --warmup S           warm-up seconds per fleet (default 16)",
        "  --measure S          seconds per measured phase (default 6)",
        "  --rounds N           rounds of free/limited, order alternating (default 2)",
        "  --outage S           seconds the store is stopped (default 10; 0: no outage)",
        "  --lead S             seconds of load before the outage (default 3)",
        "  --recovery-max S     seconds of load after the store is back (default 12)",
        "  --batch N            N of batched(N) (default 20)",
        "  --capped-rate R      the binding limit, calls/s, burst the same (default 100)",
        "  --stores LIST        postgres,redis (default both)",
        "  --syncs LIST         exact,batched (default both)",
        "  --gateway-opts OPTS  JAVA_OPTS for each gateway (default -Xmx160m)",
        "  --smoke              one fleet of 2 on PostgreSQL, batched, 1 s phases, 2 s outage",
        "  --out FILE           write the JSON result there");
    Path sentinel = Path.of("bin/sentinel");
    int gateways = 4;
    int sessionsPerGateway = 4;
    double warmup = 16;
    double measure = 6;
    int rounds = 2;
    double outage = 10;
    double lead = 3;
    double recoveryMax = 12;
    long batch = 20;
    double cappedRate = 100;
    List<String> stores = List.of("postgres", "redis");
    List<String> syncs = List.of("exact", "batched");
    String gatewayOpts = "-Xmx160m";
    Path out;
    boolean help;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        if (arg.equals("--help") || arg.equals("-h")) {
          o.help = true;
          continue;
        }
        if (arg.equals("--smoke")) {
          o.gateways = 2;
          o.sessionsPerGateway = 2;
          o.warmup = 1;
          o.measure = 1;
          o.rounds = 1;
          o.outage = 2;
          o.lead = 0.5;
          o.recoveryMax = 8;
          o.stores = List.of("postgres");
          o.syncs = List.of("batched");
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(arg + " needs a value");
        }
        String v = args[++i];
        switch (arg) {
          case "--sentinel": o.sentinel = Path.of(v); break;
          case "--gateways": o.gateways = Integer.parseInt(v); break;
          case "--sessions": o.sessionsPerGateway = Integer.parseInt(v); break;
          case "--warmup": o.warmup = Double.parseDouble(v); break;
          case "--measure": o.measure = Double.parseDouble(v); break;
          case "--rounds": o.rounds = Integer.parseInt(v); break;
          case "--outage": o.outage = Double.parseDouble(v); break;
          case "--lead": o.lead = Double.parseDouble(v); break;
          case "--recovery-max": o.recoveryMax = Double.parseDouble(v); break;
          case "--batch": o.batch = Long.parseLong(v); break;
          case "--capped-rate": o.cappedRate = Double.parseDouble(v); break;
          case "--stores": o.stores = List.of(v.split(",")); break;
          case "--syncs": o.syncs = List.of(v.split(",")); break;
          case "--gateway-opts": o.gatewayOpts = v; break;
          case "--out": o.out = Path.of(v); break;
          default: throw new IllegalArgumentException("unknown option " + arg);
        }
      }
      if (o.gateways < 1 || o.sessionsPerGateway < 1 || o.rounds < 1 || o.measure <= 0
          || o.warmup < 0 || o.outage < 0 || o.batch < 1 || o.cappedRate < 1) {
        throw new IllegalArgumentException("gateways, sessions, rounds, batch and capped rate"
            + " must be >= 1, measure > 0, warm-up and outage >= 0");
      }
      for (String s : o.stores) {
        if (!s.equals("postgres") && !s.equals("redis")) {
          throw new IllegalArgumentException("--stores: postgres or redis, got " + s);
        }
      }
      for (String s : o.syncs) {
        if (!s.equals("exact") && !s.equals("batched")) {
          throw new IllegalArgumentException("--syncs: exact or batched, got " + s);
        }
      }
      return o;
    }
  }
}
