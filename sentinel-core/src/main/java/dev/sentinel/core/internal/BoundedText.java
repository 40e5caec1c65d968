package dev.sentinel.core.internal;

/**
 * A string that counts the characters a regex search reads and stops it past a budget: 64 reads
 * per character plus 100,000, and never more than 50 million (a few hundred milliseconds of one
 * core). Ordinary patterns read a character one to four times; one that backtracks
 * catastrophically reads it thousands or millions of times. Used by the policy's {@code regex}
 * operator and by the {@code pattern} keyword of tools' input schemas, so that no pattern, the
 * operator's or a backend's, can hold a request thread.
 *
 * <pre>{@code
 * try {
 *   return pattern.matcher(new BoundedText(text)).find();
 * } catch (BoundedText.Exhausted e) {
 *   // undecided: fail closed
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one per search.
 */
public final class BoundedText implements CharSequence {
  private final String text;
  private long left;

  /** A text that allows {@link #budget(int)} reads of {@code text}'s characters. */
  public BoundedText(String text) {
    this.text = text;
    this.left = budget(text.length());
  }

  /** The reads a search of a text of {@code length} characters may make. */
  public static long budget(int length) {
    return Math.min(64L * length + 100_000, 50_000_000);
  }

  /** The character at {@code index}; throws {@link Exhausted} once the budget is spent. */
  @Override
  public char charAt(int index) {
    if (--left < 0) {
      throw Exhausted.INSTANCE;
    }
    return text.charAt(index);
  }

  @Override
  public int length() {
    return text.length();
  }

  @Override
  public CharSequence subSequence(int start, int end) {
    return text.subSequence(start, end);
  }

  @Override
  public String toString() {
    return text;
  }

  /** Thrown to stop a search; carries no stack trace (it is control flow, and frequent). */
  public static final class Exhausted extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final Exhausted INSTANCE = new Exhausted();

    private Exhausted() {
      super("regex budget exhausted", null, false, false);
    }
  }
}
