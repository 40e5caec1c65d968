package dev.sentinel.operator;

import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.api.Clock;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.core.pinning.PinEvents;
import dev.sentinel.core.pinning.PinStore;
import dev.sentinel.core.pinning.Pins;
import dev.sentinel.core.pinning.ToolDefinitions;
import dev.sentinel.core.pinning.ToolPin;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Tool-definition pins as operators review them: list the pins and the definitions held, show
 * what changed (a semantic diff by JSON Pointer, and the hidden instructions the new definition
 * carries), approve or reject a held definition, and pin definitions ahead of first use.
 * Thread-safe: each change is one atomic {@link PinStore#update}.
 */
public final class PinOperations {
  /** The shortest digest prefix an approval may name. */
  public static final int MIN_DIGEST_PREFIX = 8;

  private final PinStore store;
  private final Clock clock;
  private final Notifier notifier;

  PinOperations(PinStore store, Clock clock, Notifier notifier) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.notifier = Objects.requireNonNull(notifier, "notifier");
  }

  /**
   * A pin with what an operator needs to decide on it.
   *
   * @param pin the pin
   * @param changes what the held definition changes in the approved one (empty when nothing is
   *     held); against nothing when no definition was approved yet
   * @param findings the hidden instructions in the held definition, or in the approved one when
   *     nothing is held
   */
  public record Review(ToolPin pin, List<ToolDefinitions.Change> changes,
      List<ToolDefinitions.Finding> findings) {
    /** Copies. */
    public Review {
      Objects.requireNonNull(pin, "pin");
      changes = List.copyOf(changes);
      findings = List.copyOf(findings);
    }
  }

  /**
   * Every pin, ordered by backend and tool.
   *
   * @throws OperatorException ({@code UNAVAILABLE}) if the store cannot be read
   */
  public List<ToolPin> list() {
    return read(store::list);
  }

  /** The pins whose listed definition is held for an operator. */
  public List<ToolPin> held() {
    List<ToolPin> held = new ArrayList<>();
    for (ToolPin pin : list()) {
      if (pin.held()) {
        held.add(pin);
      }
    }
    return held;
  }

  /**
   * One pin with its diff and findings.
   *
   * @throws OperatorException {@code NOT_FOUND} for a tool without a pin
   */
  public Review review(String backend, String tool) {
    ToolPin pin = find(backend, tool);
    return review(pin);
  }

  /** The review of a pin at hand. */
  public static Review review(ToolPin pin) {
    JsonNode approved = pin.definition() == null ? null
        : ToolDefinitions.parse(pin.definition());
    if (!pin.held()) {
      return new Review(pin, List.of(), hiddenInstructions(approved));
    }
    // held: a definition is pending
    JsonNode pending = ToolDefinitions.parse(
        Objects.requireNonNull(pin.pendingDefinition(), "pending definition"));
    return new Review(pin, ToolDefinitions.diff(approved, pending),
        ToolDefinitions.hiddenInstructions(pending));
  }

  /** {@link ToolDefinitions#hiddenInstructions}, none for no definition. */
  private static List<ToolDefinitions.Finding> hiddenInstructions(@Nullable JsonNode definition) {
    return definition == null ? List.of() : ToolDefinitions.hiddenInstructions(definition);
  }

  /**
   * Approves the held definition: the tool is listed and callable again with it.
   *
   * @param digest the held definition's digest (or a prefix of at least {@value
   *     #MIN_DIGEST_PREFIX} characters) as the operator reviewed it, or {@code null} to approve
   *     whatever is held; a definition that changed again since is not approved
   * @param by who approves, for the record
   * @throws OperatorException {@code NOT_FOUND} for a tool without a pin; {@code CONFLICT} when
   *     nothing is held or the held definition is not the one named; {@code UNAVAILABLE} if the
   *     store cannot be written
   */
  public ToolPin approve(String backend, String tool, @Nullable String digest, String by) {
    String who = who(by);
    checkPrefix(digest);
    find(backend, tool);
    ToolPin[] before = new ToolPin[1];
    ToolPin after = write(() -> store.update(backend, tool, pin -> {
      before[0] = pin;
      if (pin == null) {
        throw notFound(backend, tool);
      }
      if (!pin.held()) {
        throw OperatorException.conflict("nothing is held for tool '" + tool + "' of backend '"
            + backend + "': its listed definition is the approved one");
      }
      // held: a digest is pending
      String pending = Objects.requireNonNull(pin.pendingDigest(), "pending digest");
      if (digest != null && !pending.startsWith(digest.strip())) {
        throw OperatorException.conflict("the held definition of tool '" + tool + "' is "
            + pin.pendingDigest() + ", not " + digest.strip() + ": it changed since it was"
            + " reviewed; review it again (sentinel tools diff)");
      }
      return new ToolPin(backend, tool, pin.pendingDigest(), pin.pendingDefinition(), null, null,
          false, clock.instant(), who);
    }));
    notifier.send(PinEvents.decided(before[0], after, who, after.updatedAt()));
    return after;
  }

  /**
   * Rejects the held definition: the tool stays hidden and refused, and the rejection is shown,
   * until the backend lists the approved definition again (or another one, held anew).
   *
   * @throws OperatorException {@code NOT_FOUND} for a tool without a pin; {@code CONFLICT} when
   *     nothing is held
   */
  public ToolPin reject(String backend, String tool, String by) {
    String who = who(by);
    find(backend, tool);
    ToolPin[] before = new ToolPin[1];
    ToolPin after = write(() -> store.update(backend, tool, pin -> {
      before[0] = pin;
      if (pin == null) {
        throw notFound(backend, tool);
      }
      if (!pin.held()) {
        throw OperatorException.conflict("nothing is held for tool '" + tool + "' of backend '"
            + backend + "' to reject");
      }
      return new ToolPin(backend, tool, pin.digest(), pin.definition(), pin.pendingDigest(),
          pin.pendingDefinition(), true, clock.instant(), who);
    }));
    notifier.send(PinEvents.decided(before[0], after, who, after.updatedAt()));
    return after;
  }

  /**
   * Pins definitions ahead, as approved: the tools of a {@code tools/list} result ({@code
   * {"tools": [...]}}), a list of tools, or one tool.
   *
   * @return the pins written, in the order given
   * @throws OperatorException {@code INVALID} for input that holds no tool or a tool without a
   *     name; {@code UNAVAILABLE} if the store cannot be written
   */
  public List<ToolPin> pin(String backend, JsonNode definitions, String by) {
    String who = who(by);
    if (backend == null || backend.isBlank()) {
      throw OperatorException.invalid("a backend is required: the tools are pinned for the"
          + " backend that lists them");
    }
    Objects.requireNonNull(definitions, "definitions");
    JsonNode tools = definitions.has("tools") ? definitions.get("tools")
        : definitions.isArray() ? definitions : null;
    List<JsonNode> items = new ArrayList<>();
    if (tools == null && definitions.isObject()) {
      items.add(definitions);
    } else if (tools != null && tools.isArray()) {
      tools.forEach(items::add);
    }
    if (items.isEmpty()) {
      throw OperatorException.invalid("no tool definitions found: expected a tools/list result"
          + " {\"tools\": [...]}, a list of tools, or one tool");
    }
    for (int i = 0; i < items.size(); i++) {
      if (!items.get(i).isObject() || !items.get(i).path("name").isString()) {
        throw OperatorException.invalid("tool " + i + " has no name: each tool needs \"name\"");
      }
    }
    List<ToolPin> pinned = new ArrayList<>();
    for (JsonNode item : items) {
      String canonical = ToolDefinitions.canonicalJson(item);
      String digest = ToolDefinitions.sha256(canonical);
      String name = item.get("name").stringValue();
      pinned.add(write(() -> Pins.pin(store, backend.strip(), name, digest, canonical, who,
          clock.instant())));
    }
    return pinned;
  }

  private ToolPin find(String backend, String tool) {
    if (backend == null || backend.isBlank() || tool == null || tool.isBlank()) {
      throw OperatorException.invalid("a backend and a tool are required, as the backend names"
          + " the tool (without the gateway's prefix)");
    }
    return read(() -> store.get(backend, tool)).orElseThrow(() -> notFound(backend, tool));
  }

  private static OperatorException notFound(String backend, String tool) {
    return OperatorException.notFound("no pin for tool '" + tool + "' of backend '" + backend
        + "'; sentinel tools pins lists them (tools are named as their backend lists them)");
  }

  private static void checkPrefix(@Nullable String digest) {
    if (digest != null && (digest.strip().length() < MIN_DIGEST_PREFIX
        || !digest.strip().matches("[0-9a-f]+"))) {
      throw OperatorException.invalid("digest '" + digest + "' must be at least "
          + MIN_DIGEST_PREFIX + " lower-case hex characters of the held definition's digest");
    }
  }

  private static String who(String by) {
    if (by == null || by.isBlank()) {
      throw OperatorException.invalid("who decides is required, for the record");
    }
    return by.strip();
  }

  private static <T> T read(java.util.function.Supplier<T> read) {
    try {
      return read.get();
    } catch (OperatorException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new OperatorException(OperatorException.Kind.UNAVAILABLE, "the tool pins could not"
          + " be read: try again", e);
    }
  }

  private static <T> T write(java.util.function.Supplier<T> write) {
    try {
      return write.get();
    } catch (OperatorException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new OperatorException(OperatorException.Kind.UNAVAILABLE, "the tool pins could not"
          + " be written; nothing changed: try again", e);
    }
  }
}
