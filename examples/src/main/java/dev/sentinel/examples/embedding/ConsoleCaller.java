package dev.sentinel.examples.embedding;

import dev.sentinel.api.Caller;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * The person at a console, as Sentinel's confirmation step reaches them: a call a {@code confirm}
 * rule holds is shown to them, and runs only if they answer {@code y}. An application with its
 * own user interface (a dialog, a chat message) implements {@link Caller} the same way.
 *
 * <p>Reads one line per question and does not enforce the timeout (a console read cannot be
 * interrupted); a user interface that can should give up after it. One question at a time.
 */
public final class ConsoleCaller implements Caller {
  private final BufferedReader in;
  private final PrintStream out;

  /** The person who reads {@code out} and types on {@code in}. */
  public ConsoleCaller(BufferedReader in, PrintStream out) {
    this.in = in;
    this.out = out;
  }

  @Override
  public boolean askable() {
    return true;
  }

  @Override
  public synchronized Answer confirm(String question, String binding, Duration timeout) {
    out.println(question);
    out.print("Run it? [y/N] ");
    out.flush();
    String line;
    try {
      line = in.readLine();
    } catch (IOException e) {
      return Answer.UNREACHABLE;
    }
    if (line == null) {
      return Answer.UNREACHABLE;
    }
    String answer = line.strip().toLowerCase(Locale.ROOT);
    return answer.equals("y") || answer.equals("yes") ? Answer.ACCEPTED : Answer.DECLINED;
  }

  @Override
  public void waiting(Duration waited, String message) {
    out.println(message + " (" + waited.toSeconds() + " s)");
  }
}
