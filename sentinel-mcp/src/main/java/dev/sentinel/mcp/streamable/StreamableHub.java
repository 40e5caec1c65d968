package dev.sentinel.mcp.streamable;

import dev.sentinel.api.Clock;
import dev.sentinel.core.internal.WireJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.databind.JsonNode;

/**
 * The state the sessions of one Streamable HTTP endpoint share: the session registry, what each
 * principal holds (sessions and open streams, against their caps), the open SSE writers (for
 * keep-alive), the count of requests waiting for a response (for the drain), and settings. It
 * knows no HTTP server: a server adapter hands it requests with their {@link ResponseChannel}.
 *
 * <p>Sessions are found by the SHA-256 of their id, and the id is then compared in constant
 * time, so lookup timing tells nothing about the ids that exist. Thread-safe.
 */
public final class StreamableHub {
  private static final int SESSION_ID_BYTES = 32;
  private static final MessageDigest SHA_256 = sha256();

  /** What one principal holds. Guarded by {@link #holdings}. */
  private static final class Holding {
    int sessions;
    int streams;
  }

  /**
   * A new session, or the cap that refused it.
   *
   * @param session the session, or {@code null} when refused
   * @param refusal the cap that refused it, or {@code null}
   */
  public record Opened(@Nullable StreamableSession session, @Nullable Cap refusal) {}

  /** Where the sessions' refusals and drops are counted (the server's metrics). */
  public interface Counters {
    /** A cap refused a session or a stream; {@code cap} is its {@link Cap#key()}. */
    void refused(String cap);

    /** An event was forgotten before it was delivered. */
    void eventDropped();

    /** An SSE connection was dropped because its client did not read; {@code reason} says which bound. */
    void streamDropped(String reason);
  }

  private static final WireJson JSON = new WireJson(StreamReadConstraints.defaults());

  private final Clock clock;
  private final ExecutorService pool;
  private final Bounds bounds;
  private final Counters metrics;
  private final SecureRandom random = new SecureRandom();
  private final ConcurrentHashMap<String, StreamableSession> sessions = new ConcurrentHashMap<>();
  private final Map<String, Holding> holdings = new HashMap<>();
  private int sessionsHeld;
  private int streamsHeld;
  private final Set<SseWriter> writers = ConcurrentHashMap.newKeySet();
  private final Set<StatelessExchange> listens = ConcurrentHashMap.newKeySet();
  private final Object drainLock = new Object();
  private int waiting;

  /**
   * @param pool where sessions deliver their messages to the engine (each session in order) and
   *     do work that must not hold their locks
   * @param counters where refusals and drops are counted
   */
  public StreamableHub(Clock clock, ExecutorService pool, Bounds bounds, Counters counters) {
    this.clock = clock;
    this.pool = pool;
    this.bounds = bounds;
    this.metrics = counters;
  }

  /** The compact JSON of a message, numbers as they were received. */
  static byte[] bytes(JsonNode message) {
    return JSON.write(message);
  }

  /** The compact JSON of a message as text. */
  static String text(JsonNode message) {
    return new String(JSON.write(message), StandardCharsets.UTF_8);
  }

  public Clock clock() {
    return clock;
  }

  ExecutorService pool() {
    return pool;
  }

  public Bounds bounds() {
    return bounds;
  }

  /** The value of a cap, for refusals. */
  public int limit(Cap cap) {
    switch (cap) {
      case MAX_SESSIONS:
        return bounds.maxSessions();
      case MAX_SESSIONS_PER_PRINCIPAL:
        return bounds.sessionsPerPrincipal();
      default:
        return bounds.streamsPerPrincipal();
    }
  }

  /**
   * A new session for the principal, or the cap it would exceed: {@code max_sessions} on the
   * gateway, or {@code max_sessions_per_principal} (counted in the refusals metric).
   */
  public Opened open(String principalId) {
    synchronized (holdings) {
      Cap refusal = null;
      Holding holding = holdings.get(principalId);
      if (sessionsHeld >= bounds.maxSessions()) {
        refusal = Cap.MAX_SESSIONS;
      } else if (holding != null && holding.sessions >= bounds.sessionsPerPrincipal()) {
        refusal = Cap.MAX_SESSIONS_PER_PRINCIPAL;
      }
      if (refusal != null) {
        metrics.refused(refusal.key());
        return new Opened(null, refusal);
      }
      holdings.computeIfAbsent(principalId, p -> new Holding()).sessions++;
      sessionsHeld++;
    }
    byte[] bytes = new byte[SESSION_ID_BYTES];
    random.nextBytes(bytes);
    String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    StreamableSession session = new StreamableSession(this, id, principalId);
    sessions.put(digest(id), session);
    return new Opened(session, null);
  }

  /**
   * Takes one of the principal's stream slots for an SSE stream about to open; answers
   * {@code false} (counted in the refusals metric) when it holds {@code max_streams_per_principal}
   * already. Each slot taken is given back with {@link #streamClosed} exactly once.
   *
   * @param replacing whether the stream replaces one of the principal's that is ending (a second
   *     GET on a session): allowed over the cap, which the ending one leaves soon
   */
  public boolean streamOpened(String principalId, boolean replacing) {
    synchronized (holdings) {
      Holding holding = holdings.computeIfAbsent(principalId, p -> new Holding());
      if (!replacing && holding.streams >= bounds.streamsPerPrincipal()) {
        metrics.refused(Cap.MAX_STREAMS_PER_PRINCIPAL.key());
        forgetIfEmpty(principalId, holding);
        return false;
      }
      holding.streams++;
      streamsHeld++;
      return true;
    }
  }

  /** Gives back a stream slot taken with {@link #streamOpened}. */
  public void streamClosed(String principalId) {
    synchronized (holdings) {
      Holding holding = holdings.get(principalId);
      if (holding != null && holding.streams > 0) {
        holding.streams--;
        streamsHeld--;
        forgetIfEmpty(principalId, holding);
      }
    }
  }

  /** Output the open sessions hold, in bytes (their budgets' sum). */
  public long bufferedBytes() {
    long total = 0;
    for (StreamableSession session : sessions.values()) {
      total += session.budget().bytes();
    }
    return total;
  }

  /** Counts an event a session forgot before it was delivered. */
  void eventDropped() {
    metrics.eventDropped();
  }

  /** Counts an SSE connection dropped because its client did not read. */
  void streamDropped(String reason) {
    metrics.streamDropped(reason);
  }

  /** Open SSE streams, of every principal. */
  public int streamCount() {
    synchronized (holdings) {
      return streamsHeld;
    }
  }

  /** The sessions and open streams a principal holds, for tests: {@code [sessions, streams]}. */
  public int[] holding(String principalId) {
    synchronized (holdings) {
      Holding holding = holdings.get(principalId);
      return holding == null ? new int[2] : new int[] {holding.sessions, holding.streams};
    }
  }

  private void forgetIfEmpty(String principalId, Holding holding) {
    if (holding.sessions == 0 && holding.streams == 0) {
      holdings.remove(principalId);
    }
  }

  /** The open session with this id, or {@code null}. */
  public @Nullable StreamableSession find(@Nullable String id) {
    if (id == null || id.isEmpty() || id.length() > 128) {
      return null;
    }
    StreamableSession session = sessions.get(digest(id));
    if (session == null || !MessageDigest.isEqual(
        session.id().getBytes(StandardCharsets.US_ASCII), id.getBytes(StandardCharsets.US_ASCII))) {
      return null;
    }
    return session;
  }

  /** A session closed: forget it. */
  void removed(StreamableSession session) {
    if (sessions.remove(digest(session.id()), session)) {
      synchronized (holdings) {
        sessionsHeld--;
        Holding holding = holdings.get(session.principalId());
        if (holding != null) {
          holding.sessions--;
          forgetIfEmpty(session.principalId(), holding);
        }
      }
    }
  }

  /** The open sessions. */
  public List<StreamableSession> sessions() {
    return List.copyOf(sessions.values());
  }

  public int sessionCount() {
    return sessions.size();
  }

  /** Ends sessions idle for longer than the limit. */
  public void expireIdle(long idleNanos) {
    long now = clock.nanoTime();
    for (StreamableSession session : sessions.values()) {
      if (session.idleLongerThan(idleNanos, now)) {
        session.terminate();
      }
    }
  }

  /** A stateless {@code subscriptions/listen} stream opened: {@link #listens} ends it when the gateway stops. */
  void listenOpened(StatelessExchange exchange) {
    listens.add(exchange);
  }

  void listenClosed(StatelessExchange exchange) {
    listens.remove(exchange);
  }

  /** The open stateless {@code subscriptions/listen} streams. */
  public List<StatelessExchange> listens() {
    return List.copyOf(listens);
  }

  void writerOpened(SseWriter writer) {
    writers.add(writer);
  }

  void writerClosed(SseWriter writer) {
    writers.remove(writer);
  }

  /** Writes a keep-alive comment on every open SSE stream. */
  public void keepAlive() {
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
  public boolean awaitQuiet(long timeoutNanos) throws InterruptedException {
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

  /** The key a session is kept under: its id's SHA-256, so that a lookup's time tells nothing of other ids. */
  private static String digest(String id) {
    MessageDigest sha;
    try {
      // A clone of one instance: getInstance looks the provider up on every call (~3 µs).
      sha = (MessageDigest) SHA_256.clone();
    } catch (CloneNotSupportedException e) {
      sha = sha256();
    }
    return HexFormat.of().formatHex(sha.digest(id.getBytes(StandardCharsets.UTF_8)));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
