package dev.sentinel.core.auth;

import dev.sentinel.api.AuthenticationResult;
import dev.sentinel.api.Authenticator;
import dev.sentinel.api.Clock;
import dev.sentinel.api.Credentials;
import dev.sentinel.api.KeyStore;
import dev.sentinel.api.Principal;
import dev.sentinel.api.StoredKey;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Issues, rotates, revokes and verifies Sentinel API keys: the one front door to a
 * {@link KeyStore}.
 *
 * <p>A key reads {@code snk_<id>_<secret>}: the prefix {@code snk_} so that keys are
 * recognisable (by people and by secret scanners), a public id of 12 lowercase base32 characters
 * (60 random bits) used to find the stored record, and a secret of 32 random bytes (256 bits) in
 * 43 base62 characters, so that a double-click selects the whole key.
 *
 * <p>Only the hex SHA-256 of the secret's text is stored. A plain hash rather than a password
 * KDF (bcrypt, Argon2) is deliberate: the secret is 256 random bits, not a guessable password,
 * so brute force is hopeless without stretching, and verification stays in microseconds on every
 * request. Hashes are compared in constant time, and an unknown id is answered only after hashing
 * and comparing against a dummy, so timing shows neither the secret nor which ids exist.
 *
 * <p>Thread-safe, given a thread-safe store.
 */
public final class ApiKeys {
  /** The prefix every key starts with. */
  static final String PREFIX = "snk_";

  private static final int ID_LENGTH = 12;
  private static final int SECRET_BYTES = 32;
  private static final int SECRET_LENGTH = 43;
  private static final int KEY_LENGTH = PREFIX.length() + ID_LENGTH + 1 + SECRET_LENGTH;
  private static final int SECRET_START = PREFIX.length() + ID_LENGTH + 1;
  private static final String BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
  private static final String BASE62 =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  private static final BigInteger SIXTY_TWO = BigInteger.valueOf(62);
  private static final int MAX_ID_ATTEMPTS = 5;

  /** The attribute naming the key a principal authenticated with. */
  static final String KEY_ID_ATTRIBUTE = "key_id";

  private static final AuthenticationResult NOT_A_KEY = AuthenticationResult.failure("not an API key");
  private static final AuthenticationResult MALFORMED = AuthenticationResult.failure("malformed key");
  private static final MessageDigest SHA_256 = sha256();

  private final KeyStore store;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final byte[] dummyHash = new byte[32];
  private final Authenticator authenticator = this::authenticate;

  private ApiKeys(KeyStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    random.nextBytes(dummyHash);
  }

  /**
   * Keys kept in the given store, timed by the given clock (for creation, expiry and last use).
   */
  public static ApiKeys create(KeyStore store, Clock clock) {
    return new ApiKeys(Objects.requireNonNull(store, "store"), Objects.requireNonNull(clock, "clock"));
  }

  /**
   * Issues a new key. The returned {@link IssuedKey#secret()} is the only copy of the key text:
   * hand it to its owner, it cannot be shown again.
   *
   * @param principal the principal id the key authenticates as; not blank
   * @param roles the roles the key grants
   * @param name a human label, or {@code null}
   * @param expires when the key stops working, or {@code null} for never; must be in the future
   * @throws IllegalArgumentException if an argument is invalid
   */
  public IssuedKey issue(String principal, Set<String> roles, @Nullable String name,
      @Nullable Instant expires) {
    Objects.requireNonNull(principal, "principal");
    if (principal.isBlank()) {
      throw new IllegalArgumentException("API key principal must not be blank");
    }
    Set<String> granted = Set.copyOf(Objects.requireNonNull(roles, "roles"));
    Instant now = clock.instant();
    if (expires != null && !expires.isAfter(now)) {
      throw new IllegalArgumentException("API key expiry " + expires + " must be after now (" + now + ")");
    }
    IllegalArgumentException lastDuplicate = null;
    for (int attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
      String id = randomId();
      if (store.find(id).isPresent()) {
        continue;
      }
      String secret = randomSecret();
      // StoredKey keeps a missing name as empty.
      StoredKey key = new StoredKey(id, hashHex(secret), principal, granted,
          name == null ? "" : name, now, expires, null, null);
      try {
        store.insert(key);
        return new IssuedKey(PREFIX + id + '_' + secret, key);
      } catch (IllegalArgumentException duplicate) {
        // Another issuer took the id between find and insert: draw again.
        lastDuplicate = duplicate;
      }
    }
    throw new IllegalStateException(
        "could not find a free API key id in " + MAX_ID_ATTEMPTS + " attempts", lastDuplicate);
  }

  /**
   * Replaces a key: issues a new one with the same principal, roles and name, then revokes the
   * old one.
   *
   * @param id the id of the key to replace
   * @param expires when the new key stops working, or {@code null} for never
   * @return the new key
   * @throws IllegalArgumentException if there is no key with that id
   * @throws IllegalStateException if the key is revoked (rotation must not revive it)
   */
  public IssuedKey rotate(String id, @Nullable Instant expires) {
    StoredKey old =
        store.find(id).orElseThrow(() -> new IllegalArgumentException("no API key with id '" + id + "'"));
    if (old.revoked() != null) {
      throw new IllegalStateException("API key '" + id + "' is revoked; issue a new key instead");
    }
    IssuedKey fresh = issue(old.principal(), old.roles(), old.name(), expires);
    store.revoke(id, clock.instant());
    return fresh;
  }

  /** Revokes a key at once; answers whether a key with that id existed and was active (not revoked or expired). */
  public boolean revoke(String id) {
    return store.revoke(id, clock.instant());
  }

  /** Every stored key, oldest first; the records hold hashes, never secrets. */
  public List<StoredKey> list() {
    return store.list();
  }

  /**
   * An authenticator for these keys. It accepts {@link Credentials.Type#API_KEY} credentials and
   * {@link Credentials.Type#BEARER} tokens that start with the key prefix; anything else is
   * refused as "not an API key", so it can sit in {@link Authenticator#firstOf} before a JWT
   * authenticator. On success the principal has the key's principal id and roles and the
   * attribute {@code key_id}. Refusal reasons name the key id, never the secret.
   */
  public Authenticator authenticator() {
    return authenticator;
  }

  /**
   * Whether the text has the shape of a Sentinel API key: the prefix, a base32 id, {@code _}, and
   * a base62 secret of the right lengths. Cheap: it rejects other lengths first.
   */
  public static boolean looksLikeKey(String text) {
    if (text == null || text.length() != KEY_LENGTH || !text.startsWith(PREFIX)) {
      return false;
    }
    for (int i = PREFIX.length(); i < SECRET_START - 1; i++) {
      if (BASE32.indexOf(text.charAt(i)) < 0) {
        return false;
      }
    }
    if (text.charAt(SECRET_START - 1) != '_') {
      return false;
    }
    for (int i = SECRET_START; i < KEY_LENGTH; i++) {
      char c = text.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
        return false;
      }
    }
    return true;
  }

  /** The id of a text for which {@link #looksLikeKey} holds. */
  static String idOf(String key) {
    return key.substring(PREFIX.length(), PREFIX.length() + ID_LENGTH);
  }

  private AuthenticationResult authenticate(Credentials credentials) {
    if (credentials == null) {
      return NOT_A_KEY;
    }
    String text = credentials.secret();
    if (credentials.type() == Credentials.Type.BEARER) {
      if (!text.startsWith(PREFIX)) {
        return NOT_A_KEY;
      }
    } else if (credentials.type() != Credentials.Type.API_KEY) {
      return NOT_A_KEY;
    }
    if (!looksLikeKey(text)) {
      return MALFORMED;
    }
    String id = idOf(text);
    byte[] presented = hash(text.substring(SECRET_START));
    try {
      Optional<StoredKey> found = store.find(id);
      StoredKey key = found.orElse(null);
      byte[] expected = key == null ? dummyHash : parseHash(key.hash());
      // Compared even for unknown ids, so that the answer takes as long either way.
      boolean matches = MessageDigest.isEqual(presented, expected);
      if (key == null) {
        return AuthenticationResult.failure("unknown key " + id);
      }
      if (!matches) {
        return AuthenticationResult.failure("wrong secret for key " + id);
      }
      Instant now = clock.instant();
      if (key.revoked() != null) {
        return AuthenticationResult.failure("revoked key " + id);
      }
      if (!key.activeAt(now)) {
        return AuthenticationResult.failure("expired key " + id);
      }
      touch(id, now);
      return AuthenticationResult.success(
          new Principal(key.principal(), key.roles(), Map.of(KEY_ID_ATTRIBUTE, List.of(id))));
    } catch (RuntimeException e) {
      // Fail closed; the message is ours, so it cannot echo the secret.
      return AuthenticationResult.failure(
          "key " + id + " could not be verified: " + e.getClass().getSimpleName());
    }
  }

  private void touch(String id, Instant now) {
    try {
      store.touch(id, now);
    } catch (RuntimeException e) {
      // Last use is bookkeeping: failing to record it must not refuse a valid key.
    }
  }

  private byte[] parseHash(String hex) {
    try {
      return HexFormat.of().parseHex(hex);
    } catch (IllegalArgumentException e) {
      return dummyHash;
    }
  }

  private String randomId() {
    long bits = random.nextLong();
    char[] id = new char[ID_LENGTH];
    for (int i = 0; i < ID_LENGTH; i++) {
      id[i] = BASE32.charAt((int) (bits & 31));
      bits >>>= 5;
    }
    return new String(id);
  }

  private String randomSecret() {
    byte[] bytes = new byte[SECRET_BYTES];
    random.nextBytes(bytes);
    BigInteger value = new BigInteger(1, bytes);
    char[] out = new char[SECRET_LENGTH];
    for (int i = SECRET_LENGTH - 1; i >= 0; i--) {
      BigInteger[] division = value.divideAndRemainder(SIXTY_TWO);
      out[i] = BASE62.charAt(division[1].intValue());
      value = division[0];
    }
    return new String(out);
  }

  static String hashHex(String secret) {
    return HexFormat.of().formatHex(hash(secret));
  }

  private static byte[] hash(String secret) {
    return digest().digest(secret.getBytes(StandardCharsets.US_ASCII));
  }

  private static MessageDigest digest() {
    try {
      // Cloning a prototype skips the provider lookup of getInstance on every request.
      return (MessageDigest) SHA_256.clone();
    } catch (CloneNotSupportedException e) {
      return sha256();
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }
}
