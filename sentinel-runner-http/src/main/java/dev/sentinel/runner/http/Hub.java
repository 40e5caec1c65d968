package dev.sentinel.runner.http;

import dev.sentinel.api.Clock;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The state the HTTP gateway's sessions share: the session registry, the open SSE writers (for
 * keep-alive), the count of requests waiting for a response (for the drain), and settings.
 *
 * <p>Sessions are found by the SHA-256 of their id, and the id is then compared in constant
 * time, so lookup timing tells nothing about the ids that exist. Thread-safe.
 */
final class Hub {
  private static final int SESSION_ID_BYTES = 32;

  private final Json json;
  private final Clock clock;
  private final ExecutorService pool;
  private final int maxSessions;
  private final int maxBufferedEvents;
  private final long maxBufferedBytes;
  private final SecureRandom random = new SecureRandom();
  private final ConcurrentHashMap<String, HttpSession> sessions = new ConcurrentHashMap<>();
  private final AtomicInteger reserved = new AtomicInteger();
  private final Set<SseWriter> writers = ConcurrentHashMap.newKeySet();
  private final Object drainLock = new Object();
  private int waiting;

  Hub(Json json, Clock clock, ExecutorService pool, int maxSessions, int maxBufferedEvents, long maxBufferedBytes) {
    this.json = json;
    this.clock = clock;
    this.pool = pool;
    this.maxSessions = maxSessions;
    this.maxBufferedEvents = maxBufferedEvents;
    this.maxBufferedBytes = maxBufferedBytes;
  }

  Json json() {
    return json;
  }

  Clock clock() {
    return clock;
  }

  ExecutorService pool() {
    return pool;
  }

  int maxBufferedEvents() {
    return maxBufferedEvents;
  }

  long maxBufferedBytes() {
    return maxBufferedBytes;
  }

  /** A new session for the principal, or {@code null} when {@code maxSessions} are open. */
  HttpSession open(String principalId) {
    if (reserved.incrementAndGet() > maxSessions) {
      reserved.decrementAndGet();
      return null;
    }
    byte[] bytes = new byte[SESSION_ID_BYTES];
    random.nextBytes(bytes);
    String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    HttpSession session = new HttpSession(this, id, principalId);
    sessions.put(digest(id), session);
    return session;
  }

  /** The open session with this id, or {@code null}. */
  HttpSession find(String id) {
    if (id == null || id.isEmpty() || id.length() > 128) {
      return null;
    }
    HttpSession session = sessions.get(digest(id));
    if (session == null || !MessageDigest.isEqual(
        session.id.getBytes(StandardCharsets.US_ASCII), id.getBytes(StandardCharsets.US_ASCII))) {
      return null;
    }
    return session;
  }

  /** A session closed: forget it. */
  void removed(HttpSession session) {
    if (sessions.remove(digest(session.id), session)) {
      reserved.decrementAndGet();
    }
  }

  /** The open sessions. */
  List<HttpSession> sessions() {
    return List.copyOf(sessions.values());
  }

  int sessionCount() {
    return sessions.size();
  }

  /** Ends sessions idle for longer than the limit. */
  void expireIdle(long idleNanos) {
    long now = clock.nanoTime();
    for (HttpSession session : sessions.values()) {
      if (session.idleLongerThan(idleNanos, now)) {
        session.terminate();
      }
    }
  }

  void writerOpened(SseWriter writer) {
    writers.add(writer);
  }

  void writerClosed(SseWriter writer) {
    writers.remove(writer);
  }

  /** Writes a keep-alive comment on every open SSE stream. */
  void keepAlive() {
    for (SseWriter writer : writers) {
      writer.keepAlive();
    }
  }

  void exchangeStarted() {
    synchronized (drainLock) {
      waiting++;
    }
  }

  void exchangeDone() {
    synchronized (drainLock) {
      waiting--;
      if (waiting <= 0) {
        drainLock.notifyAll();
      }
    }
  }

  /** Waits until no request waits for its response, or the timeout passes; answers whether none waits. */
  boolean awaitQuiet(long timeoutNanos) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutNanos;
    synchronized (drainLock) {
      while (waiting > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        drainLock.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  private static String digest(String id) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(sha.digest(id.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
