package dev.sentinel.mcp.transport;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * {@link StdioOpening} answers a first line only when its answerer does, and otherwise passes
 * every byte it read on, in order, ahead of the rest of the input (and a read failure as the
 * input's failure). The answerers here are plain functions: what the gateway answers is {@code
 * InitializeAnswer#ahead}'s, tested with a real gateway in sentinel-runner-stdio.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StdioOpeningTest {
  private static final String FIRST = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\"}";
  private static final String REST = "{\"jsonrpc\":\"2.0\",\"method\":\"next\"}\nand more, not even JSON";

  private static JsonNode answer(JsonNode message) {
    return JsonNodeFactory.instance.objectNode().put("answered", message.path("id").asInt());
  }

  @Test
  void anAnsweredLine_isWrittenOnce_andTheInputGoesOnAfterIt() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StdioOpening.Opened opened = open(input(FIRST + "\r\n" + REST), out, FrameLimits.defaults(),
        StdioOpeningTest::answer);
    assertThat(opened.answered()).isNotNull();
    assertThat(opened.answered().path("method").asString()).isEqualTo("initialize");
    assertThat(out.toString(UTF_8)).isEqualTo("{\"answered\":1}\n");
    assertThat(new String(opened.input().readAllBytes(), UTF_8)).isEqualTo(REST);
  }

  @Test
  void aDeclinedLine_isPassedOnWhole_andNothingIsWritten() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AtomicInteger asked = new AtomicInteger();
    StdioOpening.Opened opened = open(input(FIRST + "\n" + REST), out, FrameLimits.defaults(), message -> {
      asked.incrementAndGet();
      return null;
    });
    assertThat(asked).hasValue(1);
    assertThat(opened.answered()).isNull();
    assertThat(out.size()).isZero();
    assertThat(new String(opened.input().readAllBytes(), UTF_8)).isEqualTo(FIRST + "\n" + REST);
  }

  @Test
  void anAnswererThatFails_isTakenAsDeclining() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StdioOpening.Opened opened = open(input(FIRST + "\n" + REST), out, FrameLimits.defaults(), message -> {
      throw new IllegalStateException("boom");
    });
    assertThat(opened.answered()).isNull();
    assertThat(out.size()).isZero();
    assertThat(new String(opened.input().readAllBytes(), UTF_8)).isEqualTo(FIRST + "\n" + REST);
  }

  @Test
  void linesThatAreNotAMessage_neverReachTheAnswerer() throws Exception {
    for (String first : new String[] {"{\"unterminated\": ", "\"just a string\"", "42", "", "{\"a\":" + "[".repeat(100)
        + "]".repeat(100) + "}"}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      AtomicInteger asked = new AtomicInteger();
      StdioOpening.Opened opened = open(input(first + "\n" + REST), out, FrameLimits.defaults(), message -> {
        asked.incrementAndGet();
        return answer(message);
      });
      assertThat(asked).as(first).hasValue(0);
      assertThat(out.size()).isZero();
      assertThat(new String(opened.input().readAllBytes(), UTF_8)).isEqualTo(first + "\n" + REST);
    }
  }

  @Test
  void aLineOverTheBound_isPassedOnUnread_byteForByte() throws Exception {
    String longLine = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"pad\":\""
        + "x".repeat(StdioOpening.MAX_FIRST_LINE) + "\"}";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AtomicInteger asked = new AtomicInteger();
    StdioOpening.Opened opened = open(input(longLine + "\n" + REST), out, FrameLimits.defaults(), message -> {
      asked.incrementAndGet();
      return answer(message);
    });
    assertThat(asked).hasValue(0);
    assertThat(opened.answered()).isNull();
    assertThat(new String(opened.input().readAllBytes(), UTF_8)).isEqualTo(longLine + "\n" + REST);
  }

  @Test
  void aLastLineWithoutNewline_isLeftForTheTransport() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StdioOpening.Opened opened = open(input(FIRST), out, FrameLimits.defaults(), StdioOpeningTest::answer);
    assertThat(opened.answered()).isNull();
    assertThat(out.size()).isZero();
    assertThat(new String(opened.input().readAllBytes(), UTF_8)).isEqualTo(FIRST);
  }

  @Test
  void aReadFailure_isPassedOnAfterTheBytesReadBeforeIt() throws Exception {
    IOException failure = new IOException("stdin broke");
    InputStream broken = new SequenceInputStream(input("{\"jsonrpc\""), new InputStream() {
      @Override
      public int read() throws IOException {
        throw failure;
      }
    });
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StdioOpening.Opened opened = open(broken, out, FrameLimits.defaults(), StdioOpeningTest::answer);
    assertThat(opened.answered()).isNull();
    byte[] first = new byte[10];
    assertThat(opened.input().readNBytes(first, 0, 10)).isEqualTo(10);
    assertThat(new String(first, UTF_8)).isEqualTo("{\"jsonrpc\"");
    assertThatThrownBy(() -> opened.input().read()).isSameAs(failure);
  }

  @Test
  void aLineOverTheConfigsLimits_isPassedOn_thoughTheDefaultsWouldTakeIt() throws Exception {
    String deep = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"a\":{\"b\":{}}}}";
    for (FrameLimits limits : new FrameLimits[] {new FrameLimits(deep.length() - 1, 64), new FrameLimits(1 << 20, 3)}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      AtomicInteger asked = new AtomicInteger();
      StdioOpening.Opened opened = open(input(deep + "\n" + REST), out, limits, message -> {
        asked.incrementAndGet();
        return answer(message);
      });
      assertThat(asked).as("%s", limits).hasValue(0);
      assertThat(out.size()).isZero();
      assertThat(new String(opened.input().readAllBytes(), UTF_8)).isEqualTo(deep + "\n" + REST);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(open(input(deep + "\n"), out, new FrameLimits(deep.length(), 4), StdioOpeningTest::answer)
        .answered()).as("at the limits exactly").isNotNull();
  }

  /** Starts an opening, says how it answers, and waits for it. */
  private static StdioOpening.Opened open(InputStream in, ByteArrayOutputStream out, FrameLimits limits,
      java.util.function.Function<JsonNode, JsonNode> answerer) {
    StdioOpening opening = StdioOpening.start(in, out);
    opening.answer(limits, answerer);
    return opening.await();
  }

  private static InputStream input(String text) {
    return new ByteArrayInputStream(text.getBytes(UTF_8));
  }
}
