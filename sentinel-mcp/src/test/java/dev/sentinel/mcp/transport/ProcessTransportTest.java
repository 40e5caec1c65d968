package dev.sentinel.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.testing.Conditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** Starts real child processes: the MCP Java SDK's stdio server, and misbehaving programs. */
class ProcessTransportTest {
  private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();
  private static final String CLASSPATH = System.getProperty("java.class.path");

  private final List<ProcessTransport> started = new ArrayList<>();

  @AfterEach
  void stopEveryChild() {
    for (ProcessTransport transport : started) {
      transport.close();
      assertThat(ProcessHandle.of(transport.pid()).map(ProcessHandle::isAlive).orElse(false))
          .as("child %s stopped", transport.pid())
          .isFalse();
    }
  }

  private static List<String> java(Class<?> main, String... args) {
    List<String> command = new ArrayList<>(List.of(JAVA, "-cp", CLASSPATH, main.getName()));
    command.addAll(List.of(args));
    return command;
  }

  private ProcessTransport start(ProcessSpec spec, Recorder recorder) throws IOException {
    ProcessTransport transport = ProcessTransport.start(spec);
    started.add(transport);
    transport.start(recorder);
    return transport;
  }

  private static ProcessSpec spec(String name, List<String> command) {
    return ProcessSpec.of(name, command, Map.of()).withStopGrace(Duration.ofMillis(200));
  }

  @Test
  void realMcpServer_initializeListAndCallTool() throws Exception {
    Recorder recorder = new Recorder();
    ProcessTransport transport = start(spec("echo", java(EchoMcpServer.class)), recorder);

    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
        + "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
        + "\"clientInfo\":{\"name\":\"sentinel-test\",\"version\":\"0\"}}}"));
    JsonNode init = recorder.response(1);
    assertThat(init.at("/result/serverInfo/name").asString()).isEqualTo("echo-server");
    assertThat(init.at("/result/protocolVersion").asString()).isEqualTo("2025-06-18");
    assertThat(init.at("/result/capabilities/tools").isObject()).isTrue();

    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}"));
    JsonNode list = recorder.response(2);
    assertThat(list.at("/result/tools/0/name").asString()).isEqualTo("echo");
    assertThat(list.at("/result/tools/0/inputSchema/required/0").asString()).isEqualTo("text");

    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":\"call-3\",\"method\":\"tools/call\","
        + "\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"h\u00e9llo \u4e16\u754c\"}}}"));
    JsonNode call = recorder.next(m -> m.path("id").asString("").equals("call-3"));
    assertThat(call.at("/result/isError").asBoolean()).isFalse();
    assertThat(call.at("/result/content/0/type").asString()).isEqualTo("text");
    assertThat(call.at("/result/content/0/text").asString()).isEqualTo("h\u00e9llo \u4e16\u754c");

    transport.close();
    assertThat(recorder.awaitClosed()).isNull();
    assertThat(transport.stderrTail()).contains("echo-server ready");
  }

  @Test
  void argv_arrivesLiterally_environmentIsExactlyTheGivenOne_inTheWorkingDirectory(
      @TempDir Path dir) throws Exception {
    Recorder recorder = new Recorder();
    List<String> command =
        java(ChildProgram.class, "report", "two words", "$HOME", "`id`", "a\"b'c", "*", "");
    ProcessSpec spec = ProcessSpec.of("report", command, Map.of("ONLY_THIS", "yes"))
        .withWorkingDirectory(dir)
        .withStopGrace(Duration.ofMillis(200));

    start(spec, recorder);

    JsonNode report = recorder.next();
    assertThat(report.get("args").valueStream().map(JsonNode::asString))
        .containsExactly("report", "two words", "$HOME", "`id`", "a\"b'c", "*", "");
    assertThat(report.get("env")).isEqualTo(Json.parse("{\"ONLY_THIS\":\"yes\"}"));
    assertThat(Path.of(report.get("cwd").asString()).toRealPath()).isEqualTo(dir.toRealPath());
  }

  @Test
  void stdin_carriesEachMessageAsOneLine() throws Exception {
    Recorder recorder = new Recorder();
    ProcessTransport transport = start(spec("echo-lines", java(ChildProgram.class, "echo")), recorder);

    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{\"s\":\"x\\ny\"}}"));
    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"b\"}"));

    assertThat(recorder.next().at("/params/s").asString()).isEqualTo("x\ny");
    assertThat(recorder.next().get("method").asString()).isEqualTo("b");
    // closing stdin makes this child exit by itself, well within the grace
    transport.close();
    assertThat(recorder.awaitClosed()).isNull();
  }

  @Test
  void stderr_isCapturedAsABoundedTail() throws Exception {
    Recorder recorder = new Recorder();
    ProcessSpec spec = spec("noisy", java(ChildProgram.class, "stderr", "200")).withStderrTailBytes(1024);
    ProcessTransport transport = start(spec, recorder);

    assertThat(recorder.next().get("done").asBoolean()).isTrue();
    Conditions.await("stderr drained", () -> transport.stderrTail().contains("the last line"));
    String tail = transport.stderrTail();
    assertThat(tail.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(1024);
    assertThat(tail).endsWith("the last line\n");
  }

  @Test
  void crash_closesWithExitCodeAndStderrTail_afterTheMessagesWritten() throws Exception {
    Recorder recorder = new Recorder();
    start(spec("crasher", java(ChildProgram.class, "crash")), recorder);

    assertThat(recorder.next().get("method").asString()).isEqualTo("notifications/message");
    Throwable cause = recorder.awaitClosed();
    assertThat(cause).isInstanceOfSatisfying(BackendExitException.class, exit -> {
      assertThat(exit.backend()).isEqualTo("crasher");
      assertThat(exit.exitCode()).isEqualTo(3);
      assertThat(exit.stderrTail()).contains("fatal: boom");
      assertThat(exit.getMessage()).contains("backend 'crasher' exited with code 3", "fatal: boom");
    });
  }

  @Test
  void halt_closesWithExitCode() throws Exception {
    Recorder recorder = new Recorder();
    start(spec("halter", java(ChildProgram.class, "halt")), recorder);

    assertThat(recorder.awaitClosed()).isInstanceOfSatisfying(BackendExitException.class, exit -> {
      assertThat(exit.exitCode()).isEqualTo(42);
      assertThat(exit.stderrTail()).contains("halting hard");
    });
  }

  @Test
  void send_afterTheChildDied_fails() throws Exception {
    Recorder recorder = new Recorder();
    ProcessTransport transport = start(spec("halter", java(ChildProgram.class, "halt")), recorder);
    recorder.awaitClosed();

    assertThatThrownBy(() -> transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("halter");
  }

  @Test
  void close_stopsAChildThatIgnoresStdin_andItsDescendants() throws Exception {
    Recorder recorder = new Recorder();
    ProcessTransport transport = start(spec("spawner", java(ChildProgram.class, "spawn")), recorder);
    long grandchild = recorder.next().get("grandchild").asLong();
    assertThat(ProcessHandle.of(grandchild).map(ProcessHandle::isAlive)).contains(true);

    transport.close();

    assertThat(recorder.awaitClosed()).isNull();
    assertThat(ProcessHandle.of(transport.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    Conditions.await("grandchild " + grandchild + " gone",
        () -> !ProcessHandle.of(grandchild).map(ProcessHandle::isAlive).orElse(false));
  }

  /**
   * Regression: a second close returned at once while the first was still waiting out the
   * child's stop grace, so a gateway shutting down (its JVM halts when the shutdown hook
   * returns) could leave the child running.
   */
  @Test
  void close_whileAnotherThreadStopsTheChild_returnsOnlyOnceTheChildIsGone() throws Exception {
    Recorder recorder = new Recorder();
    ProcessSpec spec = ProcessSpec.of("stubborn", java(StubbornMcpServer.class), Map.of())
        .withStopGrace(Duration.ofSeconds(5));
    ProcessTransport transport = start(spec, recorder);
    transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
        + "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
        + "\"clientInfo\":{\"name\":\"sentinel-test\",\"version\":\"0\"}}}"));
    recorder.response(1); // it reads its stdin now
    Thread first = new Thread(transport::close, "first-closer");
    first.start();
    try {
      Conditions.await("the first close has closed the child's stdin",
          () -> transport.stderrTail().contains(StubbornMcpServer.STDIN_CLOSED));

      transport.close();

      assertThat(ProcessHandle.of(transport.pid()).map(ProcessHandle::isAlive).orElse(false))
          .as("the child is gone when the second close returns")
          .isFalse();
    } finally {
      first.join();
    }
  }

  @Test
  void garbageFlood_isSkippedWithBoundedMemory() throws Exception {
    Recorder recorder = new Recorder();
    ProcessSpec spec = spec("flooder", java(ChildProgram.class, "flood"))
        .withLimits(new FrameLimits(1024 * 1024, 64));
    ProcessTransport transport = start(spec, recorder);

    assertThat(recorder.next()).isEqualTo(Json.parse("{\"ok\":true}"));
    assertThat(transport.lineBufferHighWater()).isLessThanOrEqualTo(1024 * 1024 + 1);
    assertThat(recorder.isClosed()).isFalse();
  }

  @Test
  void start_unknownProgram_failsNamingTheCommand() {
    ProcessSpec spec = ProcessSpec.of("ghost", List.of("/no/such/program", "--flag"), Map.of());

    assertThatThrownBy(() -> ProcessTransport.start(spec))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("backend 'ghost'")
        .hasMessageContaining("[/no/such/program, --flag]");
  }

  @Test
  void spec_validatesItsParts(@TempDir Path dir) throws IOException {
    assertThatThrownBy(() -> ProcessSpec.of(" ", List.of("x"), Map.of()))
        .hasMessage("backend name must not be blank");
    assertThatThrownBy(() -> ProcessSpec.of("b", List.of(), Map.of()))
        .hasMessage("command of backend 'b' must not be empty");
    assertThatThrownBy(() -> ProcessSpec.of("b", List.of("x"), Map.of()).withStderrTailBytes(0))
        .hasMessage("stderrTailBytes of backend 'b' must be positive, was 0");
    assertThatThrownBy(() -> ProcessSpec.of("b", List.of("x"), Map.of())
            .withStopGrace(Duration.ofSeconds(-1)))
        .hasMessageContaining("stopGrace of backend 'b' must not be negative");
    ProcessSpec spec = ProcessSpec.of("b", List.of("x"), Map.of());
    assertThat(spec.stderrTailBytes()).isEqualTo(16 * 1024);
    assertThat(spec.stopGrace()).isEqualTo(Duration.ofSeconds(2));
    assertThat(spec.limits()).isEqualTo(FrameLimits.defaults());
    Files.createDirectories(dir);
  }
}
