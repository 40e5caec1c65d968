package dev.sentinel.core.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How policies are loaded: which {@link ConditionLanguage}s their rules may use. Passed
 * explicitly to {@link PolicyEngine#load(java.nio.file.Path, PolicyOptions)} and
 * {@link dev.sentinel.core.config.GatewayConfig#load(java.nio.file.Path, Map, PolicyOptions)};
 * {@link #defaults()} has no languages, so a policy with {@code when_cel} loaded with it is a
 * located error that names the module providing CEL.
 *
 * <pre>{@code
 * PolicyOptions options = PolicyOptions.builder().language(CelConditionLanguage.create()).build();
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class PolicyOptions {
  private static final Pattern KEY = Pattern.compile("when_[a-z][a-z0-9_]*");
  private static final PolicyOptions DEFAULTS = new PolicyOptions(Map.of());

  private final Map<String, ConditionLanguage> languages;

  private PolicyOptions(Map<String, ConditionLanguage> languages) {
    this.languages = languages;
  }

  /** No condition languages: {@code when} conditions only. */
  public static PolicyOptions defaults() {
    return DEFAULTS;
  }

  /** A builder, starting with no condition languages. */
  public static Builder builder() {
    return new Builder();
  }

  /** The registered languages, in the order they were added. */
  public List<ConditionLanguage> languages() {
    return List.copyOf(languages.values());
  }

  /** The language registered for a key such as {@code when_cel}, if any. */
  public Optional<ConditionLanguage> language(String key) {
    return Optional.ofNullable(languages.get(key));
  }

  /** The keys of the registered languages, in the order they were added. */
  List<String> keys() {
    return new ArrayList<>(languages.keySet());
  }

  @Override
  public String toString() {
    return "PolicyOptions" + languages.keySet();
  }

  /** Builds {@link PolicyOptions}; each value is checked as it is set. Not thread-safe. */
  public static final class Builder {
    private final Map<String, ConditionLanguage> languages = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Registers a condition language under its {@link ConditionLanguage#key() key}.
     *
     * @throws IllegalArgumentException if the key is not {@code when_} followed by lower-case
     *     letters, digits or {@code _}, or another language has it already
     */
    public Builder language(ConditionLanguage language) {
      Objects.requireNonNull(language, "language");
      String key = Objects.requireNonNull(language.key(), "language.key()");
      if (!KEY.matcher(key).matches()) {
        throw new IllegalArgumentException("condition language key '" + key + "' must be "
            + "when_ followed by lower-case letters, digits or _, such as when_cel");
      }
      if (languages.containsKey(key)) {
        throw new IllegalArgumentException("condition language key '" + key
            + "' is registered twice (" + languages.get(key) + " and " + language + ")");
      }
      languages.put(key, language);
      return this;
    }

    /** The options. */
    public PolicyOptions build() {
      return languages.isEmpty() ? DEFAULTS
          : new PolicyOptions(Collections.unmodifiableMap(new LinkedHashMap<>(languages)));
    }
  }
}
