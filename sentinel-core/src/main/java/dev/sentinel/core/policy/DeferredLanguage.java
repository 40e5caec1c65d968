package dev.sentinel.core.policy;

import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** {@link ConditionLanguage#deferred}: a language made on its first compile. Thread-safe. */
final class DeferredLanguage implements ConditionLanguage {
  private final String key;
  private final Supplier<? extends ConditionLanguage> factory;
  private volatile @Nullable ConditionLanguage made;

  DeferredLanguage(String key, Supplier<? extends ConditionLanguage> factory) {
    this.key = Objects.requireNonNull(key, "key");
    this.factory = Objects.requireNonNull(factory, "factory");
  }

  @Override
  public String key() {
    return key;
  }

  @Override
  public Expression compile(String expression) {
    return language().compile(expression);
  }

  private ConditionLanguage language() {
    ConditionLanguage language = made;
    if (language != null) {
      return language;
    }
    synchronized (this) {
      language = made;
      if (language == null) {
        language = Objects.requireNonNull(factory.get(), "the factory made no language");
        if (!key.equals(language.key())) {
          throw new IllegalStateException("the language made for " + key + " has the key "
              + language.key());
        }
        made = language;
      }
      return language;
    }
  }

  @Override
  public String toString() {
    ConditionLanguage language = made;
    return language == null ? key + " (not made yet)" : language.toString();
  }
}
