package dev.sentinel.mcp.engine;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.Pinning;
import dev.sentinel.core.pinning.PinStore;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.core.pinning.PinEvents;
import dev.sentinel.core.pinning.Pins;
import dev.sentinel.core.pinning.ToolDefinitions;
import dev.sentinel.core.pinning.ToolPin;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The gateway's view of the tool pins: whether a definition a backend lists is the approved
 * one, answered from memory for definitions already seen, and from the {@link PinStore} (where
 * {@link Pins#observe} records first sightings and changes) for the others.
 *
 * <p>A held definition is asked of the store again at most every {@link #RECHECK}, so that an
 * approval made on another gateway (or with {@code sentinel tools approve} on the database) is
 * seen without a flood of refused calls reaching the database; a change made through {@link
 * #store()} (this gateway's admin API) applies at once.
 *
 * <p>Thread-safe.
 */
final class ToolPins {
  private static final Logger log = LoggerFactory.getLogger(ToolPins.class);
  /** How long a held definition is answered from memory before the store is asked again. */
  static final Duration RECHECK = Duration.ofSeconds(1);
  private static final int MAX_REMEMBERED = 10_000;

  /** What a listed definition gets. */
  enum Verdict {
    /** The approved definition. */
    APPROVED,
    /** Another definition, held for an operator. */
    HELD,
    /** Held: a definition carrying hidden instructions, blocked by the config. */
    HIDDEN_INSTRUCTIONS,
    /** The store could not be asked; deciders fail closed. */
    UNAVAILABLE
  }

  /**
   * What is known of one tool's pin: the approved digest, and a held one with when it was read.
   * The approved definition listed while another is held goes to the store once, to settle it.
   */
  private record Entry(@Nullable String approved, @Nullable String pending, boolean pendingHidden, long readAt) {}

  private final PinStore store;
  private final Clock clock;
  private final Map<String, Map<String, Entry>> known = new ConcurrentHashMap<>();
  /** Digests already scanned for hidden instructions, with whether they carry any. */
  private final Map<String, Boolean> scanned = new ConcurrentHashMap<>();
  private final AtomicLong hiddenInstructions = new AtomicLong();
  private final Set<String> warned = ConcurrentHashMap.newKeySet();
  /**
   * Pins by listed definition (compared whole, as JSON): a connection listing definitions another
   * has listed (each new session's, under per-session isolation) does not hash them again.
   */
  private final Map<JsonNode, String> digests = new ConcurrentHashMap<>();
  private final PinStore view;
  private final Notifier notifier;

  ToolPins(PinStore store, Clock clock, Notifier notifier) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.notifier = Objects.requireNonNull(notifier, "notifier");
    this.view = new View();
  }

  /**
   * The pins as operators change them through this gateway: the store, with each change applied
   * to this gateway at once.
   */
  PinStore store() {
    return view;
  }

  /** How many listed definitions carrying hidden instructions this gateway has seen. */
  long hiddenInstructionsSeen() {
    return hiddenInstructions.get();
  }

  /**
   * The verdict on a listed definition of a backend's tool.
   *
   * @param tool the listed tool, whose {@link ToolListing.Tool#pinDigest()} is computed once
   */
  Verdict check(String backend, Pinning pinning, ToolListing.Tool tool) {
    Map<String, Entry> tools = known.get(backend);
    if (tools == null) {
      tools = preload(backend);
    }
    Entry entry = tools == null ? null : tools.get(tool.name);
    String digest = digest(tool);
    if (entry != null && digest.equals(entry.approved) && entry.pending == null) {
      return Verdict.APPROVED;
    }
    long now = clock.nanoTime();
    if (entry != null && digest.equals(entry.pending) && now - entry.readAt < RECHECK.toNanos()) {
      return held(pinning, entry.pendingHidden);
    }
    return observe(backend, pinning, tool, digest, now);
  }

  /** The pin of a listed definition, computed once per distinct definition this gateway saw. */
  private String digest(ToolListing.Tool tool) {
    String digest = tool.knownPinDigest();
    if (digest != null) {
      return digest;
    }
    digest = digests.get(tool.definition);
    if (digest != null) {
      tool.knownPinDigest(digest);
      return digest;
    }
    digest = tool.pinDigest();
    if (digests.size() >= MAX_REMEMBERED) {
      digests.clear();
    }
    digests.put(tool.definition, digest);
    return digest;
  }

  private Verdict observe(String backend, Pinning pinning, ToolListing.Tool tool, String digest,
      long now) {
    String canonical = tool.canonical();
    boolean hidden = scan(backend, tool.name, digest, canonical);
    ToolPin pin;
    try {
      // A read first: only a sighting that changes the pin takes the store's write lock.
      pin = store.get(backend, tool.name).orElse(null);
      if (pin == null || !pin.approves(digest) || pin.held()) {
        Pins.Observed observed = Pins.observeChange(store, backend, tool.name, digest, canonical,
            hidden && pinning.blockHiddenInstructions(), clock.instant());
        pin = observed.pin();
        if (observed.newlyHeld()) {
          // Only the gateway whose sighting recorded the change tells the operators.
          notifier.send(PinEvents.changed(pin, pinning.mode() == Pinning.Mode.ENFORCE
              || hidden && pinning.blockHiddenInstructions(), hidden, clock.instant()));
        }
      }
    } catch (RuntimeException e) {
      log.warn("cannot check tool {} of backend {} against its pin: {}", tool.name, backend,
          e.toString());
      return Verdict.UNAVAILABLE;
    }
    remember(backend, tool.name, new Entry(pin.digest(), pin.pendingDigest(), hidden, now));
    if (pin.approves(digest)) {
      return Verdict.APPROVED;
    }
    if (remember(warned, backend + '\u0000' + tool.name + '\u0000' + digest)) {
      log.warn("backend {} lists a definition of tool {} that is not the approved one ({}): {}"
          + "; review it with: sentinel tools diff {} {}", backend, tool.name,
          digest.substring(0, 12), pinning.mode() == Pinning.Mode.ENFORCE || hidden
              && pinning.blockHiddenInstructions() ? "held until an operator approves it"
              : "forwarded (pinning: warn)", backend, tool.name);
    }
    return held(pinning, hidden);
  }

  /**
   * What the store holds for a backend, read in one query the first time one of its tools is
   * checked (after a start, most are known and approved); {@code null} if it cannot be read.
   */
  private synchronized @Nullable Map<String, Entry> preload(String backend) {
    Map<String, Entry> tools = known.get(backend);
    if (tools != null) {
      return tools;
    }
    List<ToolPin> stored;
    try {
      stored = store.list();
    } catch (RuntimeException e) {
      log.warn("cannot read the tool pins of backend {}: {}", backend, e.toString());
      return null;
    }
    long now = clock.nanoTime();
    Map<String, Entry> loaded = new ConcurrentHashMap<>();
    for (ToolPin pin : stored) {
      if (pin.backend().equals(backend) && loaded.size() < MAX_REMEMBERED) {
        // A held definition's hidden instructions are not known here: scanned when it is listed.
        loaded.put(pin.tool(), new Entry(pin.digest(), pin.pendingDigest(), false, now - RECHECK.toNanos()));
      }
    }
    known.put(backend, loaded);
    return loaded;
  }

  private static Verdict held(Pinning pinning, boolean hidden) {
    return hidden && pinning.blockHiddenInstructions() ? Verdict.HIDDEN_INSTRUCTIONS : Verdict.HELD;
  }

  /** Scans a definition seen for the first time; logs and counts what it hides. */
  private boolean scan(String backend, String tool, String digest, String canonical) {
    Boolean known = scanned.get(digest);
    if (known != null) {
      return known;
    }
    List<ToolDefinitions.Finding> findings =
        ToolDefinitions.hiddenInstructions(ToolDefinitions.parse(canonical));
    if (scanned.size() >= MAX_REMEMBERED) {
      scanned.clear();
    }
    if (scanned.putIfAbsent(digest, !findings.isEmpty()) == null && !findings.isEmpty()) {
      hiddenInstructions.incrementAndGet();
      ToolDefinitions.Finding first = findings.get(0);
      log.warn("tool {} of backend {} carries hidden instructions ({} finding{}; first: {} at {}:"
          + " {}); see sentinel tools diff {} {}", tool, backend, findings.size(),
          findings.size() == 1 ? "" : "s", first.kind(), first.pointer(), first.detail(), backend,
          tool);
    }
    return !findings.isEmpty();
  }

  private void remember(String backend, String tool, Entry entry) {
    Map<String, Entry> tools = known.computeIfAbsent(backend, b -> new ConcurrentHashMap<>());
    if (tools.size() >= MAX_REMEMBERED && !tools.containsKey(tool)) {
      tools.clear();
    }
    tools.put(tool, entry);
  }

  private void forget(String backend, String tool) {
    Map<String, Entry> tools = known.get(backend);
    if (tools != null) {
      tools.remove(tool);
    }
  }

  private static boolean remember(Set<String> seen, String key) {
    if (seen.size() >= MAX_REMEMBERED) {
      seen.clear();
    }
    return seen.add(key);
  }

  /** The store, forgetting what this gateway knew of a pin as it changes. */
  private final class View implements PinStore {
    @Override
    public Optional<ToolPin> get(String backend, String tool) {
      return store.get(backend, tool);
    }

    @Override
    public List<ToolPin> list() {
      return store.list();
    }

    @Override
    public ToolPin update(String backend, String tool, UnaryOperator<ToolPin> change) {
      try {
        return store.update(backend, tool, change);
      } finally {
        forget(backend, tool);
      }
    }
  }
}
