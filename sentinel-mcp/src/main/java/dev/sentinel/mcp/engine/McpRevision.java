package dev.sentinel.mcp.engine;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The MCP protocol revisions Sentinel speaks, and what each allows. Every version-dependent
 * choice of the gateway asks this enum, so routing never compares version strings itself; a new
 * revision (such as the stateless 2026-07-28, which has no {@code initialize}) is added here.
 *
 * <p>Any revision can talk to any other through the gateway: the client side and each backend
 * negotiate their revision independently.
 */
public enum McpRevision {
  /** The first dated revision. */
  V2024_11_05("2024-11-05"),
  /** Adds the {@code completions} capability, tool annotations, audio content, JSON-RPC batches. */
  V2025_03_26("2025-03-26"),
  /** Removes batching; adds elicitation, structured tool output, resource links, titles. */
  V2025_06_18("2025-06-18"),
  /** Adds tasks, icons, URL-mode elicitation and sampling with tools. */
  V2025_11_25("2025-11-25"),
  /**
   * Stateless: no {@code initialize}, no session; every request carries its version, client
   * capabilities and client info in {@code _meta} ({@link StatelessMeta}); {@code server/discover};
   * {@code resultType} on every result.
   */
  V2026_07_28("2026-07-28");

  /** The revisions that start a session with {@code initialize}, oldest first. */
  private static final List<McpRevision> ALL = List.of(V2024_11_05, V2025_03_26, V2025_06_18, V2025_11_25);
  /** The stateless revisions, newest first. */
  private static final List<McpRevision> STATELESS = List.of(V2026_07_28);

  private final String version;

  McpRevision(String version) {
    this.version = version;
  }

  /** The version string on the wire, such as {@code 2025-06-18}. */
  public String version() {
    return version;
  }

  /**
   * The newest revision Sentinel negotiates through {@code initialize}: what it offers backends
   * and answers a client's {@code initialize} that names a version it does not negotiate.
   */
  public static McpRevision latest() {
    return ALL.get(ALL.size() - 1);
  }

  /** Every revision negotiated through {@code initialize}, oldest first (not the stateless ones). */
  public static List<McpRevision> all() {
    return ALL;
  }

  /** The stateless revisions (no {@code initialize}), newest first. */
  public static List<McpRevision> stateless() {
    return STATELESS;
  }

  /**
   * Every version Sentinel speaks, newest first, as {@code server/discover} and an unsupported
   * version's error list them.
   */
  public static List<String> supportedVersions() {
    List<String> versions = new java.util.ArrayList<>();
    STATELESS.forEach(revision -> versions.add(revision.version));
    for (int i = ALL.size() - 1; i >= 0; i--) {
      versions.add(ALL.get(i).version);
    }
    return List.copyOf(versions);
  }

  /** The stateless revision with this version string, if Sentinel speaks it. */
  public static Optional<McpRevision> ofStateless(String version) {
    for (McpRevision revision : STATELESS) {
      if (revision.version.equals(version)) {
        return Optional.of(revision);
      }
    }
    return Optional.empty();
  }

  /** The revision negotiated through {@code initialize} with this version string, if Sentinel speaks it. */
  public static Optional<McpRevision> of(String version) {
    for (McpRevision revision : ALL) {
      if (revision.version.equals(version)) {
        return Optional.of(revision);
      }
    }
    return Optional.empty();
  }

  /**
   * What to answer a client's {@code initialize}: its own version if Sentinel speaks it, else the
   * latest (the client then decides whether to go on, as the specification says).
   */
  public static McpRevision negotiate(String requested) {
    return of(Objects.requireNonNullElse(requested, "")).orElse(latest());
  }

  /** Whether a session starts with {@code initialize}; false for the stateless 2026-07-28. */
  public boolean requiresInitialize() {
    return this != V2026_07_28;
  }

  /** Whether the server declares completion support through a {@code completions} capability. */
  public boolean hasCompletionsCapability() {
    return compareTo(V2025_03_26) >= 0;
  }

  /** Whether a server may send {@code elicitation/create} to clients of this revision. */
  public boolean supportsElicitation() {
    return compareTo(V2025_06_18) >= 0;
  }

  /**
   * Whether JSON-RPC batches are part of the revision (2025-03-26 only). Sentinel rejects batches
   * from every client anyway: no client library sends them, and the next revision removed them.
   */
  public boolean allowsBatches() {
    return this == V2025_03_26;
  }

  @Override
  public String toString() {
    return version;
  }
}
