package dev.sentinel.core.pinning;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/** {@link PinStore#inMemory()}. Thread-safe: every operation holds the instance lock. */
final class InMemoryPinStore implements PinStore {
  private final Map<String, ToolPin> pins = new TreeMap<>();

  private static String key(String backend, String tool) {
    return backend + '\u0000' + tool;
  }

  @Override
  public synchronized Optional<ToolPin> get(String backend, String tool) {
    return Optional.ofNullable(pins.get(key(backend, tool)));
  }

  @Override
  public synchronized List<ToolPin> list() {
    return List.copyOf(new ArrayList<>(pins.values()));
  }

  @Override
  public synchronized ToolPin update(String backend, String tool, UnaryOperator<ToolPin> change) {
    Objects.requireNonNull(change, "change");
    String key = key(backend, tool);
    ToolPin next = change.apply(pins.get(key));
    if (next == null) {
      pins.remove(key);
    } else {
      pins.put(key, next);
    }
    return next;
  }
}
