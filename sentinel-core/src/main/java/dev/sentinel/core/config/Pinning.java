package dev.sentinel.core.config;

import java.util.Objects;

/**
 * What the gateway does when a backend lists a tool whose definition (name, title, description,
 * input and output schema, annotations) differs from the pinned one (the config's {@code
 * pinning}; see sentinel-core's {@code dev.sentinel.core.pinning}).
 *
 * @param mode what a changed definition gets
 * @param blockHiddenInstructions whether a definition carrying hidden instructions (invisible
 *     Unicode tag characters, bidirectional controls, zero-width characters, text addressed to
 *     the model) is held like a changed one, even on first sight; reported either way
 */
public record Pinning(Mode mode, boolean blockHiddenInstructions) {

  /** What a changed tool definition gets. */
  public enum Mode {
    /** Not pinned: definitions are not hashed nor compared. */
    OFF,
    /**
     * Pinned and compared; a changed definition is listed and its calls forwarded, and the
     * change is logged, recorded in each call's audit event and kept for {@code tools diff}.
     */
    WARN,
    /**
     * A changed definition is held: the tool is hidden from {@code tools/list} and its calls
     * refused with {@code -32018} (recorded as {@code DENIED} by rule {@code pinning}) until an
     * operator approves the new definition.
     */
    ENFORCE
  }

  /** Enforced, hidden instructions reported but not blocked: {@code sentinel http}'s default. */
  public static final Pinning ENFORCE = new Pinning(Mode.ENFORCE, false);
  /** Warned, hidden instructions reported but not blocked: {@code sentinel stdio}'s default. */
  public static final Pinning WARN = new Pinning(Mode.WARN, false);
  /** Off. */
  public static final Pinning OFF = new Pinning(Mode.OFF, false);

  /** Validates. */
  public Pinning {
    Objects.requireNonNull(mode, "mode");
  }
}
