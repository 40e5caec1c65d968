package dev.sentinel.mcp.engine;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The tasks of the Tasks extension ({@code io.modelcontextprotocol/tasks}) that backends created
 * for the gateway's MCP 2026-07-28 clients, each under an id the gateway minted: 128 random bits,
 * bound to the principal whose call created it, the backend that holds it and the backend's own
 * id, which no client ever sees. A task is found only by its id and its principal together, so
 * another principal's id, a forged one and an expired one are all the same unknown task.
 *
 * <p>Bounded: a principal holds at most {@link #perPrincipal} live tasks (created, reserved or
 * not yet seen to end), and as many ended ones again, the oldest ended ones dropped first. A task
 * is forgotten when its time to live ends: the backend's {@code ttlMs}, capped at {@link
 * #MAX_LIFE} (a task without one lives that long).
 *
 * <p>Thread-safe: every method holds the instance's lock, and does little under it.
 */
final class Tasks {
  /** The Tasks extension's identifier, under {@code capabilities.extensions}. */
  static final String EXTENSION = "io.modelcontextprotocol/tasks";
  /** How long the gateway keeps a task at most, whatever the backend's {@code ttlMs} says. */
  static final Duration MAX_LIFE = Duration.ofHours(1);
  /** The live tasks a principal may hold by default. */
  static final int DEFAULT_PER_PRINCIPAL = 32;
  /** The prefix of the ids the gateway mints. */
  static final String ID_PREFIX = "sentinel-task-";
  /** The statuses after which a task does not change. */
  static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");

  /**
   * One task as the gateway holds it.
   *
   * @param id the id the client knows
   * @param owner the id of the principal whose call created it
   * @param backend the backend that holds it
   * @param backendId the backend's id for it
   * @param tool the tool whose call created it, as the client named it
   */
  record Task(String id, String owner, Backend backend, String backendId, String tool) {}

  private static final class Entry {
    final Task task;
    final long expiresAt;
    boolean ended;
    /** The keys of the input requests passed on to the client, each governed once. */
    final Set<String> asked = new HashSet<>();

    Entry(Task task, long expiresAt) {
      this.task = task;
      this.expiresAt = expiresAt;
    }
  }

  private final int perPrincipal;
  private final LongSupplier nanoTime;
  private final SecureRandom random = new SecureRandom();
  /** Every task by the id the client knows, in the order they were created. */
  private final Map<String, Entry> byId = new LinkedHashMap<>();
  /** The slots reserved for calls in flight that may create a task, by principal. */
  private final Map<String, Integer> reserved = new HashMap<>();

  Tasks(int perPrincipal, LongSupplier nanoTime) {
    if (perPrincipal < 1) {
      throw new IllegalArgumentException("maxTasksPerPrincipal must be at least 1, got " + perPrincipal);
    }
    this.perPrincipal = perPrincipal;
    this.nanoTime = nanoTime;
  }

  /** Whether declared capabilities (a client's or a backend's) name the extension. */
  static boolean declaredIn(tools.jackson.databind.JsonNode capabilities) {
    return capabilities != null && capabilities.path("extensions").has(EXTENSION);
  }

  /** The live tasks a principal may hold. */
  int perPrincipal() {
    return perPrincipal;
  }

  /**
   * Reserves a slot for a call of {@code owner} that may create a task; false when the principal
   * holds {@link #perPrincipal} live tasks and reservations already. A reservation ends with
   * {@link #bind} or {@link #release}.
   */
  synchronized boolean reserve(String owner) {
    sweep();
    int live = reserved.getOrDefault(owner, 0);
    for (Entry entry : byId.values()) {
      if (!entry.ended && entry.task.owner().equals(owner)) {
        live++;
      }
    }
    if (live >= perPrincipal) {
      return false;
    }
    reserved.merge(owner, 1, Integer::sum);
    return true;
  }

  /** Gives back a slot {@link #reserve} took: the call created no task. */
  synchronized void release(String owner) {
    reserved.computeIfPresent(owner, (k, count) -> count <= 1 ? null : count - 1);
  }

  /**
   * Turns a reservation into a task the backend created, under a new id; {@code ttlMs} is the
   * backend's time to live for it (null or not positive: {@link #MAX_LIFE}).
   */
  synchronized Task bind(String owner, Backend backend, String backendId, String tool, Long ttlMs) {
    release(owner);
    long life = ttlMs == null || ttlMs <= 0 ? MAX_LIFE.toMillis() : Math.min(ttlMs, MAX_LIFE.toMillis());
    String id;
    do {
      byte[] bits = new byte[16];
      random.nextBytes(bits);
      id = ID_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    } while (byId.containsKey(id));
    Task task = new Task(id, owner, backend, backendId, tool);
    byId.put(id, new Entry(task, nanoTime.getAsLong() + Duration.ofMillis(life).toNanos()));
    dropEndedBeyondBound(owner);
    return task;
  }

  /** The task {@code id} of {@code owner}; {@code null} when there is none, it is another's or it expired. */
  synchronized Task find(String id, String owner) {
    Entry entry = byId.get(id);
    if (entry == null || owner == null || !entry.task.owner().equals(owner)) {
      return null;
    }
    if (entry.expiresAt - nanoTime.getAsLong() <= 0) {
      byId.remove(id);
      return null;
    }
    return entry.task;
  }

  /** The backend said the task reached {@code status}: an ended task frees its principal's slot. */
  synchronized void status(String id, String status) {
    Entry entry = byId.get(id);
    if (entry != null && TERMINAL.contains(status) && !entry.ended) {
      entry.ended = true;
      dropEndedBeyondBound(entry.task.owner());
    }
  }

  /** The backend no longer knows the task: the gateway forgets it too. */
  synchronized void forget(String id) {
    byId.remove(id);
  }

  /**
   * Of the input request keys a task asks now, those not yet passed on to its client; they are
   * taken as passed on from now (each is governed once).
   */
  synchronized List<String> firstAsked(String id, Iterable<String> keys) {
    Entry entry = byId.get(id);
    List<String> fresh = new ArrayList<>();
    if (entry == null) {
      return fresh;
    }
    for (String key : keys) {
      if (entry.asked.add(key)) {
        fresh.add(key);
      }
    }
    return fresh;
  }

  /** Whether the client was shown the input request {@code key} of task {@code id}. */
  synchronized boolean wasAsked(String id, String key) {
    Entry entry = byId.get(id);
    return entry != null && entry.asked.contains(key);
  }

  /** The tasks the gateway holds now, expired ones included until the next sweep (for tests). */
  synchronized int size() {
    return byId.size();
  }

  private void sweep() {
    long now = nanoTime.getAsLong();
    byId.values().removeIf(entry -> entry.expiresAt - now <= 0);
  }

  /** Keeps a principal's ended tasks within {@link #perPrincipal}, dropping the oldest first. */
  private void dropEndedBeyondBound(String owner) {
    int ended = 0;
    for (Entry entry : byId.values()) {
      if (entry.ended && entry.task.owner().equals(owner)) {
        ended++;
      }
    }
    for (Iterator<Entry> it = byId.values().iterator(); it.hasNext() && ended > perPrincipal; ) {
      Entry entry = it.next();
      if (entry.ended && entry.task.owner().equals(owner)) {
        it.remove();
        ended--;
      }
    }
  }
}
