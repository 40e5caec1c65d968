package dev.sentinel.mcp.gateway;

import dev.sentinel.api.AuditSink;
import dev.sentinel.api.KeyStore;
import dev.sentinel.core.auth.InMemoryKeyStore;
import dev.sentinel.core.config.Stores;
import dev.sentinel.core.testing.RecordingSink;
import java.util.Optional;

/** Stores whose database audit sink is a recording sink, and whose keys live in memory. */
final class MemoryStores implements Stores {
  final RecordingSink sink = new RecordingSink();

  @Override
  public Optional<AuditSink> auditSink() {
    return Optional.of(sink);
  }

  @Override
  public Optional<KeyStore> keyStore() {
    return Optional.of(InMemoryKeyStore.create());
  }

  @Override
  public String description() {
    return "memory";
  }

  @Override
  public void close() {}
}
