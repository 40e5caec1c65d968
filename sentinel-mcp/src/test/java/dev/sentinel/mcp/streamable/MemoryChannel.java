package dev.sentinel.mcp.streamable;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.Callback;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * An HTTP response in memory, as a server adapter would offer it: what was answered (a JSON body,
 * a bare status, or an event stream) and whether the exchange completed. Writes complete at once,
 * as a socket that takes everything would, unless the channel is {@link #stall stalled}: then it
 * holds the write in progress, as a client that stops reading leaves it, until {@link #resume}.
 * Thread-safe.
 */
public final class MemoryChannel implements ResponseChannel {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final StringBuilder stream = new StringBuilder();
  private final CountDownLatch done = new CountDownLatch(1);
  private int status;
  private String kind;
  private byte[] body;
  private boolean stalled;
  private Callback held;
  private boolean ended;
  private Throwable failure;
  private Throwable aborted;

  @Override
  public synchronized void json(int status, byte[] body) {
    answer(status, "json");
    this.body = body.clone();
    ended = true;
    done.countDown();
  }

  @Override
  public synchronized void empty(int status) {
    answer(status, "empty");
    ended = true;
    done.countDown();
  }

  @Override
  public synchronized void openEventStream() {
    answer(200, "sse");
  }

  private void answer(int status, String kind) {
    assertThat(this.kind).as("answered once (a stream's headers are the answer)").isNull();
    this.status = status;
    this.kind = kind;
  }

  @Override
  public void write(boolean last, ByteBuffer chunk, Callback callback) {
    synchronized (this) {
      assertThat(kind).as("a write belongs to an event stream").isEqualTo("sse");
      assertThat(held).as("one write at a time").isNull();
      if (aborted != null) {
        // The connection is closed: the write fails, as a socket's would.
      } else {
        stream.append(StandardCharsets.UTF_8.decode(chunk));
        if (last) {
          ended = true;
        }
        if (stalled) {
          held = callback;
          return;
        }
      }
    }
    if (aborted() != null) {
      callback.failed(aborted());
    } else {
      callback.succeeded();
    }
  }

  @Override
  public void abort(Throwable cause) {
    Callback failing;
    synchronized (this) {
      aborted = cause;
      failing = held;
      held = null;
    }
    if (failing != null) {
      failing.failed(cause);
    }
  }

  @Override
  public synchronized void succeeded() {
    done.countDown();
  }

  @Override
  public synchronized void failed(Throwable cause) {
    failure = cause;
    done.countDown();
  }

  /** From now on, the write in progress is held: the client stopped reading. */
  public synchronized void stall() {
    stalled = true;
  }

  /** The client reads again: the held write completes, and later ones at once. */
  public void resume() {
    Callback releasing;
    synchronized (this) {
      stalled = false;
      releasing = held;
      held = null;
    }
    if (releasing != null) {
      releasing.succeeded();
    }
  }

  /** Waits until the server's exchange completed (answered whole, or the stream ended or failed). */
  public MemoryChannel awaitDone() {
    try {
      assertThat(done.await(10, TimeUnit.SECONDS)).as("the exchange completed").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return this;
  }

  /** Whether the server's exchange completed. */
  public boolean isDone() {
    return done.getCount() == 0;
  }

  public synchronized int status() {
    return status;
  }

  /** {@code "json"}, {@code "empty"}, {@code "sse"}, or {@code null} before any answer. */
  public synchronized String kind() {
    return kind;
  }

  /** The JSON body answered. */
  public synchronized JsonNode json() {
    assertThat(kind).isEqualTo("json");
    return JSON.readTree(body);
  }

  /** The event stream's text so far. */
  public synchronized String text() {
    return stream.toString();
  }

  /** The stream's events, as {@code [id, data]} pairs ({@code id} {@code null} when absent); comments are skipped. */
  public synchronized List<String[]> events() {
    List<String[]> events = new ArrayList<>();
    for (String block : stream.toString().split("\n\n")) {
      String id = null;
      String data = null;
      for (String line : block.split("\n")) {
        if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("data: ")) {
          data = line.substring(6);
        }
      }
      if (data != null) {
        events.add(new String[] {id, data});
      }
    }
    return events;
  }

  /** The data of the stream's events that carry a message, parsed (priming events have none). */
  public List<JsonNode> messages() {
    List<JsonNode> messages = new ArrayList<>();
    for (String[] event : events()) {
      if (!event[1].isEmpty()) {
        messages.add(JSON.readTree(event[1]));
      }
    }
    return messages;
  }

  /** Whether the last write (the stream's end) was made. */
  public synchronized boolean ended() {
    return ended;
  }

  /** The failure the exchange completed with, or {@code null}. */
  public synchronized Throwable failure() {
    return failure;
  }

  /** Why the connection was closed by the session, or {@code null}. */
  public synchronized Throwable aborted() {
    return aborted;
  }
}
