package dev.sentinel.api;

import java.util.Objects;

/**
 * What a caller presented to prove who it is. The secret never appears in {@link #toString()}.
 *
 * @param type how the secret was presented
 * @param secret the key or token; empty for {@link Type#NONE} and {@link Type#LAUNCH}
 */
public record Credentials(Type type, String secret) {

  /** How a secret was presented. */
  public enum Type {
    /** Nothing was presented. */
    NONE,
    /** A Sentinel API key ({@code X-API-Key}, or a bearer value with the key prefix). */
    API_KEY,
    /** A bearer token such as a JWT. */
    BEARER,
    /** The identity of the process that launched a stdio gateway. */
    LAUNCH
  }

  private static final Credentials NONE = new Credentials(Type.NONE, "");
  private static final Credentials LAUNCH = new Credentials(Type.LAUNCH, "");

  /** Validates. */
  public Credentials {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(secret, "secret");
  }

  /** No credentials. */
  public static Credentials none() {
    return NONE;
  }

  /** The launch identity of a stdio gateway. */
  public static Credentials launch() {
    return LAUNCH;
  }

  /** An API key. */
  public static Credentials apiKey(String key) {
    return new Credentials(Type.API_KEY, key);
  }

  /** A bearer token. */
  public static Credentials bearer(String token) {
    return new Credentials(Type.BEARER, token);
  }

  @Override
  public String toString() {
    return "Credentials[" + type + (secret.isEmpty() ? "" : ", secret=<redacted>") + "]";
  }
}
