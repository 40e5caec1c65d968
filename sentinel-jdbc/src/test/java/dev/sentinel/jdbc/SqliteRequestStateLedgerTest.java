package dev.sentinel.jdbc;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/** The request state ledger on SQLite. */
class SqliteRequestStateLedgerTest extends JdbcRequestStateLedgerContract {
  @TempDir Path dir;
  private final AtomicInteger files = new AtomicInteger();

  @Override
  protected String newUrl() {
    return "jdbc:sqlite:" + dir.resolve("sentinel-" + files.incrementAndGet() + ".db");
  }
}
