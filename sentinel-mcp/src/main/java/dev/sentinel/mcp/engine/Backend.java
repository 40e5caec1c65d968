package dev.sentinel.mcp.engine;

import dev.sentinel.api.SentinelException;
import dev.sentinel.api.Transport;
import dev.sentinel.core.config.BackendOptions;
import dev.sentinel.core.config.Isolation;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.node.ObjectNode;

/**
 * One configured backend MCP server and the connections ({@link Upstream}s) the gateway holds to
 * it: one shared by everyone, or one per principal or per client session as its {@link
 * Isolation} says, within the bounds of its {@link BackendOptions}.
 *
 * <p>An isolated backend starts one connection ahead, to learn the server's capabilities before
 * any client asks; the first session that needs a connection claims it, later ones get their
 * own, made when first needed. What the server declared at its latest {@code initialize} stands
 * for the backend as a whole (capabilities, instructions, revision).
 *
 * <p>Thread-safe: the pool is guarded by the instance lock, never held while waiting.
 */
final class Backend {
  final String name;
  final int index;
  final BackendOptions options;
  private final Supplier<Transport> connector;
  private final McpGateway gateway;

  private @Nullable Upstream shared; // SHARED only; null until start()
  private @Nullable Upstream spare; // isolated: started ahead, not claimed yet
  private final Map<Upstream.Owner, Upstream> owned = new LinkedHashMap<>();
  private @Nullable ObjectNode capabilities;
  private @Nullable String instructions;
  private @Nullable McpRevision revision;
  private boolean everStarted;
  private boolean lastAttemptFailed;
  private @Nullable String lastError;
  private int retiredRestarts;
  private boolean closed;

  /** A bound of the connection pool refused a new connection; becomes a {@code -32014} error. */
  static final class Busy extends SentinelException {
    private static final long serialVersionUID = 1L;

    Busy(String message) {
      super(message, null, false);
    }
  }

  /**
   * The backend has not come up yet, in a gateway started in the background: a call is answered
   * at once (a retryable {@code -32019}) instead of waiting for the start, which a client holds
   * its own timeout against.
   */
  static final class Starting extends BackendFailure {
    private static final long serialVersionUID = 1L;
    /** How long a client is asked to wait before it tries again. */
    static final long RETRY_AFTER_MS = 1000;

    Starting(String name, boolean failed, @Nullable String detail) {
      super(failed ? "backend " + name + " failed to start and is being retried; try again later"
          : "backend " + name + " is starting; try again shortly", detail);
    }
  }

  Backend(String name, int index, Supplier<Transport> connector, BackendOptions options, McpGateway gateway) {
    this.name = name;
    this.index = index;
    this.connector = connector;
    this.options = options;
    this.gateway = gateway;
  }

  Supplier<Transport> connector() {
    return connector;
  }

  boolean isolated() {
    return options.isolation() != Isolation.SHARED;
  }

  /** Starts the first connection (the shared one, or an isolated backend's spare). */
  CompletableFuture<Void> start() {
    Upstream first = new Upstream(this, gateway.nextId(), null, gateway);
    synchronized (this) {
      if (isolated()) {
        spare = first;
      } else {
        shared = first;
      }
    }
    try {
      gateway.executor().execute(first::connect);
    } catch (RejectedExecutionException e) {
      throw new IllegalStateException("the executor refused to start backend " + name, e);
    }
    return first.startedFuture();
  }

  /**
   * The connection that serves this session's requests, made (or claimed) if the session has
   * none yet; waits up to the start timeout for it to initialize.
   *
   * @throws Busy when a bound of the pool refuses a new connection
   * @throws BackendFailure when the connection is not up
   * @throws Starting at once, without waiting, when the gateway started in the background and
   *     the backend has never come up
   */
  Upstream upstreamFor(ClientSession session) throws InterruptedException {
    @Nullable Upstream chosen;
    boolean connect = false;
    List<Upstream> evicted = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        throw new BackendFailure("backend " + name + " is closed");
      }
      if (!everStarted && gateway.startsInBackground()) {
        // Never claims the spare still starting: its coming up is then news to every session,
        // which is told its lists changed.
        throw new Starting(name, lastAttemptFailed, lastError);
      }
      if (!isolated()) {
        chosen = shared;
        if (chosen == null) {
          // A gateway that serves a client before start() has no shared connection yet.
          throw new BackendFailure("backend " + name + " is unavailable", "the gateway is not started");
        }
      } else {
        Upstream.Owner owner = ownerFor(session);
        chosen = owned.get(owner);
        if (chosen == null || chosen.isClosed()) {
          if (chosen != null) {
            owned.remove(owner);
          }
          if (spare != null && spare.claim(owner)) {
            chosen = spare;
            spare = null;
          } else {
            evicted = admit(owner);
            chosen = new Upstream(this, gateway.nextId(), owner, gateway);
            connect = true;
          }
          owned.put(owner, chosen);
        }
      }
    }
    for (Upstream idle : evicted) {
      retire(idle);
    }
    if (connect) {
      try {
        gateway.executor().execute(chosen::connect);
      } catch (RejectedExecutionException e) {
        discard(chosen);
        throw new Busy("the gateway is busy: no thread to connect backend " + name);
      }
    }
    if (!chosen.awaitUp(gateway.startTimeout())) {
      String error = chosen.lastError();
      throw new BackendFailure("backend " + name + " is unavailable", error);
    }
    return chosen;
  }

  /** The connection that serves this session, if it has one already; never makes one. */
  synchronized @Nullable Upstream existingFor(ClientSession session) {
    if (!isolated()) {
      return shared;
    }
    Upstream upstream = owned.get(ownerFor(session));
    return upstream == null || upstream.isClosed() ? null : upstream;
  }

  private Upstream.Owner ownerFor(ClientSession session) {
    String principal = session.ownerId();
    // A session that serves one exchange (a stateless HTTP request) would otherwise start a
    // connection per request: its connections are its principal's, as under per_principal.
    if ((options.isolation() == Isolation.PER_PRINCIPAL || session.perExchange()) && principal != null) {
      return new Upstream.Owner(null, principal);
    }
    // Per session; and per principal for a session whose principal is unknown.
    return new Upstream.Owner(session.id(), principal);
  }

  /**
   * Checks the pool's bounds for a new connection and makes room if it can; returns the
   * connections removed to make it, for the caller to close outside the lock. Holds the lock.
   *
   * <p>A principal at its own bound gives up its least recently used connection that has no
   * request in flight (a session it stopped using, say), else is refused. At the pool's bound,
   * connections whose owner has no session open go first, then the least recently used one idle
   * for the idle timeout, whoever's it is; else the new one is refused.
   */
  private List<Upstream> admit(Upstream.Owner owner) {
    long now = gateway.clock().nanoTime();
    List<Upstream> evicted = new ArrayList<>();
    if (owner.principalId() != null) {
      int mine = 0;
      for (Upstream.Owner held : owned.keySet()) {
        if (owner.principalId().equals(held.principalId())) {
          mine++;
        }
      }
      int perPrincipal = options.effectiveMaxPerPrincipal();
      if (mine >= perPrincipal) {
        Upstream oldest = leastRecentlyUsed(owner.principalId(), now);
        if (oldest == null) {
          throw new Busy("backend " + name + " has no free connection for this principal (max_connections_per_principal: "
              + perPrincipal + ", isolation " + isolationName() + ")");
        }
        owned.values().remove(oldest);
        evicted.add(oldest);
      }
    }
    if (size() >= options.maxConnections()) {
      evicted.addAll(reapIdle(now, true));
    }
    if (size() >= options.maxConnections()) {
      Upstream oldest = leastRecentlyUsed(null, now - options.idleTimeout().toNanos());
      if (oldest != null) {
        owned.values().remove(oldest);
        evicted.add(oldest);
      }
    }
    if (size() >= options.maxConnections()) {
      for (Upstream upstream : evicted) {
        owned.put(upstream.owner(), upstream); // nothing made: keep them
      }
      throw new Busy("backend " + name + " has no free connection (max_connections: "
          + options.maxConnections() + ", isolation " + isolationName() + ")");
    }
    return evicted;
  }

  /**
   * The owned connection used least recently, with nothing in flight and unused since {@code
   * before}; of one principal's, or anyone's when {@code principalId} is null. Holds the lock.
   */
  private @Nullable Upstream leastRecentlyUsed(@Nullable String principalId, long before) {
    @Nullable Upstream oldest = null;
    for (Map.Entry<Upstream.Owner, Upstream> entry : owned.entrySet()) {
      Upstream upstream = entry.getValue();
      if ((principalId == null || principalId.equals(entry.getKey().principalId()))
          && upstream.idleSince(before) && (oldest == null || upstream.lastUsed() - oldest.lastUsed() < 0)) {
        oldest = upstream;
      }
    }
    return oldest;
  }

  private int size() {
    return owned.size() + (spare != null ? 1 : 0);
  }

  private String isolationName() {
    return options.isolation().name().toLowerCase(java.util.Locale.ROOT);
  }

  private void discard(Upstream upstream) {
    synchronized (this) {
      owned.values().remove(upstream);
    }
    retire(upstream);
  }

  private void retire(Upstream upstream) {
    synchronized (this) {
      retiredRestarts += upstream.restarts();
    }
    upstream.close();
  }

  /** A session ended: its own connections (per-session isolation) are closed. */
  void sessionEnded(ClientSession session) {
    List<Upstream> closing = new ArrayList<>();
    synchronized (this) {
      for (Iterator<Map.Entry<Upstream.Owner, Upstream>> it = owned.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<Upstream.Owner, Upstream> entry = it.next();
        if (session.id().equals(entry.getKey().sessionId())) {
          it.remove();
          closing.add(entry.getValue());
        }
      }
    }
    for (Upstream upstream : closing) {
      retire(upstream);
    }
  }

  /** Times out requests, restarts failed connections and closes idle per-principal ones. */
  void tick(long now) {
    List<Upstream> all = upstreams();
    for (Upstream upstream : all) {
      upstream.tick(now);
    }
    if (isolated()) {
      List<Upstream> reaped;
      synchronized (this) {
        reaped = reapIdle(now, false);
      }
      for (Upstream upstream : reaped) {
        retire(upstream);
      }
    }
  }

  /**
   * Removes connections whose owner has no session open and that have been idle for the idle
   * timeout (or, when {@code now}, are idle now), and closed ones; holds the lock. Returns them
   * for the caller to close outside the lock.
   */
  private List<Upstream> reapIdle(long now, boolean force) {
    List<Upstream> reaped = new ArrayList<>();
    long since = force ? now : now - options.idleTimeout().toNanos();
    for (Iterator<Map.Entry<Upstream.Owner, Upstream>> it = owned.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Upstream.Owner, Upstream> entry = it.next();
      Upstream.Owner owner = entry.getKey();
      Upstream upstream = entry.getValue();
      boolean orphaned = owner.sessionId() == null
          ? !gateway.hasSessionOf(Objects.requireNonNull(owner.principalId(), "an owner that is no session is a"
              + " principal"))
          : !gateway.hasSession(owner.sessionId());
      if (upstream.isClosed() || (orphaned && upstream.idleSince(since))) {
        it.remove();
        reaped.add(upstream);
      }
    }
    return reaped;
  }

  /** A connection that is up, for the gateway's own use (listing tools at a check), or {@code null}. */
  @Nullable Upstream anyUp() {
    for (Upstream upstream : upstreams()) {
      if (upstream.isUp()) {
        return upstream;
      }
    }
    return null;
  }

  /** Every open connection. */
  synchronized List<Upstream> upstreams() {
    List<Upstream> all = new ArrayList<>(owned.size() + 2);
    if (shared != null) {
      all.add(shared);
    }
    if (spare != null) {
      all.add(spare);
    }
    all.addAll(owned.values());
    return all;
  }

  /** Closes every connection for good. */
  void close() {
    List<Upstream> all;
    synchronized (this) {
      closed = true;
      all = upstreams();
    }
    for (Upstream upstream : all) {
      upstream.close();
    }
  }

  // ---- what the server declared -----------------------------------------------------------

  /** A connection initialized: what the server declared stands for the backend. */
  synchronized void learned(McpRevision negotiated, ObjectNode declared, @Nullable String text) {
    revision = negotiated;
    capabilities = declared;
    instructions = text;
    everStarted = true;
    lastAttemptFailed = false;
  }

  synchronized void attemptFailed(@Nullable String error) {
    lastError = error;
    lastAttemptFailed = true;
  }

  /**
   * Whether requests may be routed here now: the shared connection is up, or an isolated backend
   * has initialized at least once (each session's connection is made when first needed).
   */
  synchronized boolean usable() {
    return isolated() ? everStarted && !closed : shared != null && shared.isUp();
  }

  /** Whether the backend, when last initialized, declared the capability (such as {@code tools}). */
  synchronized boolean has(String capability) {
    return capabilities != null && capabilities.has(capability);
  }

  /**
   * Whether the gateway relays the Tasks extension's tasks of this backend: it speaks MCP
   * 2026-07-28 and declared {@code capabilities.extensions["io.modelcontextprotocol/tasks"]}.
   */
  synchronized boolean relaysTasks() {
    return revision == McpRevision.V2026_07_28 && Tasks.declaredIn(capabilities);
  }

  /** A sub-capability flag, such as {@code resources.subscribe}. */
  synchronized boolean has(String capability, String flag) {
    return capabilities != null && capabilities.path(capability).path(flag).asBoolean(false);
  }

  synchronized boolean everStarted() {
    return everStarted;
  }

  synchronized @Nullable String instructions() {
    return instructions;
  }

  synchronized BackendStatus status() {
    List<Upstream> all = upstreams();
    if (!isolated()) {
      Upstream only = shared;
      if (only == null) {
        // Not started yet: what an isolated backend that has not come up says too.
        return new BackendStatus(name, closed ? BackendStatus.State.DOWN : BackendStatus.State.STARTING, null, 0,
            lastError, Isolation.SHARED, 0);
      }
      McpRevision negotiated = only.revision();
      return new BackendStatus(name, only.state(), negotiated == null ? null : negotiated.version(),
          only.restarts(), only.lastError(), Isolation.SHARED, only.isUp() ? 1 : 0);
    }
    int up = 0;
    int restarts = retiredRestarts;
    for (Upstream upstream : all) {
      up += upstream.isUp() ? 1 : 0;
      restarts += upstream.restarts();
    }
    BackendStatus.State state = closed ? BackendStatus.State.DOWN
        : up > 0 || (everStarted && !lastAttemptFailed) ? BackendStatus.State.UP
        : lastAttemptFailed ? BackendStatus.State.DOWN : BackendStatus.State.STARTING;
    return new BackendStatus(name, state, revision == null ? null : revision.version(), restarts,
        lastError, options.isolation(), up);
  }
}
