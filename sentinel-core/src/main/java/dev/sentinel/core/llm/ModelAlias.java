package dev.sentinel.core.llm;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A model name clients may ask for, mapped to an upstream model: by the caller's roles (the
 * first entry of {@code byRole}, in the order written, whose role the caller holds directly),
 * else to the fallback.
 *
 * @param name the alias, such as {@code default}
 * @param byRole the model for each role that has its own, in the order written
 * @param fallback the model for every other caller, or {@code null}: then a caller with none of
 *     the roles is refused as asking for an unknown model
 */
public record ModelAlias(String name, Map<String, String> byRole, @Nullable String fallback) {

  /** Validates and copies. */
  public ModelAlias {
    Objects.requireNonNull(name, "name");
    byRole = Collections.unmodifiableMap(new LinkedHashMap<>(byRole));
    if (byRole.isEmpty() && fallback == null) {
      throw new IllegalArgumentException("alias '" + name + "' maps to no model");
    }
  }

  /** An alias that maps every caller to one model. */
  public static ModelAlias of(String name, String model) {
    return new ModelAlias(name, Map.of(), Objects.requireNonNull(model, "model"));
  }

  /** The model for a caller holding these roles, or {@code null} when none applies. */
  public @Nullable String resolve(Collection<String> roles) {
    for (Map.Entry<String, String> entry : byRole.entrySet()) {
      if (roles.contains(entry.getKey())) {
        return entry.getValue();
      }
    }
    return fallback;
  }
}
