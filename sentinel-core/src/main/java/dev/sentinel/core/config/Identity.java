package dev.sentinel.core.config;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The {@code identity:} section: who the user of a stdio gateway is. Either a fixed principal
 * (the person who launched the gateway, as the config says) or an API key that is authenticated
 * against the key store, like any other caller's. Exactly one of the two is set. Without the
 * section, calls run as {@link Principal#ANONYMOUS}.
 *
 * <p>The HTTP runner authenticates each request instead and ignores this section.
 *
 * <p>Immutable. {@link #toString()} never shows the key.
 *
 * @param principal the fixed principal, or {@code null} when an API key is used
 * @param apiKey the API key, or {@code null} when a fixed principal is used
 */
public record Identity(@Nullable Principal principal, @Nullable String apiKey) {

  /** The identity used when the config has none: the anonymous principal. */
  public static final Identity ANONYMOUS = new Identity(Principal.ANONYMOUS, null);

  /** Validates. */
  public Identity {
    if ((principal == null) == (apiKey == null)) {
      throw new IllegalArgumentException("identity needs exactly one of principal and api_key");
    }
    if (apiKey != null && apiKey.isBlank()) {
      throw new IllegalArgumentException("api_key must not be blank");
    }
  }

  /** A fixed principal. */
  public static Identity of(Principal principal) {
    return new Identity(Objects.requireNonNull(principal, "principal"), null);
  }

  /** An API key, to authenticate with the key store. */
  public static Identity ofApiKey(String apiKey) {
    return new Identity(null, Objects.requireNonNull(apiKey, "apiKey"));
  }

  /** The fixed principal, if this identity is one. */
  public Optional<Principal> fixedPrincipal() {
    return Optional.ofNullable(principal);
  }

  /**
   * The credentials to present for each call: {@link Credentials#apiKey} for a key,
   * {@link Credentials#launch()} for a fixed principal.
   */
  public Credentials credentials() {
    return apiKey != null ? Credentials.apiKey(apiKey) : Credentials.launch();
  }

  @Override
  public String toString() {
    Principal fixed = principal; // exactly one of principal and apiKey is set
    return fixed == null
        ? "Identity[api_key=<redacted>]"
        : "Identity[principal=" + fixed.id() + ", roles=" + fixed.roles() + "]";
  }
}
