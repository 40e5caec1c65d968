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
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The tasks of the Tasks extension ({@code io.modelcontextprotocol/tasks}) that backends created
 * for the gateway's MCP 2026-07-28 clients, each under an id the gateway minted: 128 random bits,
 * bound to the principal whose call created it, the backend that holds it and the backend's own
 * id, which no client ever sees. A task is found only by its id and its principal together, so
 * another principal's id, a forged one and an expired one are all the same unknown task.
 *
 * <p>Bounded twice. A principal holds at most {@link #perPrincipal} live tasks (created, reserved
 * or not yet seen to end), and as many ended ones again, the oldest ended ones dropped first. The
 * gateway holds at most {@link #max} tasks of every principal together, live, ended and reserved:
 * when full, the oldest ended task of any principal makes room, and with none ended a call that
 * could create one more is refused its task, so principals without number (stateless clients
 * need no session) cannot grow the table without bound. A task is forgotten when its time to
 * live ends: the backend's {@code ttlMs}, capped at {@link #MAX_LIFE} (a task without one lives
 * that long).
 *
 * <p>Thread-safe: every method holds the instance's lock, and does little under it: counts are
 * kept per principal, and expired tasks are swept at most once a second.
 */
final class Tasks {
  /** The Tasks extension's identifier, under {@code capabilities.extensions}. */
  static final String EXTENSION = "io.modelcontextprotocol/tasks";
  /** How long the gateway keeps a task at most, whatever the backend's {@code ttlMs} says. */
  static final Duration MAX_LIFE = Duration.ofHours(1);
  /** The live tasks a principal may hold by default. */
  static final int DEFAULT_PER_PRINCIPAL = 32;
  /** The tasks the gateway holds by default, of every principal together. */
  static final int DEFAULT_MAX = 10_000;
  /** The prefix of the ids the gateway mints. */
  static final String ID_PREFIX = "sentinel-task-";
  /** The statuses after which a task does not change. */
  static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled");
  private static final long SWEEP_EVERY = Duration.ofSeconds(1).toNanos();

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

  /** Why {@link #reserve} said no. */
  enum Full {
    /** The principal holds {@link #perPrincipal} live tasks and reservations. */
    PRINCIPAL,
    /** The gateway holds {@link #max} tasks, none of them ended. */
    GATEWAY
  }

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

  /** A principal's counts: reservations, live tasks and ended tasks. */
  private static final class Held {
    int reserved;
    int live;
    int ended;
  }

  private final int perPrincipal;
  private final int max;
  private final LongSupplier nanoTime;
  private final SecureRandom random = new SecureRandom();
  /** Every task by the id the client knows, in the order they were created. */
  private final Map<String, Entry> byId = new LinkedHashMap<>();
  /** What each principal holds; a principal that holds nothing has no entry. */
  private final Map<String, Held> held = new HashMap<>();
  private int reservations;
  private long sweptAt;

  Tasks(int perPrincipal, int max, LongSupplier nanoTime) {
    if (perPrincipal < 1) {
      throw new IllegalArgumentException("maxTasksPerPrincipal must be at least 1, got " + perPrincipal);
    }
    if (max < perPrincipal) {
      throw new IllegalArgumentException("maxTasks must be at least maxTasksPerPrincipal (" + perPrincipal
          + "), got " + max);
    }
    this.perPrincipal = perPrincipal;
    this.max = max;
    this.nanoTime = nanoTime;
    this.sweptAt = nanoTime.getAsLong();
  }

  /** Whether declared capabilities (a client's or a backend's) name the extension. */
  static boolean declaredIn(tools.jackson.databind.@Nullable JsonNode capabilities) {
    return capabilities != null && capabilities.path("extensions").has(EXTENSION);
  }

  /** The live tasks a principal may hold. */
  int perPrincipal() {
    return perPrincipal;
  }

  /** The tasks the gateway holds at most, of every principal together. */
  int max() {
    return max;
  }

  /**
   * Reserves a slot for a call of {@code owner} that may create a task; {@code null} when it
   * did, else the bound that is full. A reservation ends with {@link #bind} or {@link #release}.
   */
  synchronized @Nullable Full reserve(String owner) {
    sweep(false);
    Held counts = held.get(owner);
    if (counts != null && counts.reserved + counts.live >= perPrincipal) {
      return Full.PRINCIPAL;
    }
    if (byId.size() + reservations >= max) {
      sweep(true);
      if (byId.size() + reservations >= max && !dropOldestEnded(null)) {
        return Full.GATEWAY;
      }
    }
    held.computeIfAbsent(owner, k -> new Held()).reserved++;
    reservations++;
    return null;
  }

  /** Gives back a slot {@link #reserve} took: the call created no task. */
  synchronized void release(String owner) {
    Held counts = held.get(owner);
    if (counts != null && counts.reserved > 0) {
      counts.reserved--;
      reservations--;
      forgetIfEmpty(owner, counts);
    }
  }

  /**
   * Turns a reservation of {@code owner} into a task the backend created, under a new id; {@code
   * ttlMs} is the backend's time to live for it (null or not positive: {@link #MAX_LIFE}).
   *
   * @throws IllegalStateException if {@code owner} holds no reservation
   */
  synchronized Task bind(String owner, Backend backend, String backendId, String tool, @Nullable Long ttlMs) {
    Held counts = held.get(owner);
    if (counts == null || counts.reserved == 0) {
      throw new IllegalStateException("a task is bound only to a reservation of its principal");
    }
    // The reservation's slot becomes the task's.
    counts.reserved--;
    reservations--;
    counts.live++;
    long life = ttlMs == null || ttlMs <= 0 ? MAX_LIFE.toMillis() : Math.min(ttlMs, MAX_LIFE.toMillis());
    String id;
    do {
      byte[] bits = new byte[16];
      random.nextBytes(bits);
      id = ID_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    } while (byId.containsKey(id));
    Task task = new Task(id, owner, backend, backendId, tool);
    byId.put(id, new Entry(task, nanoTime.getAsLong() + Duration.ofMillis(life).toNanos()));
    return task;
  }

  /** The task {@code id} of {@code owner}; {@code null} when there is none, it is another's or it expired. */
  synchronized @Nullable Task find(String id, @Nullable String owner) {
    Entry entry = byId.get(id);
    if (entry == null || owner == null || !entry.task.owner().equals(owner)) {
      return null;
    }
    if (entry.expiresAt - nanoTime.getAsLong() <= 0) {
      remove(id);
      return null;
    }
    return entry.task;
  }

  /** The backend said the task reached {@code status}: an ended task frees its principal's slot. */
  synchronized void status(String id, String status) {
    Entry entry = byId.get(id);
    if (entry != null && TERMINAL.contains(status) && !entry.ended) {
      entry.ended = true;
      Held counts = Objects.requireNonNull(held.get(entry.task.owner()), "a task's principal has its counts");
      counts.live--;
      counts.ended++;
      if (counts.ended > perPrincipal) {
        dropOldestEnded(entry.task.owner());
      }
    }
  }

  /** The backend no longer knows the task: the gateway forgets it too. */
  synchronized void forget(String id) {
    remove(id);
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

  /** The principals that hold a task or a reservation now (for tests: none is kept for nothing). */
  synchronized int principals() {
    return held.size();
  }

  /** Forgets expired tasks: at most once a second unless {@code now}. */
  private void sweep(boolean now) {
    long at = nanoTime.getAsLong();
    if (!now && at - sweptAt < SWEEP_EVERY) {
      return;
    }
    sweptAt = at;
    for (Iterator<Entry> it = byId.values().iterator(); it.hasNext(); ) {
      Entry entry = it.next();
      if (entry.expiresAt - at <= 0) {
        it.remove();
        uncount(entry);
      }
    }
  }

  /** Drops the oldest ended task of {@code owner} (any principal's when null); false when there is none. */
  private boolean dropOldestEnded(@Nullable String owner) {
    for (Iterator<Entry> it = byId.values().iterator(); it.hasNext(); ) {
      Entry entry = it.next();
      if (entry.ended && (owner == null || entry.task.owner().equals(owner))) {
        it.remove();
        uncount(entry);
        return true;
      }
    }
    return false;
  }

  private void remove(String id) {
    Entry entry = byId.remove(id);
    if (entry != null) {
      uncount(entry);
    }
  }

  private void uncount(Entry entry) {
    Held counts = Objects.requireNonNull(held.get(entry.task.owner()), "a task's principal has its counts");
    if (entry.ended) {
      counts.ended--;
    } else {
      counts.live--;
    }
    forgetIfEmpty(entry.task.owner(), counts);
  }

  private void forgetIfEmpty(String owner, Held counts) {
    if (counts.reserved == 0 && counts.live == 0 && counts.ended == 0) {
      held.remove(owner);
    }
  }
}
