package dev.sentinel.mcp.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sentinel.core.testing.Conditions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class StdioTransportTest {

  /** A thread-safe sink that records what was written. */
  private static final class Sink extends OutputStream {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    @Override
    public synchronized void write(int b) {
      bytes.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      // in small pieces, yielding between them, so that unsynchronized writers would interleave
      for (int i = 0; i < len; i += 7) {
        synchronized (this) {
          bytes.write(b, off + i, Math.min(7, len - i));
        }
        Thread.yield();
      }
    }

    synchronized List<String> lines() {
      String text = bytes.toString(StandardCharsets.UTF_8);
      List<String> lines = new ArrayList<>();
      int start = 0;
      for (int i = 0; i < text.length(); i++) {
        if (text.charAt(i) == '\n') {
          lines.add(text.substring(start, i));
          start = i + 1;
        }
      }
      assertThat(text.substring(start)).as("output ends with a newline").isEmpty();
      return lines;
    }
  }

  private static InputStream input(String text) {
    return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void start_deliversEachLine_thenClosedNullAtEndOfInput() throws Exception {
    Sink out = new Sink();
    StdioTransport transport = StdioTransport.of(
        input("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n\n   \n[{\"a\":1}]\r\n"),
        out, FrameLimits.defaults());
    Recorder recorder = new Recorder();

    transport.start(recorder);

    assertThat(recorder.next().get("method").asString()).isEqualTo("ping");
    assertThat(recorder.next().isArray()).isTrue();
    assertThat(recorder.awaitClosed()).isNull();
    assertThat(out.lines()).as("blank lines are ignored silently").isEmpty();
    assertThat(recorder.closedCalls()).isEqualTo(1);
  }

  @Test
  void badLines_areAnsweredWithErrors_andReadingGoesOn() throws Exception {
    Sink out = new Sink();
    String deep = "[".repeat(65) + "]".repeat(65);
    String input = "this is not json\n"
        + "{\"x\":\"" + "y".repeat(200) + "\"}\n"
        + deep + "\n"
        + "17\n"
        + "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\"}\n";
    StdioTransport transport = StdioTransport.of(input(input), out, new FrameLimits(150, 64));
    Recorder recorder = new Recorder();

    transport.start(recorder);

    assertThat(recorder.next().get("id").asInt()).isEqualTo(7);
    recorder.awaitClosed();
    List<String> lines = out.lines();
    assertThat(lines).hasSize(4);
    JsonNode parse = Json.parse(lines.get(0));
    assertThat(parse.get("jsonrpc").asString()).isEqualTo("2.0");
    assertThat(parse.get("id").isNull()).isTrue();
    assertThat(parse.at("/error/code").asInt()).isEqualTo(-32700);
    assertThat(parse.at("/error/message").asString()).startsWith("Parse error: ");
    assertThat(Json.parse(lines.get(1))).isEqualTo(Json.parse(
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
            + "\"message\":\"message exceeds 150 bytes\"}}"));
    assertThat(Json.parse(lines.get(2))).isEqualTo(Json.parse(
        "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
            + "\"message\":\"message nesting exceeds depth 64\"}}"));
    assertThat(Json.parse(lines.get(3)).at("/error/code").asInt()).isEqualTo(-32600);
  }

  @Test
  void hundredMegabyteGarbageLine_isSkippedWithBoundedMemory() throws Exception {
    Sink out = new Sink();
    InputStream in = new SequenceInputStream(
        new Garbage(100L * 1024 * 1024, (byte) '#'),
        input("\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n"));
    StdioTransport transport = StdioTransport.of(in, out, FrameLimits.defaults());
    Recorder recorder = new Recorder();

    transport.start(recorder);

    assertThat(recorder.next().get("method").asString()).isEqualTo("notifications/initialized");
    recorder.awaitClosed();
    assertThat(out.lines()).singleElement().satisfies(line ->
        assertThat(Json.parse(line).at("/error/message").asString())
            .isEqualTo("message exceeds 4194304 bytes"));
    assertThat(transport.lineBufferHighWater()).isLessThanOrEqualTo(4 * 1024 * 1024 + 1);
  }

  @Test
  void send_fromManyThreads_neverInterleaves() throws Exception {
    Sink out = new Sink();
    PipedOutputStream feed = new PipedOutputStream();
    StdioTransport transport =
        StdioTransport.of(new PipedInputStream(feed), out, FrameLimits.defaults());
    transport.start(new Recorder());
    int threads = 8;
    int each = 50;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> senders = new ArrayList<>();
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread sender = new Thread(() -> {
        try {
          go.await();
          for (int i = 0; i < each; i++) {
            transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":{\"t\":"
                + thread + ",\"i\":" + i + ",\"pad\":\"" + "p".repeat(300) + "\"}}"));
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      sender.start();
      senders.add(sender);
    }
    go.countDown();
    for (Thread sender : senders) {
      sender.join();
    }

    assertThat(failures).isEmpty();
    List<String> lines = out.lines();
    assertThat(lines).hasSize(threads * each);
    Set<String> seen = new HashSet<>();
    int[] next = new int[threads];
    for (String line : lines) {
      JsonNode params = Json.parse(line).get("params");
      int t = params.get("t").asInt();
      assertThat(params.get("i").asInt()).as("each sender's messages in its order").isEqualTo(next[t]++);
      seen.add(t + ":" + params.get("i").asInt());
    }
    assertThat(seen).hasSize(threads * each);
    transport.close();
  }

  @Test
  void close_endsWithClosedNullOnce_andLaterSendsFail() throws Exception {
    PipedOutputStream feed = new PipedOutputStream();
    Sink out = new Sink();
    StdioTransport transport =
        StdioTransport.of(new PipedInputStream(feed), out, FrameLimits.defaults());
    Recorder recorder = new Recorder();
    transport.start(recorder);
    feed.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n".getBytes(StandardCharsets.UTF_8));
    feed.flush();
    assertThat(recorder.next().get("id").asInt()).isEqualTo(1);

    transport.close();
    transport.close();

    assertThat(recorder.awaitClosed()).isNull();
    assertThatThrownBy(() -> transport.send(Json.parse("{}")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("closed");
    Conditions.await("no second closed", () -> recorder.closedCalls() == 1);
    assertThat(recorder.closedCalls()).isEqualTo(1);
  }

  @Test
  void send_whenOutputBreaks_failsAndEndsTheTransport() throws Exception {
    OutputStream broken = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        throw new IOException("Broken pipe");
      }
    };
    StdioTransport transport =
        StdioTransport.of(new PipedInputStream(new PipedOutputStream()), broken, FrameLimits.defaults());
    Recorder recorder = new Recorder();
    transport.start(recorder);

    assertThatThrownBy(() -> transport.send(Json.parse("{\"jsonrpc\":\"2.0\",\"method\":\"x\"}")))
        .isInstanceOf(IOException.class);

    assertThat(recorder.awaitClosed()).isInstanceOf(IOException.class).hasMessage("Broken pipe");
  }

  @Test
  void start_twice_isRefused() {
    StdioTransport transport = StdioTransport.of(input(""), new Sink(), FrameLimits.defaults());
    transport.start(new Recorder());

    assertThatThrownBy(() -> transport.start(new Recorder()))
        .isInstanceOf(IllegalStateException.class);
  }
}
