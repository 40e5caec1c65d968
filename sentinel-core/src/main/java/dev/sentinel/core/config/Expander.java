package dev.sentinel.core.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Expands {@code ${env:NAME}}, {@code ${env:NAME:-default}} and {@code ${file:PATH}} inside the
 * strings where secrets may appear; <code>$${</code> is a literal <code>${</code>. Problems are recorded
 * in the reader, naming the reference as written, never the value it would give. Also resolves
 * the file names a config gives against the config's directory, as {@code ${file:PATH}} is.
 *
 * <p>Not thread-safe: one per load.
 */
final class Expander {
  static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern REFERENCE = Pattern.compile("\\$\\{(env|file):");

  private final ConfigReader in;
  private final Map<String, String> environment;
  private final Path baseDir;

  Expander(ConfigReader in, Map<String, String> environment, Path baseDir) {
    this.in = in;
    this.environment = environment;
    this.baseDir = baseDir;
  }

  /**
   * The text with every reference replaced, or {@code null} after recording a problem.
   *
   * @param raw the text as written
   * @param pointer where it was written, for messages
   * @param subject what it belongs to, for messages
   */
  @Nullable String expand(String raw, String pointer, @Nullable String subject) {
    StringBuilder out = new StringBuilder(raw.length());
    boolean ok = true;
    int i = 0;
    while (i < raw.length()) {
      if (raw.startsWith("$${", i)) {
        out.append("${");
        i += 3;
        continue;
      }
      if (!raw.startsWith("${", i)) {
        out.append(raw.charAt(i++));
        continue;
      }
      int end = raw.indexOf('}', i + 2);
      if (end < 0) {
        in.error(pointer, subject, "unterminated reference '" + raw.substring(i)
            + "'; close it with '}' (write $${ for a literal ${)");
        return null;
      }
      String reference = raw.substring(i, end + 1);
      String body = raw.substring(i + 2, end);
      String value = lookUp(reference, body, pointer, subject);
      if (value == null) {
        ok = false;
      } else {
        out.append(value);
      }
      i = end + 1;
    }
    return ok ? out.toString() : null;
  }

  /**
   * Records a problem if the text contains a reference where none is expanded, so that a
   * secret meant for the child is not passed as the literal text {@code ${env:X}}.
   */
  void forbid(@Nullable String raw, String pointer, @Nullable String subject, String where) {
    if (raw != null && REFERENCE.matcher(raw).find()) {
      in.error(pointer, subject, "${env:...} and ${file:...} are not expanded in " + where
          + "; they are expanded only in env values, headers, url and api_key (pass secrets to"
          + " the server through env:, or write $${ for a literal ${)");
    }
  }

  /** A path resolved against the config's directory, or {@code null} if it is not valid. */
  @Nullable Path resolve(String text) {
    try {
      return baseDir.resolve(text.strip()).normalize();
    } catch (InvalidPathException e) {
      return null;
    }
  }

  /** A required file name, resolved against the config's directory; null after an error. */
  @Nullable Path file(String p, @Nullable String subject, String what) {
    if (!in.present(p, subject, true)) {
      return null;
    }
    String text = in.string(p, subject, what);
    if (text == null) {
      return null;
    }
    Path file = resolve(text);
    if (file == null || text.isBlank()) {
      in.error(p, subject, "'" + text + "' is not a valid path");
      return null;
    }
    return file;
  }

  /** An optional expanded value, or {@code null} when absent or after recording a problem. */
  @Nullable String optionalSecret(String p, String what) {
    if (!in.present(p, null, false)) {
      return null;
    }
    String raw = in.secretText(p, null, what);
    return raw == null ? null : expand(raw, p, null);
  }

  /** A mapping of names to text with every reference expanded. */
  Map<String, String> expandedMap(String p, @Nullable String subject, String what) {
    Map<String, String> out = new LinkedHashMap<>();
    in.rawMap(p, subject, what).forEach((key, raw) -> {
      String value = expand(raw, YamlDocument.child(p, key), subject);
      if (value != null) {
        out.put(key, value);
      }
    });
    return out;
  }

  private @Nullable String lookUp(
      String reference, String body, String pointer, @Nullable String subject) {
    if (body.startsWith("env:")) {
      String spec = body.substring(4);
      int dash = spec.indexOf(":-");
      String name = dash < 0 ? spec : spec.substring(0, dash);
      if (!ENV_NAME.matcher(name).matches()) {
        in.error(pointer, subject, "invalid environment variable name in '" + reference
            + "' (expected letters, digits and '_', not starting with a digit)");
        return null;
      }
      String value = environment.get(name);
      if (value != null) {
        return value;
      }
      if (dash >= 0) {
        return spec.substring(dash + 2);
      }
      in.error(pointer, subject, "environment variable " + name + " is not set (referenced as "
          + reference + "); set it, or give a default: ${env:" + name + ":-default}");
      return null;
    }
    if (body.startsWith("file:")) {
      String written = body.substring(5).strip();
      if (written.isEmpty()) {
        in.error(pointer, subject, "'" + reference + "' names no file");
        return null;
      }
      Path file;
      try {
        file = baseDir.resolve(written).normalize();
      } catch (InvalidPathException e) {
        in.error(pointer, subject, "'" + reference + "' is not a valid path");
        return null;
      }
      try {
        return Files.readString(file, StandardCharsets.UTF_8).strip();
      } catch (NoSuchFileException e) {
        in.error(pointer, subject, "secret file " + file + " does not exist (referenced as "
            + reference + ")");
      } catch (CharacterCodingException e) {
        in.error(pointer, subject, "secret file " + file + " is not valid UTF-8 (referenced as "
            + reference + ")");
      } catch (IOException | SecurityException e) {
        in.error(pointer, subject, "cannot read secret file " + file + " (referenced as "
            + reference + "): " + e.getClass().getSimpleName());
      }
      return null;
    }
    in.error(pointer, subject, "unknown reference '" + reference + "' (expected ${env:NAME}, "
        + "${env:NAME:-default} or ${file:PATH}; write $${ for a literal ${)");
    return null;
  }
}
