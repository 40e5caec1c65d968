package dev.sentinel.core.pinning;

import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Where tool pins are kept: in this process ({@link #inMemory()}), or in a database that every
 * gateway on it shares (sentinel-jdbc's {@code JdbcPinStore}, table {@code sentinel_tool_pin}).
 * What a change means is decided once, in {@link Pins}, over {@link #update}.
 *
 * <p>Implementations are thread-safe.
 */
public interface PinStore {

  /**
   * The pin of one tool, if any.
   *
   * @throws RuntimeException if the store cannot be read
   */
  Optional<ToolPin> get(String backend, String tool);

  /**
   * Every pin, ordered by backend then tool.
   *
   * @throws RuntimeException if the store cannot be read
   */
  List<ToolPin> list();

  /**
   * Changes one tool's pin atomically: {@code change} gets the stored pin ({@code null} when
   * there is none) and answers the next ({@code null} to leave it absent), which is stored unless
   * it is equal. Two gateways observing the same tool at once never lose each other's change.
   *
   * @return the stored pin now, or {@code null} when there is none
   * @throws RuntimeException if the store cannot be read or written; it is then unchanged
   */
  ToolPin update(String backend, String tool, UnaryOperator<ToolPin> change);

  /** A store in this process's memory: pins last as long as it runs. */
  static PinStore inMemory() {
    return new InMemoryPinStore();
  }
}
