package dev.sentinel.cli;

import dev.sentinel.api.SentinelException;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Turns what a command throws into the one line a person can act on: the cause and a hint.
 * Stateless.
 */
final class Failures {
  private Failures() {}

  /**
   * The line printed for a failure: a {@link UserError}'s cause and hint, a
   * {@link SentinelException}'s message (written for users already), a recognised system error
   * (permission denied, missing file, address in use, connection refused) with a hint, or else
   * an unexpected error with a request to report it.
   */
  static String describe(Throwable failure) {
    if (failure instanceof UserError) {
      return ((UserError) failure).line();
    }
    if (failure instanceof SentinelException) {
      return message(failure);
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      UserError known = recognise(t);
      if (known != null) {
        return known.line();
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return "sentinel: unexpected error: " + failure
        + ". Hint: run again with --debug for the stack trace, and please report it";
  }

  /** A failure's message, or its class name when it has none. */
  static String message(Throwable failure) {
    String message = failure.getMessage();
    return message != null ? message : failure.getClass().getName();
  }

  /** A known system error as a cause and a hint, or null. */
  private static @Nullable UserError recognise(Throwable t) {
    if (t instanceof UserError) {
      return (UserError) t;
    }
    if (t instanceof AccessDeniedException) {
      String file = ((FileSystemException) t).getFile();
      return new UserError("permission denied: " + file,
          "give the user running sentinel (" + System.getProperty("user.name")
              + ") access to it, or point the config at a file or folder that user may use", t);
    }
    if (t instanceof NoSuchFileException) {
      String file = ((FileSystemException) t).getFile();
      return new UserError("no such file or folder: " + file,
          "check the path; a relative path starts from " + Path.of("").toAbsolutePath(), t);
    }
    if (t instanceof FileSystemException
        && String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT).contains("read-only")) {
      return new UserError("cannot write " + ((FileSystemException) t).getFile()
          + ": the file system is read-only",
          "put the database and audit files on a writable volume (a state directory)", t);
    }
    if (t instanceof BindException) {
      return new UserError("cannot listen: " + t.getMessage(),
          "another process may hold the port: stop it, or choose another port", t);
    }
    if (t instanceof ConnectException) {
      return new UserError("cannot connect: " + t.getMessage(),
          "check that the server is running and that the host and port in the config are right",
          t);
    }
    if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
      return new UserError("unknown host " + t.getMessage(), "check the host name in the config",
          t);
    }
    return null;
  }

  /**
   * Binds a listening channel on {@code host:port}, before anything else starts, so that an
   * address in use is reported at once and nothing (a backend, a database) was started for
   * nothing.
   *
   * @throws UserError when the address cannot be bound, saying why and what to do
   */
  static ServerSocketChannel listen(String host, int port) {
    String address = host.contains(":") && !host.startsWith("[") ? "[" + host + "]:" + port
        : host + ":" + port;
    ServerSocketChannel channel;
    try {
      channel = ServerSocketChannel.open();
    } catch (IOException e) {
      throw new UserError("cannot open a socket for " + address + ": " + e.getMessage(),
          "check the machine's limits on open files (ulimit -n)", e);
    }
    try {
      // As Jetty binds its own: a restarted gateway may rebind while old connections linger.
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(new InetSocketAddress(host, port));
      return channel;
    } catch (BindException e) {
      close(channel);
      String text = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      if (text.contains("permission")) {
        throw new UserError("cannot listen on " + address + ": permission denied (ports below"
            + " 1024 need privileges)", "use a port above 1023 with --port or server.port, and"
            + " put a reverse proxy or a port forward in front if clients need port " + port, e);
      }
      if (text.contains("assign")) {
        throw new UserError("cannot listen on " + address + ": " + host
            + " is not an address of this machine", "set --host or server.host to 127.0.0.1"
            + " (this machine only) or to one of this machine's addresses", e);
      }
      throw new UserError("cannot listen on " + address + ": the port is in use by another"
          + " process", "stop that process, or choose another port with --port or server.port"
          + " (0 picks a free one)", e);
    } catch (UnresolvedAddressException e) {
      close(channel);
      throw new UserError("cannot listen on " + address + ": unknown host " + host,
          "set --host or server.host to an address such as 127.0.0.1", e);
    } catch (IOException | RuntimeException e) {
      close(channel);
      throw new UserError("cannot listen on " + address + ": " + e.getMessage(),
          "check --host and --port, or server.host and server.port", e);
    }
  }

  private static void close(ServerSocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // nothing was bound; the bind failure is what the user needs
    }
  }
}
