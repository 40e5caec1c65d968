package dev.sentinel.core.config;

import dev.sentinel.api.AuditSink;
import dev.sentinel.api.KeyStore;
import java.util.Optional;

/** The stores of {@link Stores#none()}: no database. */
enum NoStores implements Stores {
  INSTANCE;

  @Override
  public Optional<AuditSink> auditSink() {
    return Optional.empty();
  }

  @Override
  public Optional<KeyStore> keyStore() {
    return Optional.empty();
  }

  @Override
  public String description() {
    return "no database";
  }

  @Override
  public void close() {}
}
