package dev.sentinel.mcp.transport;

import dev.sentinel.api.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/**
 * The client-facing side of a stdio gateway: newline-delimited JSON-RPC over the process's own
 * stdin and stdout, UTF-8, as the MCP stdio transport defines it.
 *
 * <p>Only protocol bytes are ever written to the output: each sent message as one compact JSON
 * line, flushed at once, and the transport's own answers to bad input. A line that is not JSON is
 * answered with a JSON-RPC {@code -32700} error (id null); a line over {@link
 * FrameLimits#maxMessageBytes()} (skipped without being buffered), nested deeper than {@link
 * FrameLimits#maxDepth()}, or a JSON value that is neither object nor array is answered with
 * {@code -32600}; blank lines are ignored. The transport keeps reading after each of these. End
 * of input ends the transport with {@code closed(null)}. Diagnostics go to SLF4J, never to the
 * output.
 *
 * <p>Thread-safe: {@link #send} may be called from any thread; concurrent messages never
 * interleave. Messages are delivered in order on one delivery thread; a slow receiver holds the
 * reading back rather than growing a queue.
 */
public final class StdioTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(StdioTransport.class);

  private final InputStream in;
  private final FrameWriter writer;
  private final JsonFraming framing;
  private final LineReader lines;
  private final Delivery delivery = new Delivery("stdio");
  private final AtomicBoolean started = new AtomicBoolean();

  private StdioTransport(InputStream in, OutputStream out, FrameLimits limits) {
    this.in = in;
    this.writer = new FrameWriter(out);
    this.framing = new JsonFraming(limits);
    this.lines = new LineReader(in, limits.maxMessageBytes());
  }

  /**
   * A transport reading messages from {@code in} and writing them to {@code out}; for a gateway,
   * {@code System.in} and {@code System.out}. Nothing is read until {@link #start}.
   */
  public static StdioTransport of(InputStream in, OutputStream out, FrameLimits limits) {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(limits, "limits");
    return new StdioTransport(in, out, limits);
  }

  /** Starts reading on its own thread and delivering on another. Called once. */
  @Override
  public void start(Receiver receiver) {
    Objects.requireNonNull(receiver, "receiver");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("stdio transport already started");
    }
    delivery.start(receiver);
    Thread reader = new Thread(this::read, "sentinel-stdio-reader");
    reader.setDaemon(true);
    reader.start();
  }

  private void read() {
    try {
      while (!delivery.ended()) {
        LineReader.Kind kind = lines.next();
        if (kind == LineReader.Kind.END) {
          delivery.end(null, false);
          return;
        }
        if (kind == LineReader.Kind.TOO_LONG) {
          LOG.warn("stdio: skipped a message of at least {} bytes", lines.skippedBytes());
          answer(framing.tooLong());
          continue;
        }
        if (lines.blank()) {
          continue;
        }
        JsonNode message;
        try {
          message = framing.parseMessage(lines.bytes(), 0, lines.length());
        } catch (FrameException e) {
          LOG.warn("stdio: refused a message: {}", e.getMessage());
          answer(e);
          continue;
        }
        if (!delivery.offer(message)) {
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      if (!delivery.ended()) {
        LOG.warn("stdio: reading failed", e);
      }
      delivery.end(e, false);
    }
  }

  private void answer(FrameException e) throws IOException {
    writer.write(framing.frame(
        JsonFraming.error(JsonNodeFactory.instance.nullNode(), e.code(), e.getMessage())));
  }

  /**
   * Writes the message as one line and flushes.
   *
   * @throws IOException when the output is closed or broken; a broken output also ends the
   *     transport
   */
  @Override
  public void send(JsonNode message) throws IOException {
    Objects.requireNonNull(message, "message");
    if (delivery.ended()) {
      throw new IOException("stdio transport is closed");
    }
    byte[] frame = framing.frame(message);
    try {
      writer.write(frame);
    } catch (IOException e) {
      delivery.end(e, false);
      throw e;
    }
  }

  /** Closes input and output; the receiver hears {@code closed(null)} once. Idempotent. */
  @Override
  public void close() {
    delivery.end(null, true);
    writer.close();
    try {
      in.close();
    } catch (IOException e) {
      LOG.debug("stdio: closing input failed", e);
    }
  }

  /** The largest line buffer allocated so far, for tests of bounded memory. */
  int lineBufferHighWater() {
    return lines.highWater();
  }
}
