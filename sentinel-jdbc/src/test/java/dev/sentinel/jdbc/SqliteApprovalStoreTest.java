package dev.sentinel.jdbc;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The approval queue on SQLite. */
class SqliteApprovalStoreTest extends JdbcApprovalStoreContract {
  @TempDir Path dir;

  @Override
  protected Database openDatabase() {
    return Database.builder("jdbc:sqlite:" + dir.resolve("sentinel.db")).clock(clock).open();
  }
}
