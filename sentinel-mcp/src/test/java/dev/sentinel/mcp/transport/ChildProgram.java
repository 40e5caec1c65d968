package dev.sentinel.mcp.transport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import tools.jackson.databind.json.JsonMapper;

/**
 * A misbehaving backend for {@link ProcessTransportTest}, run as a child JVM. The first argument
 * picks the behaviour; stdout carries only JSON lines unless the behaviour is to flood garbage.
 */
public final class ChildProgram {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private ChildProgram() {}

  /** Runs the behaviour named by {@code args[0]}. */
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    switch (args[0]) {
      case "report":
        out.println(JSON.writeValueAsString(Map.of(
            "args", List.of(args),
            "env", new TreeMap<>(System.getenv()),
            "cwd", Path.of("").toAbsolutePath().toString())));
        untilStdinEnds();
        return;
      case "echo":
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
          out.println(line);
        }
        return;
      case "stderr":
        int count = Integer.parseInt(args[1]);
        for (int i = 0; i < count; i++) {
          System.err.println("noise line " + i + " " + "n".repeat(100));
        }
        System.err.println("long:" + "L".repeat(10_000));
        System.err.println("the last line");
        System.err.flush();
        out.println("{\"done\":true}");
        untilStdinEnds();
        return;
      case "crash":
        out.println("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}");
        System.err.println("fatal: boom");
        System.err.flush();
        System.exit(3);
        return;
      case "halt":
        System.err.println("halting hard");
        System.err.flush();
        Runtime.getRuntime().halt(42);
        return;
      case "flood":
        flood(System.out);
        out.println("{\"ok\":true}");
        untilStdinEnds();
        return;
      case "spawn":
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process grandchild = new ProcessBuilder(
                java, "-cp", System.getProperty("java.class.path"),
                ChildProgram.class.getName(), "hang")
            .inheritIO()
            .start();
        out.println("{\"grandchild\":" + grandchild.pid() + "}");
        new CountDownLatch(1).await();
        return;
      case "hang":
        new CountDownLatch(1).await();
        return;
      default:
        throw new IllegalArgumentException("unknown behaviour " + args[0]);
    }
  }

  private static void untilStdinEnds() throws IOException {
    byte[] buffer = new byte[1024];
    while (System.in.read(buffer) >= 0) {
      // wait for the parent to close our stdin
    }
  }

  /** 20 MB of short garbage lines, then one 60 MB line of garbage. */
  private static void flood(OutputStream out) throws IOException {
    byte[] line = ("not json at all " + "g".repeat(1000) + "\n").getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < 20_000; i++) {
      out.write(line);
    }
    byte[] chunk = "{\"x\":\"".repeat(10_000).getBytes(StandardCharsets.US_ASCII);
    long written = 0;
    while (written < 60L * 1024 * 1024) {
      out.write(chunk);
      written += chunk.length;
    }
    out.write('\n');
    out.flush();
  }
}
