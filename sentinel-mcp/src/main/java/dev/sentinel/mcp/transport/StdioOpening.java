package dev.sentinel.mcp.transport;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The first message of a stdio client, read while the gateway that will serve it is still being
 * built, and answered as soon as the answer is known. {@code sentinel stdio} starts one before it
 * reads its config, so that reading and parsing the client's {@code initialize} overlap with
 * reading the config; once the config is read, {@link #answer} gives what the answer needs (the
 * config's frame limits, the server's name), and the {@code initialize} is answered before the
 * gateway's stores, policy engine, audit sink and backends are started. Everything after it waits,
 * unread, until the gateway is ready and its {@link StdioTransport} reads on from {@link
 * Opened#input()}.
 *
 * <p>Only a first line of at most {@link #MAX_FIRST_LINE} bytes is considered. It is parsed as
 * {@link StdioTransport} parses every line, under the limits {@link #answer} gives, and offered to
 * the answerer, which answers it or declines. A line that is not JSON, is too long or too deep for
 * those limits, or that the answerer declines is not answered here: its bytes are passed on
 * unchanged, ahead of the rest of the input, so the transport handles it exactly as it would have
 * without this class. A failure to read is passed on too, as the input's first failure. Nothing
 * but the one answer is ever written to the output.
 *
 * <p>Thread-safe: one thread of its own reads and answers; {@link #answer} and {@link #await} may
 * be called from any thread.
 */
public final class StdioOpening {
  /** The longest first line answered here: 64 KiB (an {@code initialize} is a few hundred bytes). */
  public static final int MAX_FIRST_LINE = 64 * 1024;

  private final InputStream in;
  private final OutputStream out;
  private final CompletableFuture<Answering> answering = new CompletableFuture<>();
  private final CompletableFuture<Opened> opened = new CompletableFuture<>();

  /** What {@link #answer} gave. */
  private record Answering(FrameLimits limits, Function<JsonNode, @Nullable JsonNode> answerer) {}

  /**
   * What the opening read: the input to go on reading from, and the message it answered.
   *
   * @param input the client's input from the first byte not consumed: the whole first line
   *     again when it was not answered, else what followed it
   * @param answered the first message, when it was answered here; else {@code null}
   */
  public record Opened(InputStream input, @Nullable JsonNode answered) {
    /** Validates the input. */
    public Opened {
      Objects.requireNonNull(input, "input");
    }
  }

  private StdioOpening(InputStream in, OutputStream out) {
    this.in = in;
    this.out = out;
  }

  /**
   * Starts reading the first line of {@code in} on a daemon thread of its own; it is answered, if
   * at all, once {@link #answer} says how.
   *
   * @param in the client's input (stdin)
   * @param out the client's output (stdout): the answer, if any, is written to it as one line and
   *     flushed before {@link #await} returns
   */
  public static StdioOpening start(InputStream in, OutputStream out) {
    StdioOpening opening = new StdioOpening(Objects.requireNonNull(in, "in"), Objects.requireNonNull(out, "out"));
    Thread thread = new Thread(opening::run, "sentinel-stdio-opening");
    thread.setDaemon(true);
    thread.start();
    return opening;
  }

  /**
   * Says how to answer the first line: it is parsed under {@code limits} (as the gateway's
   * transport will parse every other line) and given to {@code answerer}, which answers it or
   * returns {@code null} to leave it to the gateway. Only the first call counts.
   *
   * @param limits the config's frame limits
   * @param answerer called at most once, on the opening's thread
   */
  public void answer(FrameLimits limits, Function<JsonNode, @Nullable JsonNode> answerer) {
    answering.complete(new Answering(Objects.requireNonNull(limits, "limits"),
        Objects.requireNonNull(answerer, "answerer")));
  }

  /**
   * Waits until the first line was read and, once {@link #answer} was called, answered if it
   * was: until the client sent a whole line, {@link #MAX_FIRST_LINE} bytes without one, ended its
   * input, or reading failed. Call {@link #answer} first, or from another thread.
   */
  public Opened await() {
    return opened.join();
  }

  private void run() {
    byte[] buffer = new byte[MAX_FIRST_LINE + 1];
    int filled = 0;
    int newline = -1;
    try {
      while (newline < 0 && filled < buffer.length) {
        int n = in.read(buffer, filled, buffer.length - filled);
        if (n < 0) {
          break;
        }
        newline = indexOfNewline(buffer, filled, filled + n);
        filled += n;
      }
    } catch (IOException | RuntimeException e) {
      opened.complete(new Opened(new SequenceInputStream(new ByteArrayInputStream(buffer, 0, filled),
          new Failed(e, in)), null));
      return;
    }
    JsonNode answered = null;
    try {
      answered = newline < 0 ? null : answer(buffer, newline);
    } finally {
      int from = answered == null ? 0 : newline + 1;
      opened.complete(new Opened(new SequenceInputStream(
          new ByteArrayInputStream(buffer, from, filled - from), in), answered));
    }
  }

  /** Answers the first line (ending at {@code newline}) when the answerer does; the message or null. */
  private @Nullable JsonNode answer(byte[] buffer, int newline) {
    int end = newline > 0 && buffer[newline - 1] == '\r' ? newline - 1 : newline;
    // Parsed while the config is read: the parser's first use costs most of its time.
    JsonFraming defaults = new JsonFraming(FrameLimits.defaults());
    JsonNode early = parse(defaults, buffer, end);
    Answering how = answering.join();
    boolean asDefaults = how.limits().equals(FrameLimits.defaults());
    JsonFraming framing = asDefaults ? defaults : new JsonFraming(how.limits());
    JsonNode message = asDefaults ? early : parse(framing, buffer, end);
    if (message == null) {
      return null;
    }
    JsonNode answer;
    try {
      answer = how.answerer().apply(message);
    } catch (RuntimeException e) {
      log().debug("stdio: the first message is left to the gateway: {}", e.toString());
      return null;
    }
    if (answer == null) {
      return null;
    }
    try {
      out.write(framing.frame(answer));
      out.flush();
    } catch (IOException e) {
      // The client's output is gone: the session finds it so at its first answer and ends.
      log().debug("stdio: could not write the first answer: {}", e.toString());
    }
    return message;
  }

  /** The message in the line, or null when it is not one under the framing's limits. */
  private static @Nullable JsonNode parse(JsonFraming framing, byte[] buffer, int end) {
    try {
      return framing.parseMessage(buffer, 0, end);
    } catch (FrameException e) {
      // Passed on: the transport reports the line as it reports every bad line.
      log().debug("stdio: the first message is left to the gateway: {}", e.getMessage());
      return null;
    }
  }

  /**
   * The logger, looked up only when something is logged: {@code sentinel stdio} starts an
   * opening before its logger, whose start (time zone and locale data) must not come first.
   */
  private static Logger log() {
    return LoggerFactory.getLogger(StdioOpening.class);
  }

  private static int indexOfNewline(byte[] bytes, int from, int to) {
    for (int i = from; i < to; i++) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** An input whose every read fails as the client's input failed while the opening read it. */
  private static final class Failed extends InputStream {
    private final Exception failure;
    private final InputStream in;

    Failed(Exception failure, InputStream in) {
      this.failure = failure;
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      throw failure instanceof IOException io ? io : new IOException(failure);
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
