package dev.sentinel.jdbc;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The pin store on SQLite. */
class SqlitePinStoreTest extends JdbcPinStoreContract {
  @TempDir Path dir;

  @Override
  protected Database openDatabase() {
    return Database.builder("jdbc:sqlite:" + dir.resolve("sentinel.db")).clock(clock).open();
  }
}
