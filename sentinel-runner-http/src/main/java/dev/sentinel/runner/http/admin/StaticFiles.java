package dev.sentinel.runner.http.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;

/**
 * The operator page's files, read once from the class path. Only the names listed here are
 * served, so no request path reaches the class path. Immutable and thread-safe.
 */
final class StaticFiles {
  private static final String BASE = "/dev/sentinel/runner/http/admin/";
  private static final Map<String, String> TYPES = Map.of(
      "index.html", "text/html; charset=utf-8",
      "app.js", "text/javascript; charset=utf-8",
      "app.css", "text/css; charset=utf-8");

  /** A file's bytes and content type. */
  record File(byte[] bytes, String contentType) {}

  private final Map<String, File> files;

  StaticFiles() {
    Map<String, File> loaded = new java.util.HashMap<>();
    TYPES.forEach((name, type) -> loaded.put(name, new File(read(name), type)));
    this.files = Map.copyOf(loaded);
  }

  /** The file with this name, if it is one of the page's. */
  Optional<File> find(String name) {
    return Optional.ofNullable(files.get(name));
  }

  private static byte[] read(String name) {
    try (InputStream in = StaticFiles.class.getResourceAsStream(BASE + name)) {
      if (in == null) {
        throw new IllegalStateException("the operator page's " + name + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
