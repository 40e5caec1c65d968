package dev.sentinel.jdbc;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The bundle store on SQLite. */
class SqliteBundleStoreTest extends JdbcBundleStoreContract {
  @TempDir Path dir;

  @Override
  protected Database openDatabase() {
    return Database.builder("jdbc:sqlite:" + dir.resolve("sentinel.db")).clock(clock).open();
  }
}
