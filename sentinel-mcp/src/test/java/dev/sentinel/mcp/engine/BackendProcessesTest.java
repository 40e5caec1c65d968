package dev.sentinel.mcp.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.core.testing.Conditions;
import dev.sentinel.mcp.jsonrpc.JsonRpcMessage;
import dev.sentinel.mcp.transport.ProcessSpec;
import dev.sentinel.mcp.transport.ProcessTransport;
import dev.sentinel.mcp.transport.StubbornMcpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's backend child processes end before {@link McpGateway#close()} returns, whichever
 * thread began to stop them: a runner closes the gateway from a JVM shutdown hook, and the JVM
 * halts when the hook returns. The backend is a real SDK server in a child JVM that ignores end
 * of input ({@link StubbornMcpServer}), as many real servers do.
 */
class BackendProcessesTest {
  private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();
  private static final String CLASSPATH = System.getProperty("java.class.path");

  private final List<ProcessTransport> children = new CopyOnWriteArrayList<>();

  @AfterEach
  void killWhatIsLeft() {
    for (ProcessTransport child : children) {
      ProcessHandle.of(child.pid()).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  private ProcessTransport connect() {
    ProcessSpec spec = ProcessSpec.of("stubborn",
            List.of(JAVA, "-cp", CLASSPATH, StubbornMcpServer.class.getName()), Map.of())
        .withStopGrace(Duration.ofSeconds(5));
    try {
      ProcessTransport transport = ProcessTransport.start(spec);
      children.add(transport);
      return transport;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean alive(ProcessTransport child) {
    return ProcessHandle.of(child.pid()).map(ProcessHandle::isAlive).orElse(false);
  }

  /**
   * Regression: a session's own backend (per-session isolation, the default of {@code sentinel
   * stdio}) is stopped on the thread that saw the session end (the stdio reader, at end of
   * input). A close of the gateway meanwhile (SIGTERM right after the client closed stdin, as
   * the MCP SDK's client does) found nothing left to stop and returned at once, and the JVM
   * halted with the backend waiting out its stop grace: it ran on, orphaned.
   */
  @Test
  void close_whileASessionsBackendIsBeingStoppedElsewhere_returnsOnlyOnceItIsGone()
      throws Exception {
    try (GatewayFixture fixture = new GatewayFixture(List.of(),
        builder -> builder.backend("stubborn", this::connect))) {
      ScriptedClient client = fixture.client();
      client.initialize();
      assertThat(client.call("tools/list", null).kind()).isEqualTo(JsonRpcMessage.Kind.RESULT);
      assertThat(children).hasSize(1);
      ProcessTransport child = children.get(0);

      Thread clientLeaves = new Thread(client.transport::close, "client-leaves");
      clientLeaves.start();
      try {
        Conditions.await("the session's backend is being stopped (its stdin closed)",
            () -> child.stderrTail().contains(StubbornMcpServer.STDIN_CLOSED));

        fixture.gateway.close();

        assertThat(alive(child)).as("the backend is gone when close returns").isFalse();
        assertThat(fixture.gateway.openTransports()).isZero();
      } finally {
        clientLeaves.join();
      }
    }
  }

  @Test
  void close_stopsEveryBackendProcessItStarted() {
    GatewayFixture fixture = new GatewayFixture(List.of(),
        builder -> builder.backend("stubborn", this::connect));
    ScriptedClient client = fixture.client();
    client.initialize();
    client.call("tools/list", null);
    assertThat(children).isNotEmpty();

    fixture.close();

    assertThat(children).noneMatch(BackendProcessesTest::alive);
    assertThat(fixture.gateway.openTransports()).isZero();
  }
}
