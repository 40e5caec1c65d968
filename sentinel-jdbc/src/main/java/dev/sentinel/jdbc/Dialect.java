package dev.sentinel.jdbc;

import org.jspecify.annotations.Nullable;

/** The database products Sentinel stores its state in. */
public enum Dialect {
  /** SQLite, through {@code jdbc:sqlite:<path>}: one file, one machine. */
  SQLITE("sqlite"),
  /** PostgreSQL, through {@code jdbc:postgresql://host:port/database}: shared by replicas. */
  POSTGRESQL("postgresql");

  private final String directory;

  Dialect(String directory) {
    this.directory = directory;
  }

  /** The resource folder holding this dialect's migrations, under {@code db/}. */
  String directory() {
    return directory;
  }

  /** The dialect a JDBC URL names, or {@code null} if it names neither. */
  static @Nullable Dialect of(String jdbcUrl) {
    if (jdbcUrl.startsWith("jdbc:sqlite:")) {
      return SQLITE;
    }
    if (jdbcUrl.startsWith("jdbc:postgresql:")) {
      return POSTGRESQL;
    }
    return null;
  }
}
