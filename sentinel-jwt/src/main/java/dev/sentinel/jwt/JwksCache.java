package dev.sentinel.jwt;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import dev.sentinel.api.Clock;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The identity provider's signing keys, fetched from its JWKS URL and kept for a time to live.
 * A key id that the cached set does not hold (a rotation) causes a refresh, at most once per
 * minimum interval; so does a failed fetch. When the keys cannot be fetched and the cached ones
 * are too old, lookups fail: callers refuse the token (fail closed).
 *
 * <p>Thread-safe: lookups read an immutable snapshot; fetches are serialized.
 */
final class JwksCache {
  private static final Logger log = LoggerFactory.getLogger(JwksCache.class);
  private static final int MAX_BYTES = 1 << 20;

  /** The keys could not be fetched and no fresh enough copy is kept. */
  static final class Unavailable extends Exception {
    private static final long serialVersionUID = 1L;

    Unavailable() {
      super("the signing keys are unavailable", null, false, false);
    }
  }

  private record Snapshot(JWKSet keys, long fetchedAt) {}

  private final URI url;
  private final HttpClient http;
  private final Duration timeout;
  private final long ttlNanos;
  private final long minRefreshNanos;
  private final Clock clock;
  private final AtomicLong fetches = new AtomicLong();
  private volatile @Nullable Snapshot current; // null until a fetch succeeds
  private long lastAttempt;
  private boolean attempted;

  JwksCache(URI url, Duration ttl, Duration minRefresh, Duration timeout, Clock clock) {
    this.url = url;
    this.timeout = timeout;
    this.ttlNanos = ttl.toNanos();
    this.minRefreshNanos = minRefresh.toNanos();
    this.clock = clock;
    this.http = HttpClient.newBuilder()
        .connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  /**
   * The key for a token's {@code kid} (or, without a {@code kid}, the only key that matches),
   * refreshing the set when it is stale or the key is unknown; {@code null} if no key matches.
   *
   * @throws Unavailable when no fresh enough key set can be had
   */
  @Nullable JWK key(@Nullable String kid, Class<? extends JWK> type) throws Unavailable {
    long now = clock.nanoTime();
    Snapshot snapshot = current;
    if (snapshot == null || !fresh(snapshot, now)) {
      snapshot = refresh(now);
      if (snapshot == null || !fresh(snapshot, now)) {
        throw new Unavailable();
      }
    }
    JWK key = find(snapshot.keys(), kid, type);
    if (key == null) {
      Snapshot refreshed = refresh(now);
      if (refreshed != null && refreshed != snapshot && fresh(refreshed, now)) {
        key = find(refreshed.keys(), kid, type);
      }
    }
    return key;
  }

  /** How many fetches were attempted. */
  long fetches() {
    return fetches.get();
  }

  private boolean fresh(Snapshot snapshot, long now) {
    return now - snapshot.fetchedAt() < ttlNanos;
  }

  private static @Nullable JWK find(JWKSet keys, @Nullable String kid, Class<? extends JWK> type) {
    JWK only = null;
    int candidates = 0;
    for (JWK key : keys.getKeys()) {
      if (!type.isInstance(key) || (key.getKeyUse() != null && !"sig".equals(key.getKeyUse().identifier()))) {
        continue;
      }
      if (kid != null) {
        if (kid.equals(key.getKeyID())) {
          return key;
        }
      } else {
        only = key;
        candidates++;
      }
    }
    return candidates == 1 ? only : null;
  }

  /**
   * Fetches the set unless a fetch was attempted within the minimum interval; the current
   * snapshot after (null when no fetch has succeeded yet).
   */
  private synchronized @Nullable Snapshot refresh(long now) {
    if (attempted && now - lastAttempt < minRefreshNanos) {
      return current;
    }
    attempted = true;
    lastAttempt = now;
    fetches.incrementAndGet();
    try {
      current = new Snapshot(fetch(), now);
    } catch (IOException | ParseException | RuntimeException e) {
      log.warn("fetching the JWKS from {} failed: {}", url, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      log.warn("fetching the JWKS from {} was interrupted", url);
    }
    return current;
  }

  private JWKSet fetch() throws IOException, InterruptedException, ParseException {
    HttpRequest request = HttpRequest.newBuilder(url)
        .timeout(timeout)
        .header("Accept", "application/json, application/jwk-set+json")
        .GET()
        .build();
    HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream body = response.body()) {
      if (response.statusCode() != 200) {
        throw new IOException("HTTP status " + response.statusCode());
      }
      byte[] bytes = body.readNBytes(MAX_BYTES + 1);
      if (bytes.length > MAX_BYTES) {
        throw new IOException("the key set exceeds " + MAX_BYTES + " bytes");
      }
      JWKSet set = JWKSet.parse(new String(bytes, StandardCharsets.UTF_8));
      List<JWK> keys = set.getKeys();
      for (JWK key : keys) {
        if (key.isPrivate()) {
          // A published private key is a provider misconfiguration; only public parts are kept.
          return set.toPublicJWKSet();
        }
      }
      return set;
    }
  }
}
