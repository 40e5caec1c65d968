package dev.sentinel.benchmarks;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The end-to-end benchmark of {@code sentinel stdio} (issue 3, item 9): what the gateway adds to a
 * {@code tools/call}, how long it takes to answer {@code initialize}, and how much memory it holds.
 *
 * <p>In one run, with one client ({@link LineClient}: raw JSON lines over a child's stdin and
 * stdout, the same code for every child):
 * <ol>
 *   <li><b>Latency.</b> For each backend (the MCP Java SDK {@link EchoMcpServer}; a Perl
 *       one-liner server that answers in microseconds; {@code @modelcontextprotocol/server-everything}
 *       when node and {@code interop/node_modules} are there), the backend reached directly and
 *       the same backend command behind {@code sentinel stdio} with governance on (a policy rule
 *       allowing the tool, a rate limit that never refuses, a JSON Lines audit sink), once per
 *       gateway JVM mode (C2 for a long-running gateway, and the launcher's C1-only defaults).
 *       All arms run at once; calls go in blocks, arm after arm, the order rotating each round,
 *       so drift on a shared machine hits every arm alike. Reported: p50/p90/p99/p99.9 per arm
 *       and the gateway's difference from the direct arm.</li>
 *   <li><b>Start-up.</b> Launch to the {@code initialize} answer, median of N launches, for each
 *       backend alone and for the gateway fronting it (with the release's CDS archive when the
 *       launcher has one, and without it, {@code SENTINEL_CDS=off}), and launch to the backend's
 *       tool listed (the gateway answers {@code initialize} before its backends are up). Launches
 *       of the different kinds are interleaved.</li>
 *   <li><b>Memory.</b> VmRSS of the gateway (from {@code /proc/<pid>/status}) fronting three
 *       idle Java backends, after start and after a latency run, for several JVM flag sets.</li>
 * </ol>
 *
 * <p>Results go to a JSON file; a Markdown summary goes to stdout. Run it with
 * {@code benchmarks/stdio-bench} (which builds first); {@code --help} lists the options. This is
 * a harness, not a test: it never fails on a number, only on a wrong answer or a dead process.
 */
public final class StdioGatewayBench {
  private static final String PROTOCOL = "2025-06-18";
  private static final String MESSAGE = "hello-bench";

  private final Options options;
  private final Path work;
  private final String javaBin;
  private final String jar;

  private StdioGatewayBench(Options options, Path work) {
    this.options = options;
    this.work = work;
    this.javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    try {
      this.jar = Path.of(StdioGatewayBench.class.getProtectionDomain().getCodeSource()
          .getLocation().toURI()).toString();
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Runs the benchmark. Options: {@code --sentinel PATH} (the launcher, default
   * {@code bin/sentinel}), {@code --out FILE} (the JSON result), {@code --calls N},
   * {@code --warmup N}, {@code --block N}, {@code --launches N}, {@code --memory-calls N},
   * {@code --phases latency,startup,memory}, {@code --backends java,perl,node},
   * {@code --node-server PATH}; see {@code --help}.
   */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("stdio-bench: " + e.getMessage());
      System.err.println(Options.USAGE);
      System.exit(2);
      return;
    }
    if (options.help) {
      System.out.println(Options.USAGE);
      return;
    }
    if (!Files.isExecutable(options.sentinel)) {
      System.err.println("stdio-bench: " + options.sentinel + " is not an executable launcher");
      System.exit(2);
    }
    Path work = Files.createTempDirectory("stdio-bench-");
    ObjectNode result = new StdioGatewayBench(options, work).run();
    if (options.out != null) {
      Files.createDirectories(options.out.toAbsolutePath().getParent());
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build()
          .writeValue(options.out.toFile(), result);
    }
    System.out.print(Markdown.render(result, options.out));
    deleteTree(work);
  }

  private ObjectNode run() throws Exception {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    root.put("benchmark", "sentinel stdio end to end (issue 3, item 9)");
    root.put("started", Instant.now().toString());
    root.set("machine", Machine.describe(javaBin));
    ObjectNode settings = root.putObject("settings");
    settings.put("calls", options.calls);
    settings.put("warmup", options.warmup);
    settings.put("block", options.block);
    settings.put("launches", options.launches);
    settings.put("memoryCalls", options.memoryCalls);
    settings.put("ablation", options.ablation);
    settings.put("profile", options.profile == null ? null : options.profile.toString());
    settings.put("sentinel", options.sentinel.toString());
    if (options.baseline != null) {
      settings.put("baseline", options.baseline.toString());
    }
    settings.put("protocolVersion", PROTOCOL);
    settings.put("clientJvm", String.join(" ",
        ManagementFactory.getRuntimeMXBean().getInputArguments()));
    ObjectNode targets = root.putObject("targets");
    targets.put("addedP50Us", 100);
    targets.put("addedP99Us", 500);
    targets.put("startupMs", 600);
    targets.put("initializeMedianMs", 300);
    targets.put("rssThreeIdleBackendsMb", 128);

    List<Backend> backends = backends(root.putArray("notes"));
    if (options.phases.contains("latency")) {
      ArrayNode latency = root.putArray("latency");
      for (Backend backend : backends) {
        if (options.backends.contains(backend.kind)) {
          log("latency: " + backend.kind);
          latency.add(latency(backend));
        }
      }
    }
    if (options.phases.contains("startup")) {
      log("start-up");
      List<Backend> chosen = new ArrayList<>();
      for (Backend backend : backends) {
        if (options.backends.contains(backend.kind)) {
          chosen.add(backend);
        }
      }
      root.set("startup", startup(chosen));
    }
    if (options.phases.contains("memory")) {
      log("memory");
      root.set("memory", memory(backends.get(0)));
    }
    root.put("finished", Instant.now().toString());
    root.set("loadAverageAtEnd", JsonNodeFactory.instance.textNode(Machine.loadAverage()));
    return root;
  }

  // ---------------------------------------------------------------------------------------------
  // Backends and gateways

  /** A backend command and how to call its echo tool. */
  private record Backend(String kind, List<String> command, String arguments, String expect) {}

  /**
   * A gateway set-up: JVM flags ({@code JAVA_OPTS} after the launcher's defaults) and whether the
   * config has its audit sink and rate limit (the policy rule is always there).
   */
  private record Mode(String label, String javaOpts, boolean audit, boolean limit, boolean cds,
      Path launcher) {
    Mode(String label, String javaOpts) {
      this(label, javaOpts, true, true, true, null);
    }

    Mode(String label, String javaOpts, boolean audit, boolean limit) {
      this(label, javaOpts, audit, limit, true, null);
    }

    /** The same set-up without the release's CDS archive ({@code SENTINEL_CDS=off}). */
    Mode withoutCds(String label) {
      return new Mode(label, javaOpts, audit, limit, false, launcher);
    }

    /** The same set-up run by another launcher ({@code --baseline}), labelled "baseline ...". */
    Mode baseline(Path other) {
      return new Mode("baseline " + label, javaOpts, audit, limit, cds, other);
    }
  }

  private static final List<Mode> LATENCY_MODES = List.of(
      new Mode("gateway C2 (JAVA_OPTS=-XX:TieredStopAtLevel=4)", "-XX:TieredStopAtLevel=4"),
      new Mode("gateway C1 (launcher defaults)", ""));

  /**
   * With {@code --ablation}: what parts of governance cost, by switching them off. The audit
   * sink cannot be left out ({@code sinks: []} stops the gateway at start in this version), so
   * "no JSONL" audits to an SLF4J logger that is switched off: events are still built and
   * queued, but neither serialized nor written.
   */
  private static final String AUDIT_OFF =
      " -Dorg.slf4j.simpleLogger.log." + "bench.audit.off=off";

  private static final List<Mode> ABLATION_MODES = List.of(
      new Mode("gateway C2, audit to a disabled logger", "-XX:TieredStopAtLevel=4" + AUDIT_OFF,
          false, true),
      new Mode("gateway C2, audit to a disabled logger, no limit",
          "-XX:TieredStopAtLevel=4" + AUDIT_OFF, false, false));

  private List<Backend> backends(ArrayNode notes) throws IOException {
    List<Backend> list = new ArrayList<>();
    list.add(new Backend("java",
        List.of(javaBin, "-XX:+UseSerialGC", "-Xshare:auto", "-cp", jar,
            EchoMcpServer.class.getName()),
        "{\"text\":\"" + MESSAGE + "\"}", "\"" + MESSAGE + "\""));
    String perl = which("perl");
    if (perl == null) {
      notes.add("perl not found: the Perl backend is skipped");
    } else {
      Path script = work.resolve("fast-echo.pl");
      Files.writeString(script, PERL_SERVER);
      list.add(new Backend("perl", List.of(perl, script.toString()),
          "{\"text\":\"" + MESSAGE + "\"}", "\"" + MESSAGE + "\""));
    }
    String node = which("node");
    Path everything = options.nodeServer.toAbsolutePath();
    if (node == null) {
      notes.add("node not found: the server-everything backend is skipped");
    } else if (!Files.isRegularFile(everything)) {
      notes.add(everything + " is absent (run `npm ci` in interop/): the server-everything"
          + " backend is skipped");
    } else {
      list.add(new Backend("node", List.of(node, everything.toString(), "stdio"),
          "{\"message\":\"" + MESSAGE + "\"}", "Echo: " + MESSAGE));
    }
    return list;
  }

  /**
   * A tiny MCP server: it answers initialize, tools/list (one tool, echo), tools/call (the text
   * argument) and ping, and refuses other requests; it starts in milliseconds and answers in
   * microseconds, so the gateway's share of a round trip shows clearly.
   */
  private static final String PERL_SERVER = String.join("\n",
      "$| = 1;",
      "while (my $line = <STDIN>) {",
      "  next unless $line =~ /\"method\"\\s*:\\s*\"([^\"]*)\"/;",
      "  my $method = $1;",
      "  next unless $line =~ /\"id\"\\s*:\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|-?\\d+)/;",
      "  my $id = $1;",
      "  my $result;",
      "  if ($method eq 'initialize') {",
      "    my ($v) = $line =~ /\"protocolVersion\"\\s*:\\s*\"([^\"]*)\"/;",
      "    $v ||= '2025-06-18';",
      "    $result = qq({\"protocolVersion\":\"$v\",\"capabilities\":{\"tools\":{}},"
          + "\"serverInfo\":{\"name\":\"fast-echo\",\"version\":\"1\"}});",
      "  } elsif ($method eq 'tools/list') {",
      "    $result = '{\"tools\":[{\"name\":\"echo\",\"inputSchema\":{\"type\":\"object\","
          + "\"properties\":{\"text\":{\"type\":\"string\"}}}}]}';",
      "  } elsif ($method eq 'tools/call') {",
      "    my ($t) = $line =~ /\"text\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"/;",
      "    $result = qq({\"content\":[{\"type\":\"text\",\"text\":\"$t\"}],\"isError\":false});",
      "  } elsif ($method eq 'ping') {",
      "    $result = '{}';",
      "  }",
      "  if (defined $result) {",
      "    print qq({\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":$result}\\n);",
      "  } else {",
      "    print qq({\"jsonrpc\":\"2.0\",\"id\":$id,\"error\":{\"code\":-32601,"
          + "\"message\":\"Method not found\"}}\\n);",
      "  }",
      "}",
      "");

  /**
   * Writes a gateway config fronting the given backends (name to backend) with governance on: a
   * policy rule allowing every backend's echo, a rate limit that never refuses (unless
   * {@code limit} is false) and a JSON Lines audit sink (when {@code audit} is null, an SLF4J
   * sink on the logger {@code bench.audit.off}, which {@link #AUDIT_OFF} switches off).
   */
  private Path config(String name, Map<String, Backend> backends, Path audit, boolean limit)
      throws IOException {
    StringBuilder yaml = new StringBuilder();
    yaml.append("gateway: { name: stdio-bench }\n");
    yaml.append("identity: { principal: { id: bench, roles: [bench] } }\n");
    yaml.append("backends:\n");
    for (Map.Entry<String, Backend> entry : backends.entrySet()) {
      List<String> command = entry.getValue().command;
      yaml.append("  - name: ").append(entry.getKey()).append('\n');
      yaml.append("    stdio:\n");
      yaml.append("      command: ").append(quote(command.get(0))).append('\n');
      yaml.append("      args: [");
      for (int i = 1; i < command.size(); i++) {
        yaml.append(i > 1 ? ", " : "").append(quote(command.get(i)));
      }
      yaml.append("]\n");
    }
    yaml.append("policy:\n");
    yaml.append("  roles: { bench: {} }\n");
    yaml.append("  rules:\n");
    yaml.append("    - id: bench-echo\n");
    yaml.append("      allow: { roles: [bench], tools: [\"*__echo\"] }\n");
    if (limit) {
      yaml.append("  limits:\n");
      yaml.append("    - { id: never-refuses, rate: 1000000000/s, per: [principal] }\n");
    }
    yaml.append("audit:\n");
    if (audit == null) {
      yaml.append("  sinks: [ { slf4j: bench.audit.off } ]\n");
    } else {
      yaml.append("  sinks: [ { jsonl: ").append(quote(audit.toString())).append(" } ]\n");
    }
    Path file = work.resolve(name + ".yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private LineClient gateway(String label, Path config, String javaOpts) throws IOException {
    return gateway(label, config, javaOpts, true);
  }

  private LineClient gateway(String label, Path config, String javaOpts, boolean cds) throws IOException {
    return gateway(label, config, javaOpts, cds, null);
  }

  private LineClient gateway(String label, Path config, String javaOpts, boolean cds, Path launcher)
      throws IOException {
    Path sentinel = launcher == null ? options.sentinel : launcher;
    return LineClient.start(label,
        List.of(sentinel.toAbsolutePath().toString(), "stdio", "--config",
            config.toString()),
        cds ? Map.of("JAVA_OPTS", javaOpts) : Map.of("JAVA_OPTS", javaOpts, "SENTINEL_CDS", "off"), work);
  }

  // ---------------------------------------------------------------------------------------------
  // Latency

  /** One client and its samples. */
  private static final class Arm {
    final String label;
    final String javaOpts;
    final LineClient client;
    final String tool;
    final long[] samples;
    final List<Long> blockMedians = new ArrayList<>();
    int count;
    long userTicks;
    long systemTicks;
    long switches;

    Arm(String label, String javaOpts, LineClient client, String tool, int calls) {
      this.label = label;
      this.javaOpts = javaOpts;
      this.client = client;
      this.tool = tool;
      this.samples = new long[calls];
    }
  }

  private ObjectNode latency(Backend backend) throws Exception {
    List<Arm> arms = new ArrayList<>();
    List<Path> audits = new ArrayList<>();
    try {
      arms.add(new Arm("direct", null,
          LineClient.start(backend.kind + "-direct", backend.command, Map.of(), work), "echo",
          options.calls));
      List<Mode> modes = new ArrayList<>(LATENCY_MODES);
      if (options.ablation) {
        modes.addAll(ABLATION_MODES);
      }
      if (options.baseline != null) {
        // Each set-up twice, this build's and the baseline's, measured block by block in turn.
        List<Mode> both = new ArrayList<>();
        for (Mode mode : modes) {
          both.add(mode);
          both.add(mode.baseline(options.baseline));
        }
        modes = both;
      }
      for (Mode mode : modes) {
        int index = audits.size();
        Path audit = work.resolve("audit-" + backend.kind + "-" + index + ".jsonl");
        audits.add(audit);
        Path config = config("latency-" + backend.kind + "-" + index,
            Map.of("echo", backend), mode.audit ? audit : null, mode.limit);
        String javaOpts = mode.javaOpts;
        if (options.profile != null) {
          Files.createDirectories(options.profile);
          javaOpts += " -XX:StartFlightRecording=settings=" + options.profileSettings + ",filename="
              + options.profile.toAbsolutePath().resolve(backend.kind + "-gw" + index + ".jfr");
        }
        arms.add(new Arm(mode.label, javaOpts,
            gateway(backend.kind + "-gw" + index, config, javaOpts, true, mode.launcher), "echo__echo",
            options.calls));
      }
      for (Arm arm : arms) {
        arm.client.initialize(PROTOCOL);
        arm.client.awaitTools(arm.tool); // a gateway's backend comes up after initialize
      }
      int rounds = 0;
      for (int done = 0; done < options.warmup; done += options.block, rounds++) {
        int n = Math.min(options.block, options.warmup - done);
        for (int k = 0; k < arms.size(); k++) {
          Arm arm = arms.get((k + rounds) % arms.size());
          for (int i = 0; i < n; i++) {
            arm.client.callTool(arm.tool, backend.arguments, backend.expect);
          }
        }
      }
      for (int done = 0; done < options.calls; done += options.block, rounds++) {
        int n = Math.min(options.block, options.calls - done);
        for (int k = 0; k < arms.size(); k++) {
          Arm arm = arms.get((k + rounds) % arms.size());
          int from = arm.count;
          long pid = arm.client.pid();
          long[] ticks = Machine.cpuTicks(pid);
          long switches = Machine.contextSwitches(pid);
          for (int i = 0; i < n; i++) {
            arm.samples[arm.count++] = arm.client.callTool(arm.tool, backend.arguments,
                backend.expect);
          }
          long[] ticksAfter = Machine.cpuTicks(pid);
          arm.userTicks += ticksAfter[0] - ticks[0];
          arm.systemTicks += ticksAfter[1] - ticks[1];
          arm.switches += Machine.contextSwitches(pid) - switches;
          long[] block = Arrays.copyOfRange(arm.samples, from, arm.count);
          Arrays.sort(block);
          arm.blockMedians.add(percentile(block, 0.5));
        }
      }
      ObjectNode node = JsonNodeFactory.instance.objectNode();
      node.put("backend", backend.kind);
      node.put("backendCommand", String.join(" ", backend.command));
      ArrayNode armsNode = node.putArray("arms");
      Arm direct = arms.get(0);
      long[] directSorted = direct.samples.clone();
      Arrays.sort(directSorted);
      for (int a = 0; a < arms.size(); a++) {
        Arm arm = arms.get(a);
        long[] sorted = arm.samples.clone();
        Arrays.sort(sorted);
        ObjectNode armNode = armsNode.addObject();
        armNode.put("label", arm.label);
        if (arm.javaOpts != null) {
          armNode.put("javaOpts", arm.javaOpts);
          armNode.put("pid", arm.client.pid());
          Map<String, Long> status = Machine.status(arm.client.pid());
          armNode.put("rssAfterRunKb", status.getOrDefault("VmRSS", -1L));
          armNode.put("hwmAfterRunKb", status.getOrDefault("VmHWM", -1L));
          armNode.put("threads", status.getOrDefault("Threads", -1L));
          long auditLines = lines(audits.get(a - 1));
          if (auditLines >= 0) {
            armNode.put("auditLines", auditLines);
          }
        }
        armNode.put("calls", sorted.length);
        // CPU of the process the client talks to (the gateway JVM, or the backend when direct)
        armNode.put("cpuUsPerCall", perCall(arm.userTicks + arm.systemTicks, sorted.length));
        armNode.put("cpuUserUsPerCall", perCall(arm.userTicks, sorted.length));
        armNode.put("cpuSystemUsPerCall", perCall(arm.systemTicks, sorted.length));
        armNode.put("contextSwitchesPerCall",
            Math.round(arm.switches * 100.0 / sorted.length) / 100.0);
        armNode.set("us", percentiles(sorted));
        if (a > 0) {
          ObjectNode added = armNode.putObject("addedUs");
          for (Map.Entry<String, Double> p : PERCENTILES.entrySet()) {
            added.put(p.getKey(), micros(percentile(sorted, p.getValue())
                - percentile(directSorted, p.getValue())));
          }
          added.put("mean", micros(mean(sorted) - mean(directSorted)));
          long[] paired = new long[arm.blockMedians.size()];
          for (int i = 0; i < paired.length; i++) {
            paired[i] = arm.blockMedians.get(i) - direct.blockMedians.get(i);
          }
          Arrays.sort(paired);
          ObjectNode blocks = armNode.putObject("blockMedianDifferenceUs");
          blocks.put("blocks", paired.length);
          blocks.put("min", micros(paired[0]));
          blocks.put("median", micros(percentile(paired, 0.5)));
          blocks.put("max", micros(paired[paired.length - 1]));
        }
      }
      return node;
    } finally {
      for (Arm arm : arms) {
        arm.client.close();
      }
    }
  }

  /** Clock ticks (10 ms) over a number of calls, in µs per call. */
  private static double perCall(long ticks, int calls) {
    return Math.round(ticks * 10_000.0 / calls * 10) / 10.0;
  }

  private static final Map<String, Double> PERCENTILES = new LinkedHashMap<>();

  static {
    PERCENTILES.put("p50", 0.50);
    PERCENTILES.put("p90", 0.90);
    PERCENTILES.put("p99", 0.99);
    PERCENTILES.put("p99.9", 0.999);
  }

  private static ObjectNode percentiles(long[] sorted) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    for (Map.Entry<String, Double> p : PERCENTILES.entrySet()) {
      node.put(p.getKey(), micros(percentile(sorted, p.getValue())));
    }
    node.put("mean", micros(mean(sorted)));
    node.put("min", micros(sorted[0]));
    node.put("max", micros(sorted[sorted.length - 1]));
    return node;
  }

  /** Nearest-rank percentile of sorted values. */
  static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static double mean(long[] values) {
    double sum = 0;
    for (long v : values) {
      sum += v;
    }
    return sum / values.length;
  }

  private static double micros(double nanos) {
    return Math.round(nanos / 100.0) / 10.0;
  }

  // ---------------------------------------------------------------------------------------------
  // Start-up

  /** A kind of launch: a backend alone, or a gateway fronting one. */
  private record Launch(String label, String backend, boolean gateway, Mode mode) {}

  private ObjectNode startup(List<Backend> backends) throws Exception {
    Mode c1 = new Mode("launcher defaults", "");
    Mode c2 = new Mode("C2", "-XX:TieredStopAtLevel=4");
    List<Launch> kinds = new ArrayList<>();
    Map<String, Backend> byKind = new LinkedHashMap<>();
    for (Backend backend : backends) {
      byKind.put(backend.kind, backend);
      kinds.add(new Launch(backend.kind + " backend alone", backend.kind, false, null));
      kinds.add(new Launch("gateway (launcher defaults) + " + backend.kind, backend.kind, true,
          c1));
      kinds.add(new Launch("gateway (launcher defaults, SENTINEL_CDS=off) + " + backend.kind,
          backend.kind, true, c1.withoutCds("launcher defaults without the CDS archive")));
    }
    if (byKind.containsKey("perl")) {
      kinds.add(new Launch("gateway (JAVA_OPTS=-XX:TieredStopAtLevel=4) + perl", "perl", true,
          c2));
    }
    Map<Launch, long[]> times = new LinkedHashMap<>();
    Map<Launch, long[]> listed = new LinkedHashMap<>();
    Map<Launch, long[]> exits = new LinkedHashMap<>();
    for (Launch kind : kinds) {
      times.put(kind, new long[options.launches]);
      listed.put(kind, new long[options.launches]);
      exits.put(kind, new long[options.launches]);
    }
    Path audit = work.resolve("audit-startup.jsonl");
    Map<String, Path> configs = new LinkedHashMap<>();
    for (Backend backend : backends) {
      configs.put(backend.kind,
          config("startup-" + backend.kind, Map.of("echo", backend), audit, true));
    }
    for (int i = 0; i < options.launches; i++) {
      for (int k = 0; k < kinds.size(); k++) {
        Launch kind = kinds.get((k + i) % kinds.size());
        Backend backend = byKind.get(kind.backend);
        LineClient client = kind.gateway
            ? gateway("startup-gw-" + kind.backend, configs.get(kind.backend), kind.mode.javaOpts,
                kind.mode.cds)
            : LineClient.start("startup-" + kind.backend, backend.command, Map.of(), work);
        try {
          client.initialize(PROTOCOL);
          times.get(kind)[i] = System.nanoTime() - client.launchedNanos;
          // The backend comes up in the background behind a gateway: until its tool is listed.
          client.awaitTools(kind.gateway ? "echo__echo" : "echo");
          listed.get(kind)[i] = System.nanoTime() - client.launchedNanos;
        } finally {
          exits.get(kind)[i] = client.closeAndTime();
        }
      }
    }
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("launches", options.launches);
    ArrayNode rows = node.putArray("kinds");
    Map<String, Double> aloneMedians = new LinkedHashMap<>();
    for (Map.Entry<Launch, long[]> entry : times.entrySet()) {
      long[] sorted = entry.getValue().clone();
      Arrays.sort(sorted);
      double median = millis(percentile(sorted, 0.5));
      ObjectNode row = rows.addObject();
      Launch kind = entry.getKey();
      row.put("label", kind.label);
      row.put("backend", kind.backend);
      row.put("gateway", kind.gateway);
      if (kind.mode != null) {
        row.put("javaOpts", kind.mode.javaOpts);
      }
      row.put("medianMs", median);
      if (kind.mode != null) {
        row.put("cds", kind.mode.cds);
      }
      long[] listedSorted = listed.get(kind).clone();
      Arrays.sort(listedSorted);
      row.put("toolsListedMedianMs", millis(percentile(listedSorted, 0.5)));
      row.put("minMs", millis(sorted[0]));
      row.put("maxMs", millis(sorted[sorted.length - 1]));
      ArrayNode all = row.putArray("allMs");
      for (long t : entry.getValue()) {
        all.add(millis(t));
      }
      long[] exitSorted = exits.get(kind).clone();
      Arrays.sort(exitSorted);
      row.put("medianExitAfterEofMs", exitSorted[exitSorted.length / 2] < 0 ? -1
          : millis(exitSorted[exitSorted.length / 2]));
      if (!kind.gateway) {
        aloneMedians.put(kind.backend, median);
      } else {
        row.put("minusBackendAloneMs",
            Math.round((median - aloneMedians.get(kind.backend)) * 10) / 10.0);
      }
    }
    return node;
  }

  private static double millis(long nanos) {
    return Math.round(nanos / 100_000.0) / 10.0;
  }

  // ---------------------------------------------------------------------------------------------
  // Memory

  private static final List<Mode> MEMORY_MODES = List.of(
      new Mode("launcher defaults (SerialGC, C1, CDS)", ""),
      new Mode("C2", "-XX:TieredStopAtLevel=4"),
      new Mode("-Xmx64m", "-Xmx64m"),
      new Mode("-Xmx64m C2", "-Xmx64m -XX:TieredStopAtLevel=4"),
      new Mode("small", "-Xmx32m -Xss256k -XX:ReservedCodeCacheSize=16m"
          + " -XX:MaxDirectMemorySize=16m"),
      new Mode("plain JVM (G1, C2)", "-XX:-UseSerialGC -XX:+UseG1GC -XX:TieredStopAtLevel=4"));

  private ArrayNode memory(Backend backend) throws Exception {
    ArrayNode rows = JsonNodeFactory.instance.arrayNode();
    Map<String, Backend> three = new LinkedHashMap<>();
    three.put("echo", backend);
    three.put("idle1", backend);
    three.put("idle2", backend);
    int index = 0;
    for (Mode mode : MEMORY_MODES) {
      Path config = config("memory-" + index, three, work.resolve("audit-memory-" + index++
          + ".jsonl"), true);
      LineClient gateway = gateway("memory-gw", config, mode.javaOpts);
      try {
        gateway.initialize(PROTOCOL);
        gateway.awaitTools(three.keySet().stream().map(name -> name + "__echo").toArray(String[]::new));
        // Let start-up work (compilation, the first GC) settle before reading the idle size.
        TimeUnit.MILLISECONDS.sleep(options.settleMillis);
        Map<String, Long> idle = Machine.status(gateway.pid());
        for (int i = 0; i < options.memoryCalls; i++) {
          gateway.callTool("echo__echo", backend.arguments, backend.expect);
        }
        Map<String, Long> after = Machine.status(gateway.pid());
        ObjectNode row = rows.addObject();
        row.put("label", mode.label);
        row.put("javaOpts", mode.javaOpts);
        row.put("backends", three.size());
        row.put("idleRssMb", mb(idle.getOrDefault("VmRSS", -1L)));
        row.put("idleThreads", idle.getOrDefault("Threads", -1L));
        row.put("calls", options.memoryCalls);
        row.put("afterCallsRssMb", mb(after.getOrDefault("VmRSS", -1L)));
        row.put("afterCallsHwmMb", mb(after.getOrDefault("VmHWM", -1L)));
        row.put("afterCallsThreads", after.getOrDefault("Threads", -1L));
      } finally {
        gateway.close();
      }
    }
    return rows;
  }

  private static double mb(long kb) {
    return kb < 0 ? -1 : Math.round(kb / 102.4) / 10.0;
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static long lines(Path file) {
    try (Stream<String> lines = Files.lines(file, StandardCharsets.UTF_8)) {
      return lines.count();
    } catch (IOException | UncheckedIOException e) {
      return -1;
    }
  }

  private static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static String which(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return null;
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return candidate.toAbsolutePath().toString();
      }
    }
    return null;
  }

  private static void log(String message) {
    System.err.println("stdio-bench: " + message + " (" + Instant.now() + ", load "
        + Machine.loadAverage() + ")");
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A temporary directory left behind is harmless.
    }
  }

  /** Command-line options. */
  private static final class Options {
    static final String USAGE = String.join("\n",
        "usage: StdioGatewayBench [options]",
        "  --sentinel PATH      the sentinel launcher (default bin/sentinel)",
        "  --out FILE           write the JSON result here",
        "  --calls N            measured calls per arm (default 20000)",
        "  --warmup N           warm-up calls per arm (default 5000)",
        "  --block N            calls per block; arms alternate block by block (default 1000)",
        "  --launches N         launches per start-up kind (default 10)",
        "  --memory-calls N     calls between the idle and the after-calls RSS (default 20000)",
        "  --settle-ms N        idle time before the idle RSS is read (default 2000)",
        "  --phases LIST        of latency,startup,memory (default all)",
        "  --backends LIST      of java,perl,node for the latency and start-up phases (default all found)",
        "  --ablation           also run C2 gateways auditing to a disabled logger, with and"
            + " without the limit",
        "  --baseline PATH      also run each latency set-up with this launcher (another build),"
            + " block by block in turn with this one's",
        "  --profile DIR        record JFR (settings=profile) of each latency-phase gateway in DIR",
        "  --profile-settings S JFR settings: profile (default), default, or a .jfc file",
        "  --node-server PATH   server-everything's dist/index.js (default"
            + " interop/node_modules/@modelcontextprotocol/server-everything/dist/index.js)");

    Path sentinel = Path.of("bin", "sentinel");
    Path out;
    int calls = 20_000;
    int warmup = 5_000;
    int block = 1_000;
    int launches = 10;
    int memoryCalls = 20_000;
    long settleMillis = 2_000;
    List<String> phases = List.of("latency", "startup", "memory");
    List<String> backends = List.of("java", "perl", "node");
    Path nodeServer = Path.of("interop", "node_modules", "@modelcontextprotocol",
        "server-everything", "dist", "index.js");
    boolean help;
    boolean ablation;
    Path profile;
    Path baseline;
    String profileSettings = "profile";

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        if (arg.equals("--help") || arg.equals("-h")) {
          o.help = true;
          continue;
        }
        if (arg.equals("--ablation")) {
          o.ablation = true;
          continue;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("missing value for " + arg);
        }
        String value = args[++i];
        switch (arg) {
          case "--sentinel": o.sentinel = Path.of(value); break;
          case "--out": o.out = Path.of(value); break;
          case "--calls": o.calls = positive(arg, value); break;
          case "--warmup": o.warmup = nonNegative(arg, value); break;
          case "--block": o.block = positive(arg, value); break;
          case "--launches": o.launches = positive(arg, value); break;
          case "--memory-calls": o.memoryCalls = positive(arg, value); break;
          case "--settle-ms": o.settleMillis = positive(arg, value); break;
          case "--phases": o.phases = List.of(value.split(",")); break;
          case "--backends": o.backends = List.of(value.split(",")); break;
          case "--node-server": o.nodeServer = Path.of(value); break;
          case "--profile": o.profile = Path.of(value); break;
          case "--baseline": o.baseline = Path.of(value); break;
          case "--profile-settings": o.profileSettings = value; break;
          default: throw new IllegalArgumentException("unknown option " + arg);
        }
      }
      return o;
    }

    private static int positive(String name, String value) {
      int n = nonNegative(name, value);
      if (n == 0) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return n;
    }

    private static int nonNegative(String name, String value) {
      try {
        int n = Integer.parseInt(value);
        if (n < 0) {
          throw new IllegalArgumentException(name + " must not be negative: " + value);
        }
        return n;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + " must be a number: " + value);
      }
    }
  }
}
