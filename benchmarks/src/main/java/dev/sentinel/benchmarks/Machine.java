package dev.sentinel.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** What the benchmark ran on, read from {@code /proc} and {@code java -version}. Stateless. */
final class Machine {
  private Machine() {}

  /** The processor count, CPU model, memory, kernel, load and the gateway's {@code java -version}. */
  static ObjectNode describe(String harnessJava) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("nproc", Runtime.getRuntime().availableProcessors());
    node.put("cpuModel", cpuModel());
    node.put("memTotalMb", read("/proc/meminfo").lines()
        .filter(l -> l.startsWith("MemTotal:"))
        .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024)
        .findFirst().orElse(-1L));
    node.put("kernel", read("/proc/sys/kernel/osrelease").trim());
    node.put("loadAverageAtStart", loadAverage());
    String javaHome = System.getenv("JAVA_HOME");
    String gatewayJava = javaHome != null && !javaHome.isEmpty()
        ? Path.of(javaHome, "bin", "java").toString() : "java";
    node.put("gatewayJava", gatewayJava);
    node.put("gatewayJavaVersion", javaVersion(gatewayJava));
    node.put("harnessJava", harnessJava);
    node.put("harnessJavaVersion", System.getProperty("java.vm.name") + " "
        + System.getProperty("java.runtime.version"));
    return node;
  }

  /** {@code /proc/loadavg}'s three averages. */
  static String loadAverage() {
    String[] parts = read("/proc/loadavg").trim().split("\\s+");
    return parts.length >= 3 ? parts[0] + " " + parts[1] + " " + parts[2] : "?";
  }

  /** Numeric fields of {@code /proc/<pid>/status} (kB for sizes), such as VmRSS and Threads. */
  static Map<String, Long> status(long pid) {
    Map<String, Long> fields = new LinkedHashMap<>();
    for (String line : read("/proc/" + pid + "/status").split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        String value = line.substring(colon + 1).trim().replace(" kB", "");
        if (value.matches("[0-9]+")) {
          fields.put(line.substring(0, colon), Long.parseLong(value));
        }
      }
    }
    return fields;
  }

  /**
   * CPU time so far of the process and all its threads, user and system, in clock ticks (10 ms
   * on Linux), from {@code /proc/<pid>/stat}; zeros when unreadable.
   */
  static long[] cpuTicks(long pid) {
    String stat = read("/proc/" + pid + "/stat");
    int paren = stat.lastIndexOf(')');
    if (paren < 0) {
      return new long[2];
    }
    String[] fields = stat.substring(paren + 2).trim().split("\\s+");
    // after "pid (comm) ": state is field 3, utime field 14, stime field 15
    return new long[] {Long.parseLong(fields[11]), Long.parseLong(fields[12])};
  }

  /** Voluntary plus involuntary context switches of all the process's threads so far. */
  static long contextSwitches(long pid) {
    long total = 0;
    try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        for (String line : read(task.resolve("status").toString()).split("\n")) {
          if (line.startsWith("voluntary_ctxt_switches:")
              || line.startsWith("nonvoluntary_ctxt_switches:")) {
            total += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return total;
  }

  /** The groups {@link #threadCpu} sorts a JVM's threads into, in report order. */
  static final List<String> THREAD_GROUPS = List.of("serving", "audit", "configWatch", "jit", "vm");

  /**
   * CPU time so far of the process's live threads in nanoseconds ({@code
   * /proc/<pid>/task/<tid>/schedstat}, exact where ticks are 10 ms), summed per group of thread
   * names: {@code jit} (the JIT compilers and code sweeper: warm-up, not serving), {@code vm} (GC,
   * VM and other JVM threads), {@code audit} (the audit writers), {@code configWatch} (the config
   * file watcher and the JDK's file-system watch thread) and {@code serving} (everything else:
   * Jetty, the router, the backend client). A thread that ended takes its time with it.
   */
  static Map<String, Long> threadCpu(long pid) {
    Map<String, Long> groups = new LinkedHashMap<>();
    THREAD_GROUPS.forEach(g -> groups.put(g, 0L));
    try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String schedstat = read(task.resolve("schedstat").toString()).trim();
        if (schedstat.isEmpty()) {
          continue;
        }
        long ns = Long.parseLong(schedstat.split("\\s+")[0]);
        groups.merge(threadGroup(read(task.resolve("comm").toString()).trim()), ns, Long::sum);
      }
    } catch (IOException | RuntimeException e) {
      return groups;
    }
    return groups;
  }

  /**
   * CPU time so far of each live thread of the process in nanoseconds, by thread id, with its
   * group ({@link #threadGroup}): for {@link #threadCpuDelta}, which unlike the difference of two
   * {@link #threadCpu} sums is not lowered by a thread that ended in between.
   */
  static Map<Long, Map.Entry<String, Long>> taskCpu(long pid) {
    Map<Long, Map.Entry<String, Long>> tasks = new LinkedHashMap<>();
    try (java.util.stream.Stream<Path> dirs = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : (Iterable<Path>) dirs::iterator) {
        String schedstat = read(task.resolve("schedstat").toString()).trim();
        if (schedstat.isEmpty()) {
          continue;
        }
        tasks.put(Long.parseLong(task.getFileName().toString()), Map.entry(
            threadGroup(read(task.resolve("comm").toString()).trim()),
            Long.parseLong(schedstat.split("\\s+")[0])));
      }
    } catch (IOException | RuntimeException e) {
      return tasks;
    }
    return tasks;
  }

  /**
   * CPU nanoseconds per thread group between two {@link #taskCpu} snapshots, counting the threads
   * alive at the second (a thread that started in between counts in full). What threads that
   * ended in between used in the window is not in {@code /proc} any more: it is {@code ended},
   * the process's CPU over the window ({@code processNs}, from its 10 ms ticks, which keep the
   * time of ended threads) less the groups' sum, never negative.
   */
  static Map<String, Long> threadCpuDelta(Map<Long, Map.Entry<String, Long>> before,
      Map<Long, Map.Entry<String, Long>> after, long processNs) {
    Map<String, Long> groups = new LinkedHashMap<>();
    THREAD_GROUPS.forEach(g -> groups.put(g, 0L));
    long sum = 0;
    for (Map.Entry<Long, Map.Entry<String, Long>> task : after.entrySet()) {
      Map.Entry<String, Long> earlier = before.get(task.getKey());
      long ns = task.getValue().getValue() - (earlier == null ? 0 : earlier.getValue());
      groups.merge(task.getValue().getKey(), ns, Long::sum);
      sum += ns;
    }
    groups.put("ended", Math.max(0, processNs - sum));
    return groups;
  }

  /** The group of a thread by its (kernel, 15-character) name; see {@link #threadCpu}. */
  static String threadGroup(String name) {
    if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")
        || name.startsWith("Sweeper")) {
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

  private static String cpuModel() {
    return read("/proc/cpuinfo").lines()
        .filter(l -> l.startsWith("model name"))
        .map(l -> l.substring(l.indexOf(':') + 1).trim())
        .findFirst().orElse("unknown");
  }

  private static String javaVersion(String java) {
    try {
      Process process = new ProcessBuilder(List.of(java, "-version")).redirectErrorStream(true)
          .start();
      String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      process.waitFor(30, TimeUnit.SECONDS);
      return text.trim();
    } catch (IOException e) {
      return "unknown: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown: interrupted";
    }
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
