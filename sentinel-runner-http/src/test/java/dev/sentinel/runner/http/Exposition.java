package dev.sentinel.runner.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format (and the OpenMetrics text format): every sample
 * line must be {@code name{label="value",...} value [timestamp]}, every comment {@code # HELP},
 * {@code # TYPE}, {@code # UNIT} or {@code # EOF}; anything else fails the test.
 */
final class Exposition {
  private static final Pattern SAMPLE = Pattern.compile(
      "([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)(?: (-?\\d+(?:\\.\\d+)?))?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
  private static final Pattern COMMENT = Pattern.compile(
      "# (?:(?:HELP|TYPE|UNIT) [a-zA-Z_:][a-zA-Z0-9_:]*(?: .*)?|EOF)");

  /** One sample. */
  record Sample(String name, Map<String, String> labels, double value) {}

  final List<Sample> samples;

  private Exposition(List<Sample> samples) {
    this.samples = samples;
  }

  static Exposition parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("#")) {
        if (!COMMENT.matcher(line).matches()) {
          throw new AssertionError("not a valid comment line: " + line);
        }
        continue;
      }
      Matcher sample = SAMPLE.matcher(line);
      if (!sample.matches()) {
        throw new AssertionError("not a sample line (name{labels} value): " + line);
      }
      samples.add(new Sample(sample.group(1), labels(sample.group(2), line), value(sample.group(3), line)));
    }
    return new Exposition(samples);
  }

  private static Map<String, String> labels(String text, String line) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (text == null || text.isEmpty()) {
      return labels;
    }
    Matcher label = LABEL.matcher(text);
    int at = 0;
    while (at < text.length()) {
      if (!label.find(at) || label.start() != at) {
        throw new AssertionError("bad labels in: " + line);
      }
      if (labels.put(label.group(1), label.group(2)) != null) {
        throw new AssertionError("repeated label in: " + line);
      }
      at = label.end();
      if (at < text.length()) {
        if (text.charAt(at) != ',') {
          throw new AssertionError("bad label separator in: " + line);
        }
        at++;
      }
    }
    return labels;
  }

  private static double value(String text, String line) {
    switch (text) {
      case "+Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      case "NaN":
        return Double.NaN;
      default:
        try {
          return Double.parseDouble(text);
        } catch (NumberFormatException e) {
          throw new AssertionError("bad value in: " + line);
        }
    }
  }

  /** The samples of a name whose labels include all of {@code labels} (pairs). */
  List<Sample> find(String name, String... labels) {
    List<Sample> found = new ArrayList<>();
    for (Sample sample : samples) {
      if (!sample.name().equals(name)) {
        continue;
      }
      boolean all = true;
      for (int i = 0; i + 1 < labels.length; i += 2) {
        all &= labels[i + 1].equals(sample.labels().get(labels[i]));
      }
      if (all) {
        found.add(sample);
      }
    }
    return found;
  }

  /** The one value of a name with these labels; fails if there is not exactly one. */
  double value(String name, String... labels) {
    List<Sample> found = find(name, labels);
    if (found.size() != 1) {
      throw new AssertionError("expected one sample " + name + " " + String.join(",", labels) + ", found " + found);
    }
    return found.get(0).value();
  }

  /** The sum over the samples of a name with these labels (0 when none). */
  double sum(String name, String... labels) {
    return find(name, labels).stream().mapToDouble(Sample::value).sum();
  }

  /** Every metric family name: sample names without _bucket, _count, _sum, _max, _total, _info, _created. */
  List<String> names() {
    List<String> names = new ArrayList<>();
    for (Sample sample : samples) {
      names.add(sample.name());
    }
    return names;
  }
}
