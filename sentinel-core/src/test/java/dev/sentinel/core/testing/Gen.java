package dev.sentinel.core.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.LongStream;

/**
 * Small helpers for seeded generators: model properties run as {@code @ParameterizedTest}s over
 * fixed seeds, each case drawing its inputs from {@code new Random(seed)}, so a failure names the
 * seed that reproduces it. Properties about arbitrary input (parsers) are Jazzer
 * {@code @FuzzTest}s instead.
 *
 * <pre>{@code
 * static LongStream seeds() { return Gen.seeds(300); }
 *
 * @ParameterizedTest(name = "seed {0}")
 * @MethodSource("seeds")
 * void decide_indexAgreesWithLinearScan(long seed) {
 *   Random random = new Random(seed);
 *   ...
 * }
 * }</pre>
 */
public final class Gen {
  private Gen() {}

  /** The seeds {@code 0 .. count - 1}. */
  public static LongStream seeds(int count) {
    return LongStream.range(0, count);
  }

  /** One of the values, uniformly. */
  @SafeVarargs
  public static <T> T pick(Random random, T... values) {
    return values[random.nextInt(values.length)];
  }

  /** One element of a non-empty list, uniformly. */
  public static <T> T pick(Random random, List<T> values) {
    return values.get(random.nextInt(values.size()));
  }

  /** {@code null} with probability {@code nullChance}, else the supplier's value. */
  public static <T> T orNull(Random random, double nullChance, Supplier<T> value) {
    return random.nextDouble() < nullChance ? null : value.get();
  }

  /** An integer in {@code [min, max]}. */
  public static int between(Random random, int min, int max) {
    return min + random.nextInt(max - min + 1);
  }

  /** A list of {@code min..max} elements from the supplier. */
  public static <T> List<T> list(Random random, int min, int max, Supplier<T> element) {
    int size = between(random, min, max);
    List<T> out = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      out.add(element.get());
    }
    return out;
  }

  /** A list of {@code 0..max} distinct elements of {@code values}, in a random order. */
  public static <T> List<T> distinct(Random random, List<T> values, int max) {
    List<T> shuffled = new ArrayList<>(values);
    Collections.shuffle(shuffled, random);
    return new ArrayList<>(shuffled.subList(0, between(random, 0, Math.min(max, values.size()))));
  }

  /** A string of {@code min..max} characters drawn from {@code alphabet}. */
  public static String string(Random random, String alphabet, int min, int max) {
    int length = between(random, min, max);
    StringBuilder out = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      out.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return out.toString();
  }

  /** Letters and digits, as in identifiers and tokens. */
  public static final String ALNUM =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  /** A string of {@code min..max} letters and digits. */
  public static String alnum(Random random, int min, int max) {
    return string(random, ALNUM, min, max);
  }

  /**
   * Text of up to {@code max} UTF-16 units mixing ASCII (control characters included), Latin,
   * CJK and astral characters (emoji), never a lone surrogate.
   */
  public static String text(Random random, int max) {
    int length = between(random, 0, max);
    StringBuilder out = new StringBuilder(length);
    while (out.length() < length) {
      int kind = random.nextInt(10);
      if (kind < 5) {
        out.append((char) random.nextInt(0x80));
      } else if (kind < 7) {
        out.append((char) (0xA0 + random.nextInt(0x250 - 0xA0)));
      } else if (kind < 8) {
        out.append((char) (0x4E00 + random.nextInt(0x21)));
      } else if (kind < 9) {
        out.append(pick(random, '\u2028', '\u2029', '\uFEFF', '\uFFFD', '\u00e9'));
      } else {
        out.appendCodePoint(0x1F600 + random.nextInt(0x50));
      }
    }
    return out.toString();
  }
}
