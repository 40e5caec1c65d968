package dev.sentinel.jdbc;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The JDBC key store contract on a real SQLite file. */
class SqliteKeyStoreTest extends JdbcKeyStoreContract {
  @TempDir Path dir;

  @Override
  protected Database openDatabase() {
    return Database.builder("jdbc:sqlite:" + dir.resolve("sentinel.db")).clock(clock).open();
  }
}
