package dev.sentinel.mcpsdk;

import dev.sentinel.api.Credentials;
import dev.sentinel.api.Principal;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Who is calling, as the application determined it from a request's transport context: either a
 * principal the application authenticated itself, or credentials for the pipeline's {@link
 * dev.sentinel.api.Authenticator} to verify (an API key or a bearer token from an HTTP header).
 *
 * @param principal the principal the application vouches for, or {@code null}
 * @param credentials what the caller presented, or {@code null}; exactly one of the two is set
 */
public record Caller(@Nullable Principal principal, @Nullable Credentials credentials) {

  /** Validates that exactly one of the two is set. */
  public Caller {
    if ((principal == null) == (credentials == null)) {
      throw new IllegalArgumentException("a caller is either a principal or credentials, exactly one");
    }
  }

  /**
   * A caller the application authenticated already (the pipeline takes it as is, as with {@link
   * dev.sentinel.core.Call#as}).
   */
  public static Caller of(Principal principal) {
    return new Caller(Objects.requireNonNull(principal, "principal"), null);
  }

  /** A caller the pipeline authenticates by the credentials it presented. */
  public static Caller presenting(Credentials credentials) {
    return new Caller(null, Objects.requireNonNull(credentials, "credentials"));
  }
}
