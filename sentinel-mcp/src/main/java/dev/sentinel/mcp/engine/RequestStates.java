package dev.sentinel.mcp.engine;

import dev.sentinel.api.Clock;
import dev.sentinel.core.state.RequestStateLedger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code requestState} of the gateway's own {@code input_required} results (MCP 2026-07-28
 * multi round-trip requests): a token the client sends back unchanged with its answer, which
 * says which call the answer is for and until when, signed so that the client cannot alter it.
 *
 * <p>A token is {@code sentinel1.<payload>.<mac>} (base64url without padding): the payload is
 * the call's binding (a digest of the principal, the request and the policy revision), the
 * expiry in epoch milliseconds and a random nonce; the MAC is HMAC-SHA256 over the payload. A
 * token is redeemed at most once in this gateway: the nonces of redeemed tokens are kept until
 * they expire, at most {@value #MAX_REDEEMED} of them (when full, a redemption is refused rather
 * than remembered loosely). Gateways that share the key (derived from {@code audit.digest_key},
 * or kept in their database) accept each other's tokens; with a shared {@link
 * RequestStateLedger} a token is redeemed once on any of them, else each remembers only its own
 * redemptions. Thread-safe.
 */
final class RequestStates {
  private static final Logger log = LoggerFactory.getLogger(RequestStates.class);
  static final String PREFIX = "sentinel1.";
  /**
   * The prefix of a relayed state: one that carries an MCP 2026-07-28 backend's own {@code
   * requestState} and which questions were asked, for the client's retry ({@link #wrap}).
   */
  static final String RELAY_PREFIX = "sentinel1r.";
  /** The longest backend {@code requestState} a relayed state carries. */
  static final int MAX_RELAYED_BYTES = 32 * 1024;
  static final int MAX_REDEEMED = 100_000;
  /** The longest token accepted, far above any real one: no MAC is computed over a flood. */
  private static final int MAX_LENGTH = 1_024;
  /** The longest relayed state accepted: its payload carries the backend's state. */
  private static final int MAX_RELAY_LENGTH = 64 * 1024;
  private static final Base64.Encoder ENCODE = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODE = Base64.getUrlDecoder();

  /** Whether a token holds for a call. */
  enum Check {
    /** Signed here, for this call, in time, and not redeemed before: now redeemed. */
    REDEEMED,
    /** Not a token of this key, altered, or for another call. */
    FOREIGN,
    /** Past its expiry. */
    EXPIRED,
    /** Redeemed before (or too many redemptions to remember another). */
    USED,
    /** Not accepted: the shared store of redemptions could not be written (fail closed). */
    UNVERIFIABLE
  }

  /** A relayed state opened for a call: whether it holds, and what it carries when it does. */
  record Opened(Check check, @Nullable String data) {}

  private final SecretKeySpec key;
  private final Clock clock;
  private final @Nullable RequestStateLedger ledger;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Long> redeemed = new ConcurrentHashMap<>();

  RequestStates(byte[] key, Clock clock) {
    this(key, clock, null);
  }

  /**
   * @param ledger where redemptions are recorded for every gateway that shares it (a state is
   *     then accepted once on any of them), or {@code null} for this gateway's memory
   */
  RequestStates(byte[] key, Clock clock, @Nullable RequestStateLedger ledger) {
    if (key.length < 32) {
      throw new IllegalArgumentException("the request state key must have at least 32 bytes");
    }
    this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.ledger = ledger;
  }

  /** States signed with a random key of this process. */
  static RequestStates random(Clock clock) {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return new RequestStates(key, clock);
  }

  /** A token for the call with {@code binding}, good for {@code life}. */
  String issue(String binding, Duration life) {
    return issue(binding, life, nonce());
  }

  /**
   * A token for the call with {@code binding}, good for {@code life}, under a {@code nonce} of
   * the caller's ({@link #nonce()}): what it names, the caller finds again by {@link #nonceOf}.
   * A nonce is redeemed once: each token needs a fresh one.
   */
  String issue(String binding, Duration life, String nonce) {
    String payload = binding + "\n" + clock.instant().plus(life).toEpochMilli() + "\n" + nonce;
    byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
    return PREFIX + ENCODE.encodeToString(bytes) + "." + ENCODE.encodeToString(mac(bytes));
  }

  /**
   * A relayed state for the call with {@code binding}, good for {@code life}, carrying {@code
   * data} (signed, not encrypted: the client sees it, as it saw the backend's own state).
   */
  String wrap(String binding, Duration life, String data) {
    String payload = binding + "\n" + clock.instant().plus(life).toEpochMilli() + "\n" + nonce() + "\n"
        + ENCODE.encodeToString(data.getBytes(StandardCharsets.UTF_8));
    byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
    return RELAY_PREFIX + ENCODE.encodeToString(bytes) + "." + ENCODE.encodeToString(mac(bytes));
  }

  /** Whether a client's {@code requestState} has the form of a relayed state (says nothing of whether it holds). */
  static boolean relayed(tools.jackson.databind.@Nullable JsonNode state) {
    return state != null && state.isString() && state.stringValue().startsWith(RELAY_PREFIX);
  }

  /**
   * Opens a relayed state sent back for the call with {@code binding}: with {@code redeem}, it is
   * redeemed if it holds (each is accepted once, as the gateway's own states are).
   */
  Opened open(@Nullable String token, String binding, boolean redeem) {
    String[] parts = payload(token, RELAY_PREFIX, 4, MAX_RELAY_LENGTH);
    if (parts == null || !parts[0].equals(binding)) {
      return new Opened(Check.FOREIGN, null);
    }
    Check check = judge(parts, redeem);
    if (check != Check.REDEEMED) {
      return new Opened(check, null);
    }
    try {
      return new Opened(check, new String(DECODE.decode(parts[3]), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      return new Opened(Check.FOREIGN, null);
    }
  }

  /** A fresh random nonce (16 bytes, base64url). */
  String nonce() {
    byte[] nonce = new byte[16];
    random.nextBytes(nonce);
    return ENCODE.encodeToString(nonce);
  }

  /**
   * The nonce of a token signed with this key, or {@code null} for anything else; says nothing
   * of whether it holds for a call (see {@link #check}).
   */
  @Nullable String nonceOf(@Nullable String token) {
    String[] parts = payload(token);
    return parts == null ? null : parts[2];
  }

  /** Checks a token sent back for the call with {@code binding}, and redeems it if it holds. */
  Check redeem(@Nullable String token, String binding) {
    return check(token, binding, true);
  }

  /**
   * Checks a token sent back for the call with {@code binding}; with {@code redeem}, redeems it
   * if it holds ({@link Check#REDEEMED}), else only says whether it would be.
   */
  Check check(@Nullable String token, String binding, boolean redeem) {
    String[] parts = payload(token);
    if (parts == null || !parts[0].equals(binding)) {
      return Check.FOREIGN;
    }
    return judge(parts, redeem);
  }

  /** Whether a token signed here (its binding already matched) is in time and unused; redeems it if asked. */
  private Check judge(String[] parts, boolean redeem) {
    long expires;
    try {
      expires = Long.parseLong(parts[1]);
    } catch (NumberFormatException e) {
      return Check.FOREIGN;
    }
    long now = clock.instant().toEpochMilli();
    if (now > expires) {
      return Check.EXPIRED;
    }
    if (!redeem) {
      return redeemed.containsKey(parts[2]) ? Check.USED : Check.REDEEMED;
    }
    RequestStateLedger shared = ledger;
    if (shared != null) {
      return redeemShared(shared, parts[2], expires);
    }
    if (redeemed.size() >= MAX_REDEEMED) {
      redeemed.values().removeIf(expiry -> expiry < now);
      if (redeemed.size() >= MAX_REDEEMED) {
        return Check.USED;
      }
    }
    return redeemed.putIfAbsent(parts[2], expires) == null ? Check.REDEEMED : Check.USED;
  }

  /** A redemption recorded in the shared ledger, and remembered here too (for {@link #check} without redeeming). */
  private Check redeemShared(RequestStateLedger ledger, String nonce, long expires) {
    boolean first;
    try {
      first = ledger.redeem(nonce, java.time.Instant.ofEpochMilli(expires));
    } catch (RuntimeException e) {
      log.warn("a request state could not be redeemed in the shared store, so it is not accepted: {}", e.toString());
      return Check.UNVERIFIABLE;
    }
    if (redeemed.size() < MAX_REDEEMED) {
      redeemed.put(nonce, expires);
    }
    return first ? Check.REDEEMED : Check.USED;
  }

  /** A token's binding, expiry and nonce, if this key signed it; else {@code null}. */
  private String @Nullable [] payload(@Nullable String token) {
    return payload(token, PREFIX, 3, MAX_LENGTH);
  }

  /** The {@code count} parts of a token under {@code prefix}, if this key signed it; else {@code null}. */
  private String @Nullable [] payload(@Nullable String token, String prefix, int count, int maxLength) {
    if (token == null || token.length() > maxLength || !token.startsWith(prefix)) {
      return null;
    }
    String rest = token.substring(prefix.length());
    int dot = rest.indexOf('.');
    if (dot < 0 || rest.indexOf('.', dot + 1) >= 0) {
      return null;
    }
    byte[] payload;
    byte[] mac;
    try {
      payload = DECODE.decode(rest.substring(0, dot));
      mac = DECODE.decode(rest.substring(dot + 1));
    } catch (IllegalArgumentException notBase64) {
      return null;
    }
    // Only the canonical encoding: the decoder ignores the unused low bits of the last character,
    // so another spelling of the same bytes would pass for the token it was altered from.
    if (!ENCODE.encodeToString(payload).equals(rest.substring(0, dot))
        || !ENCODE.encodeToString(mac).equals(rest.substring(dot + 1))) {
      return null;
    }
    if (!MessageDigest.isEqual(mac(payload), mac)) {
      return null;
    }
    String[] parts = new String(payload, StandardCharsets.UTF_8).split("\n", -1);
    return parts.length == count ? parts : null;
  }

  private byte[] mac(byte[] payload) {
    try {
      Mac hmac = Mac.getInstance("HmacSHA256");
      hmac.init(key);
      return hmac.doFinal(payload);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
    }
  }
}
