package dev.sentinel.core.llm;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A model name clients may ask for, mapped to an upstream model: by the caller's roles (the first
 * of the principal's roles, in the order the principal holds them, that has an entry), else to
 * the fallback.
 *
 * @param name the alias, such as {@code default}
 * @param byRole the model for each role that has its own
 * @param fallback the model for every other caller, or {@code null}: then a caller with none of
 *     the roles is refused as asking for an unknown model
 */
public record ModelAlias(String name, Map<String, String> byRole, String fallback) {

  /** Validates and copies. */
  public ModelAlias {
    Objects.requireNonNull(name, "name");
    byRole = Map.copyOf(byRole);
    if (byRole.isEmpty() && fallback == null) {
      throw new IllegalArgumentException("alias '" + name + "' maps to no model");
    }
  }

  /** An alias that maps every caller to one model. */
  public static ModelAlias of(String name, String model) {
    return new ModelAlias(name, Map.of(), Objects.requireNonNull(model, "model"));
  }

  /** The model for a caller holding these roles (in order), or {@code null} when none applies. */
  public String resolve(List<String> roles) {
    for (String role : roles) {
      String model = byRole.get(role);
      if (model != null) {
        return model;
      }
    }
    return fallback;
  }
}
