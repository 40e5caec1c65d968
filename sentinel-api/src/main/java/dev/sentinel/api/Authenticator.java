package dev.sentinel.api;

import java.util.List;
import java.util.Objects;

/**
 * Turns credentials into a {@link Principal} or a refusal.
 *
 * <p>Implementations must be thread-safe. An authenticator that throws is treated as a refusal
 * (deciders fail closed).
 */
@FunctionalInterface
public interface Authenticator {

  /** Authenticates the credentials; never returns {@code null}. */
  AuthenticationResult authenticate(Credentials credentials);

  /**
   * An authenticator that accepts only {@link Credentials#launch()} and answers with a fixed
   * principal: the identity of a stdio gateway's user, fixed when it was launched.
   */
  static Authenticator fixed(Principal principal) {
    Objects.requireNonNull(principal, "principal");
    AuthenticationResult success = AuthenticationResult.success(principal);
    AuthenticationResult failure = AuthenticationResult.failure("only the launch identity is accepted");
    return credentials -> credentials.type() == Credentials.Type.LAUNCH ? success : failure;
  }

  /**
   * An authenticator that accepts only {@link Credentials#none()} and answers with a fixed
   * principal: opt-in access without credentials, such as a loopback-only development gateway.
   * Combined with others by {@link #firstOf}, a request that presents wrong credentials is still
   * refused: it never falls back to this principal.
   */
  static Authenticator anonymous(Principal principal) {
    Objects.requireNonNull(principal, "principal");
    AuthenticationResult success = AuthenticationResult.success(principal);
    AuthenticationResult failure = AuthenticationResult.failure("credentials were presented");
    return credentials -> credentials.type() == Credentials.Type.NONE ? success : failure;
  }

  /**
   * Tries each authenticator in turn and answers with the first success; if all refuse, the
   * refusal reasons are joined.
   */
  static Authenticator firstOf(List<Authenticator> authenticators) {
    List<Authenticator> chain = List.copyOf(authenticators);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("at least one authenticator is required");
    }
    return credentials -> {
      StringBuilder reasons = new StringBuilder();
      for (Authenticator authenticator : chain) {
        AuthenticationResult result = authenticator.authenticate(credentials);
        if (result.authenticated()) {
          return result;
        }
        reasons.append(reasons.length() == 0 ? "" : "; ").append(result.reason());
      }
      return AuthenticationResult.failure(reasons.toString());
    };
  }
}
