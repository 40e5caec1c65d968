package dev.sentinel.jdbc;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** Break-glass windows and enrolments on SQLite. */
class SqliteBreakGlassStoreTest extends JdbcBreakGlassStoreContract {
  @TempDir Path dir;

  @Override
  protected Database openDatabase() {
    return Database.builder("jdbc:sqlite:" + dir.resolve("sentinel.db")).clock(clock).open();
  }
}
