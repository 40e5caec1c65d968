package dev.sentinel.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Who is calling: an id, the roles granted directly, and attributes such as JWT claims.
 *
 * <p>Roles here are the directly granted ones; a policy expands them through its role
 * inheritance. Attribute values are lists because claims such as {@code groups} are
 * multi-valued; a single value is a list of one.
 *
 * @param id a non-blank, stable identifier (a user id, a key's owner, a token subject)
 * @param roles the roles granted directly
 * @param attributes named attributes (claims), each with one or more values
 */
public record Principal(String id, Set<String> roles, Map<String, List<String>> attributes) {

  /** The principal of calls that carried no credentials; policies can match it like any other. */
  public static final Principal ANONYMOUS = new Principal("anonymous", Set.of(), Map.of());

  /** Validates and copies. */
  public Principal {
    Objects.requireNonNull(id, "id");
    if (id.isBlank()) {
      throw new IllegalArgumentException("principal id must not be blank");
    }
    roles = Set.copyOf(roles);
    Map<String, List<String>> copy = new java.util.HashMap<>();
    attributes.forEach((name, values) -> copy.put(name, List.copyOf(values)));
    attributes = Map.copyOf(copy);
  }

  /** A principal with roles and no attributes. */
  public static Principal of(String id, String... roles) {
    return new Principal(id, Set.of(roles), Map.of());
  }

  /** The first value of an attribute, or {@code null}. */
  public @Nullable String attribute(String name) {
    List<String> values = attributes.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }
}
