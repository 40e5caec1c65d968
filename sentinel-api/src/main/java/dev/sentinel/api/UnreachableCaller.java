package dev.sentinel.api;

import java.time.Duration;

/** {@link Caller#unreachable()}. */
enum UnreachableCaller implements Caller {
  INSTANCE;

  @Override
  public boolean askable() {
    return false;
  }

  @Override
  public Answer confirm(String question, String binding, Duration timeout) {
    return Answer.UNREACHABLE;
  }

  @Override
  public void waiting(Duration waited, String message) {}
}
