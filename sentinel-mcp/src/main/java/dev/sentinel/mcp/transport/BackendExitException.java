package dev.sentinel.mcp.transport;

import dev.sentinel.api.SentinelException;

/**
 * A backend child process ended on its own (not because the gateway closed it). Carries the
 * exit code and the last bytes the process wrote to stderr, which usually say why.
 */
public final class BackendExitException extends SentinelException {
  private static final long serialVersionUID = 1L;

  private final String backend;
  private final int exitCode;
  private final String stderrTail;

  /** Creates the exception for a backend that exited with a code. */
  public BackendExitException(String backend, int exitCode, String stderrTail) {
    super(message(backend, exitCode, stderrTail));
    this.backend = backend;
    this.exitCode = exitCode;
    this.stderrTail = stderrTail == null ? "" : stderrTail;
  }

  private static String message(String backend, int exitCode, String stderrTail) {
    String text = "backend '" + backend + "' exited with code " + exitCode;
    if (stderrTail == null || stderrTail.isBlank()) {
      return text + " (no stderr output)";
    }
    return text + "; last stderr output:\n" + stderrTail.stripTrailing();
  }

  /** The backend's name. */
  public String backend() {
    return backend;
  }

  /** The process's exit code. */
  public int exitCode() {
    return exitCode;
  }

  /** The last bytes of the process's stderr, decoded as UTF-8; may be empty. */
  public String stderrTail() {
    return stderrTail;
  }
}
