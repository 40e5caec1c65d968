package dev.sentinel.mcp.transport;

import dev.sentinel.api.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * A backend MCP server run as a child process, speaking newline-delimited JSON-RPC on its stdin
 * and stdout.
 *
 * <p>The child gets exactly the argument vector of its {@link ProcessSpec} (no shell) and exactly
 * its environment (nothing inherited). Its stdout is read as framed messages under the spec's
 * {@link FrameLimits}: a line that is not a JSON-RPC message, or is too long or too deep, is
 * logged and skipped (a child flooding garbage costs at most one line buffer of memory). Its
 * stderr is drained on its own thread, line by line (each line cut at 4 KiB) into the SLF4J
 * logger {@code dev.sentinel.backend.<name>}, and its last bytes are kept for {@link
 * #stderrTail()}.
 *
 * <p>When the child exits on its own the receiver hears {@code closed(new
 * BackendExitException(name, exitCode, stderrTail))}, after every message it wrote; when {@link
 * #close()} stopped it, {@code closed(null)}.
 *
 * <p>Thread-safe: {@link #send} may be called from any thread; messages never interleave.
 * Messages are delivered in order on one delivery thread.
 */
public final class ProcessTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessTransport.class);
  private static final int LOGGED_BAD_LINES = 20;

  private final ProcessSpec spec;
  private final Process process;
  private final FrameWriter writer;
  private final JsonFraming framing;
  private final LineReader lines;
  private final StderrPump stderr;
  private final Thread stderrThread;
  private final Delivery delivery;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private final AtomicLong badLines = new AtomicLong();

  private ProcessTransport(ProcessSpec spec, Process process) {
    this.spec = spec;
    this.process = process;
    this.writer = new FrameWriter(process.getOutputStream());
    this.framing = new JsonFraming(spec.limits());
    this.lines = new LineReader(process.getInputStream(), spec.limits().maxMessageBytes());
    this.delivery = new Delivery("backend-" + spec.name());
    Logger backendLog = LoggerFactory.getLogger("dev.sentinel.backend." + spec.name());
    this.stderr =
        new StderrPump(process.getErrorStream(), spec.stderrTailBytes(), backendLog::info);
    this.stderrThread = new Thread(stderr, "sentinel-stderr-" + spec.name());
    stderrThread.setDaemon(true);
    stderrThread.start();
  }

  /**
   * Starts the child process. Its stderr is drained from now on; its stdout is read once {@link
   * #start(Receiver)} is called.
   *
   * @throws IOException naming the backend and the command when the process cannot start
   */
  public static ProcessTransport start(ProcessSpec spec) throws IOException {
    Objects.requireNonNull(spec, "spec");
    ProcessBuilder builder = new ProcessBuilder(spec.command());
    Map<String, String> environment = builder.environment();
    environment.clear();
    environment.putAll(spec.environment());
    if (spec.workingDirectory() != null) {
      builder.directory(spec.workingDirectory().toFile());
    }
    Process process;
    try {
      process = builder.start();
    } catch (IOException | RuntimeException e) {
      throw new IOException(
          "cannot start backend '" + spec.name() + "' with command " + spec.command()
              + (spec.workingDirectory() == null ? "" : " in " + spec.workingDirectory())
              + ": " + e.getMessage(),
          e);
    }
    LOG.info("backend {}: started pid {}: {}", spec.name(), process.pid(), spec.command());
    return new ProcessTransport(spec, process);
  }

  /** The child's process id. */
  public long pid() {
    return process.pid();
  }

  /** The last bytes the child wrote to stderr (at most the spec's tail size), as UTF-8. */
  public String stderrTail() {
    return stderr.tail();
  }

  /** Starts reading the child's stdout and delivering its messages. Called once. */
  @Override
  public void start(Receiver receiver) {
    Objects.requireNonNull(receiver, "receiver");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("transport of backend '" + spec.name() + "' already started");
    }
    delivery.start(receiver);
    Thread reader = new Thread(this::read, "sentinel-stdout-" + spec.name());
    reader.setDaemon(true);
    reader.start();
  }

  private void read() {
    Throwable failure = null;
    try {
      while (!delivery.ended()) {
        LineReader.Kind kind = lines.next();
        if (kind == LineReader.Kind.END) {
          break;
        }
        if (kind == LineReader.Kind.TOO_LONG) {
          bad("a line of at least " + lines.skippedBytes() + " bytes, over the limit of "
              + spec.limits().maxMessageBytes());
          continue;
        }
        if (lines.blank()) {
          continue;
        }
        JsonNode message;
        try {
          message = framing.parseMessage(lines.bytes(), 0, lines.length());
        } catch (FrameException e) {
          bad(e.getMessage());
          continue;
        }
        if (!delivery.offer(message)) {
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      failure = e;
    }
    exited(failure);
  }

  private void bad(String what) {
    long count = badLines.incrementAndGet();
    if (count <= LOGGED_BAD_LINES || count % 1000 == 0) {
      LOG.warn("backend {}: skipped output that is not a message ({} so far): {}",
          spec.name(), count, what);
    }
  }

  /** Stdout ended: wait for the process, then end the transport with its exit. */
  private void exited(@Nullable Throwable failure) {
    int code;
    try {
      code = process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      delivery.end(e, false);
      return;
    }
    try {
      // let the pump take the last stderr lines; a grandchild holding the pipe must not stall us
      stderrThread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closing.get()) {
      delivery.end(null, false);
      return;
    }
    BackendExitException exit = new BackendExitException(spec.name(), code, stderr.tail());
    if (failure != null) {
      exit.addSuppressed(failure);
    }
    LOG.warn("{}", exit.getMessage());
    delivery.end(exit, false);
  }

  /**
   * Writes the message to the child's stdin as one line and flushes.
   *
   * @throws IOException when the transport is closed or the child's stdin is broken
   */
  @Override
  public void send(JsonNode message) throws IOException {
    Objects.requireNonNull(message, "message");
    if (closing.get() || delivery.ended()) {
      throw new IOException("transport of backend '" + spec.name() + "' is closed");
    }
    try {
      writer.write(framing.frame(message));
    } catch (IOException e) {
      throw new IOException("cannot write to backend '" + spec.name() + "': " + e.getMessage(), e);
    }
  }

  /**
   * Stops the child: closes its stdin, waits the stop grace for it to exit, asks it to terminate
   * ({@link Process#destroy()}), waits again, then kills it ({@link Process#destroyForcibly()}).
   * Its descendants are stopped the same way. Returns once the child is gone and its descendants
   * have been terminated (or killed); the receiver hears {@code closed(null)}. Idempotent: a call while another thread is
   * stopping the child waits until that thread is done, so that whoever closes a transport (a
   * gateway shutting down while a session's backend is being stopped on another thread) can
   * rely on the child having ended when {@code close()} returns.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      stopped.join(); // uninterruptible: the caller must not leave before the child is gone
      return;
    }
    try {
      stop();
    } finally {
      stopped.complete(null);
    }
    // the receiver hears closed(null) now, even if an orphan still holds the stdout pipe open
    delivery.end(null, true);
  }

  private void stop() {
    LOG.debug("backend {}: stopping pid {}", spec.name(), process.pid());
    List<ProcessHandle> tree = descendants(new ArrayList<>());
    // closing stdin can block behind a write the child never reads: do it off this thread
    Thread closer = new Thread(writer::close, "sentinel-stdin-close-" + spec.name());
    closer.setDaemon(true);
    closer.start();
    long graceMillis = spec.stopGrace().toMillis();
    try {
      if (!process.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
        descendants(tree);
        process.destroy();
        if (!process.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
          descendants(tree);
          LOG.warn("backend {}: pid {} did not stop within {}; killing it",
              spec.name(), process.pid(), spec.stopGrace());
          process.destroyForcibly();
          process.waitFor();
        }
      }
      stopAll(tree, graceMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      tree.forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      // a killed child cannot linger: wait (uninterruptibly) so that it is gone on return
      process.onExit().join();
    }
  }

  private List<ProcessHandle> descendants(List<ProcessHandle> into) {
    if (process.isAlive()) {
      process.descendants().filter(h -> !into.contains(h)).forEach(into::add);
    }
    return into;
  }

  private void stopAll(List<ProcessHandle> tree, long graceMillis) throws InterruptedException {
    List<ProcessHandle> alive =
        tree.stream().filter(ProcessHandle::isAlive).collect(Collectors.toList());
    if (alive.isEmpty()) {
      return;
    }
    alive.forEach(ProcessHandle::destroy);
    for (ProcessHandle handle : alive) {
      try {
        handle.onExit().get(graceMillis, TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        LOG.warn("backend {}: descendant pid {} did not stop; killing it",
            spec.name(), handle.pid());
        handle.destroyForcibly();
      }
    }
  }

  /** The largest stdout line buffer allocated so far, for tests of bounded memory. */
  int lineBufferHighWater() {
    return lines.highWater();
  }

  @Override
  public String toString() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("name", spec.name());
    fields.put("pid", process.pid());
    return "ProcessTransport" + fields;
  }
}
