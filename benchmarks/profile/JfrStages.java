import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Sorts the gateway's JFR execution samples (jdk.ExecutionSample) into the stages of serving a
 * call, for the HTTP benchmark's profile ({@code benchmarks/http-bench --profile DIR}). A source
 * file, run without a build:
 *
 * <pre>
 *   java benchmarks/profile/JfrStages.java [--group-us serving=281,audit=25] [--top 15]
 *       [--callers CLASS.METHOD]... FILE.jfr...
 * </pre>
 *
 * <p>Each sample belongs to one stage (its <em>self</em> stage): the first frame from the leaf
 * towards the root that a stage claims (JDK frames such as {@code HashMap.get} are claimed by
 * none, so a sample in them belongs to their caller's stage; {@code LockSupport.unpark} and the
 * executors' {@code execute} are the hand-off stage). Generic Jetty frames (I/O, HTTP parsing and
 * generation) are the backend client's when the stack holds Jetty client frames or runs on the
 * backend client's threads ({@code sentinel-http-NAME@...}), else the server's. A stage's
 * <em>subtree</em> share counts the samples with any of its frames on the stack (they overlap).
 *
 * <p>JFR (JDK 17) samples threads whose state is "in Java", on a CPU or not: on a busy machine a
 * thread that runs long stretches (the audit writer) is sampled far more often than its CPU time
 * says. So samples can be weighted by their thread group's measured CPU: {@code --group-us}
 * takes the benchmark's CPU µs per call by thread group ({@code serving}, {@code audit},
 * {@code configWatch}: the groups of {@code Machine.threadGroup}), and each sample of a group
 * weighs that group's µs divided by the group's sample count; samples of other threads (the
 * VM's, JFR's) then weigh nothing. A group's CPU includes its time in the kernel (system calls,
 * wake-ups), which JFR does not sample: it is spread over the group's stages in proportion to
 * their Java samples. Without {@code --group-us}, shares of samples.
 */
public final class JfrStages {
  private record Stage(String name, Predicate<String> claims) {}

  private static final String JETTY_GENERIC = "Jetty (generic)";
  private static final List<Stage> STAGES = List.of(
      new Stage("logging", f -> f.startsWith("org.slf4j.") || f.startsWith("ch.qos.logback.")
          || f.startsWith("java.util.logging.") || f.startsWith("org.apache.logging.")),
      new Stage("JSON (Jackson)", f -> f.startsWith("tools.jackson.")
          || f.startsWith("com.fasterxml.jackson.")
          || f.startsWith("dev.sentinel.core.internal.WireJson")),
      new Stage("audit (events, chain, SQLite)", f -> f.startsWith("org.sqlite.")
          || f.startsWith("org.jdbi.") || f.startsWith("dev.sentinel.jdbc.")
          || f.startsWith("dev.sentinel.core.audit.") || f.startsWith("java.sql.")),
      new Stage("authentication", f -> f.startsWith("dev.sentinel.core.auth.")
          || f.contains("Authenticat") && f.startsWith("dev.sentinel.")
          || f.startsWith("com.nimbusds.")),
      new Stage("classification (JsonRpc.classify)", f -> f.startsWith("dev.sentinel.mcp.jsonrpc.")),
      new Stage("policy", f -> f.startsWith("dev.sentinel.core.policy.")),
      new Stage("limits", f -> f.startsWith("dev.sentinel.core.limit.")
          || f.startsWith("io.github.bucket4j.") || f.startsWith("com.bucket4j.")),
      new Stage("SSE", f -> f.startsWith("dev.sentinel.mcp.transport.Sse")
          || f.startsWith("dev.sentinel.runner.http.SseWriter")
          || f.startsWith("dev.sentinel.runner.http.EventStream")),
      new Stage("backend HTTP client", f -> f.startsWith("org.eclipse.jetty.client.")
          || f.startsWith("dev.sentinel.mcp.transport.StreamableHttpTransport")),
      new Stage("hand-offs and wake-ups", f -> f.startsWith("java.util.concurrent.locks.LockSupport.")
          || f.startsWith("jdk.internal.misc.Unsafe.unpark") || f.startsWith("jdk.internal.misc.Unsafe.park")
          || f.startsWith("dev.sentinel.runner.http.SerialExecutor.")
          || f.startsWith("java.util.concurrent.ThreadPoolExecutor.execute")
          || f.startsWith("java.util.concurrent.ThreadPoolExecutor.getTask")
          || f.startsWith("java.util.concurrent.LinkedBlockingQueue.")
          || f.startsWith("java.util.concurrent.SynchronousQueue")
          || f.startsWith("java.util.concurrent.ScheduledThreadPoolExecutor")
          || f.startsWith("org.eclipse.jetty.util.thread.QueuedThreadPool.execute")
          || f.startsWith("org.eclipse.jetty.util.thread.ReservedThreadExecutor")
          || f.startsWith("org.eclipse.jetty.util.thread.strategy.")),
      new Stage(JETTY_GENERIC, f -> f.startsWith("org.eclipse.jetty.")),
      new Stage("gateway engine (sessions, routing, in-flight)", f -> f.startsWith("dev.sentinel.mcp.")),
      new Stage("pipeline (Sentinel.call, checks, kill switch)", f -> f.startsWith("dev.sentinel.core.")
          || f.startsWith("dev.sentinel.api.")),
      new Stage("runner-http adapter (McpHandler, HttpSession, exchanges)",
          f -> f.startsWith("dev.sentinel.runner.")),
      new Stage("JFR", f -> f.startsWith("jdk.jfr.")));
  private static final String SERVER = "Jetty server (request parsing, response writing)";
  private static final String OTHER = "other (JDK only)";

  private JfrStages() {}

  public static void main(String[] args) throws IOException {
    Map<String, Double> groupUs = new LinkedHashMap<>();
    List<String> callersOf = new ArrayList<>();
    int top = 15;
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--group-us":
          for (String pair : args[++i].split(",")) {
            String[] kv = pair.split("=");
            groupUs.put(kv[0].trim(), Double.parseDouble(kv[1]));
          }
          break;
        case "--top": top = Integer.parseInt(args[++i]); break;
        case "--callers": callersOf.add(args[++i]); break;
        default: files.add(Path.of(args[i]));
      }
    }
    List<RecordedEvent> events = new ArrayList<>();
    Map<String, Long> perGroup = new LinkedHashMap<>();
    for (Path file : files) {
      for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
        if (event.getEventType().getName().equals("jdk.ExecutionSample")
            && event.getStackTrace() != null) {
          events.add(event);
          perGroup.merge(machineGroup(threadName(event)), 1L, Long::sum);
        }
      }
    }
    boolean weighted = !groupUs.isEmpty();
    Map<String, Double> self = new LinkedHashMap<>();
    Map<String, Double> subtree = new HashMap<>();
    Map<String, Map<String, Double>> selfFrames = new HashMap<>();
    Map<String, Map<String, Double>> subtreeFrames = new HashMap<>();
    Map<String, Double> jsonCallers = new HashMap<>();
    Map<String, Double> threads = new HashMap<>();
    Map<String, Map<String, Double>> callers = new HashMap<>();
    long samples = 0;
    long truncated = 0;
    double weight = 0;
    for (RecordedEvent event : events) {
      RecordedStackTrace stack = event.getStackTrace();
      String thread = threadName(event);
      String group = machineGroup(thread);
      double w = weighted ? groupUs.getOrDefault(group, 0.0) / perGroup.get(group) : 1;
      if (w == 0) {
        continue;
      }
      samples++;
      weight += w;
      truncated += stack.isTruncated() ? 1 : 0;
      threads.merge(threadGroup(thread), w, Double::sum);
      List<String> frames = new ArrayList<>();
      for (RecordedFrame frame : stack.getFrames()) {
        if (frame.isJavaFrame()) {
          frames.add(frame.getMethod().getType().getName() + "." + frame.getMethod().getName());
        }
      }
      boolean client = thread.matches("sentinel-http-.+@.*")
          || frames.stream().anyMatch(f -> f.startsWith("org.eclipse.jetty.client."));
      String stage = OTHER;
      for (String frame : frames) {
        String claimed = stageOf(frame, client);
        if (claimed != null) {
          stage = claimed;
          break;
        }
      }
      self.merge(stage, w, Double::sum);
      for (String wanted : callersOf) {
        int at = frames.indexOf(wanted);
        if (at >= 0) {
          String chain = String.join(" < ", frames.subList(at + 1, Math.min(frames.size(), at + 5)));
          callers.computeIfAbsent(wanted, x -> new HashMap<>()).merge(chain, w, Double::sum);
        }
      }
      if (!frames.isEmpty()) {
        selfFrames.computeIfAbsent(stage, x -> new HashMap<>()).merge(frames.get(0), w, Double::sum);
      }
      if (stage.equals("JSON (Jackson)")) {
        String caller = String.join(" < ", frames.stream().filter(f -> (f.startsWith("dev.sentinel.")
            && !f.startsWith("dev.sentinel.core.internal.WireJson"))
            || f.startsWith("org.eclipse.jetty.")).limit(2).toList());
        jsonCallers.merge(caller, w, Double::sum);
      }
      Map<String, Set<String>> seen = new HashMap<>();
      for (String frame : frames) {
        String claimed = stageOf(frame, client);
        if (claimed != null) {
          seen.computeIfAbsent(claimed, x -> new HashSet<>()).add(frame);
        }
      }
      final double fw = w;
      seen.forEach((st, set) -> {
        subtree.merge(st, fw, Double::sum);
        set.forEach(f -> subtreeFrames.computeIfAbsent(st, x -> new HashMap<>())
            .merge(f, fw, Double::sum));
      });
    }
    final double total = Math.max(1e-9, weight);
    String unit = weighted ? "µs/call" : "% of samples";
    java.util.function.DoubleFunction<String> show = v -> String.format(Locale.ROOT, "%6.1f",
        weighted ? v : 100.0 * v / total);
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%d execution samples from %d recordings (%d with"
        + " truncated stacks); samples by thread group %s%n", samples, files.size(), truncated,
        perGroup));
    if (weighted) {
      out.append(String.format(Locale.ROOT, "weighted by the thread groups' CPU per call %s"
          + " (µs): %.0f µs per call in all%n", groupUs, weight));
    }
    out.append("\nBy thread (" + unit + "): ");
    sorted(threads).forEach(e -> out.append(e.getKey()).append(' ')
        .append(show.apply(e.getValue()).trim()).append("; "));
    out.append(String.format(Locale.ROOT, "%n%n%-58s %8s %8s %8s%n", "stage (" + unit + ")",
        "self", "self %", "subtree"));
    for (Map.Entry<String, Double> e : sorted(self)) {
      out.append(String.format(Locale.ROOT, "%-58s %8s %8.1f %8s%n", e.getKey(),
          show.apply(e.getValue()), 100.0 * e.getValue() / total,
          show.apply(subtree.getOrDefault(e.getKey(), e.getValue()))));
    }
    out.append("\nJSON (Jackson) self time by the first two Sentinel or Jetty frames above it ("
        + unit + "):\n");
    sorted(jsonCallers).stream().limit(top).forEach(e -> out.append("  ")
        .append(show.apply(e.getValue())).append("  ").append(e.getKey()).append('\n'));
    for (Map.Entry<String, Double> e : sorted(self)) {
      out.append(String.format(Locale.ROOT, "%n== %s: self %s, subtree %s (%s)%n", e.getKey(),
          show.apply(e.getValue()).trim(),
          show.apply(subtree.getOrDefault(e.getKey(), e.getValue())).trim(), unit));
      out.append("  top frames by self time:\n");
      sorted(selfFrames.getOrDefault(e.getKey(), Map.of())).stream().limit(top).forEach(f ->
          out.append("    ").append(show.apply(f.getValue())).append("  ").append(f.getKey())
              .append('\n'));
      out.append("  top frames of the stage by subtree (samples with the frame on the stack):\n");
      sorted(subtreeFrames.getOrDefault(e.getKey(), Map.of())).stream().limit(top).forEach(f ->
          out.append("    ").append(show.apply(f.getValue())).append("  ").append(f.getKey())
              .append('\n'));
    }
    for (String wanted : callersOf) {
      out.append("\n== callers of ").append(wanted).append(" (the next four frames, ").append(unit)
          .append("):\n");
      sorted(callers.getOrDefault(wanted, Map.of())).stream().limit(top).forEach(e ->
          out.append("    ").append(show.apply(e.getValue())).append("  ").append(e.getKey())
              .append('\n'));
    }
    System.out.print(out);
  }

  private static String threadName(RecordedEvent event) {
    return event.getThread("sampledThread") == null ? "?"
        : event.getThread("sampledThread").getJavaName();
  }

  /** The benchmark's thread groups ({@code Machine.threadGroup}), by Java thread name. */
  private static String machineGroup(String name) {
    if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
      return "jit";
    }
    if (name.startsWith("sentinel-audit")) {
      return "audit";
    }
    if (name.startsWith("sentinel-config") || name.startsWith("FileSystemWatch")) {
      return "configWatch";
    }
    if (name.startsWith("sentinel-") || name.startsWith("qtp") || name.startsWith("HttpClient")) {
      return "serving";
    }
    return "vm";
  }

  private static String stageOf(String frame, boolean client) {
    for (Stage stage : STAGES) {
      if (stage.claims().test(frame)) {
        if (stage.name().equals(JETTY_GENERIC)) {
          return client ? "backend HTTP client" : SERVER;
        }
        return stage.name();
      }
    }
    return null;
  }

  private static String threadGroup(String name) {
    if (name.matches("sentinel-http-.+@.*")) {
      return "backend client threads";
    }
    if (name.startsWith("sentinel-http-delivery")) {
      return "delivery threads";
    }
    if (name.matches("sentinel-http-\\d+")) {
      return "Jetty server threads";
    }
    if (name.startsWith("sentinel-mcp")) {
      return "engine threads";
    }
    if (name.startsWith("sentinel-audit")) {
      return "audit thread";
    }
    return name.replaceAll("[-@ ]?\\d+$", "");
  }

  private static List<Map.Entry<String, Double>> sorted(Map<String, Double> counts) {
    List<Map.Entry<String, Double>> list = new ArrayList<>(counts.entrySet());
    list.sort(Map.Entry.<String, Double>comparingByValue().reversed());
    return list;
  }
}
