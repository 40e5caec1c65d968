package dev.sentinel.mcp.engine;

import dev.sentinel.api.Clock;
import dev.sentinel.core.config.Pinning;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.core.pinning.PinStore;
import dev.sentinel.core.pinning.ToolDefinitions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;

/**
 * What tool-definition pinning adds to calls and lists (issue 13, item 6). In the engine's
 * package because {@code ToolPins} and {@code ToolListing} are package-private: the engine
 * promises no public API for them.
 *
 * <ul>
 *   <li>{@code callCheck}: the pin check of a {@code tools/call} whose tool the session's
 *       connection listed and whose definition is approved: what every call under {@code
 *       pinning: enforce} pays (a map lookup per backend and tool, a digest comparison).
 *   <li>{@code listCheck100}: the pin checks of a {@code tools/list} page of 100 typical tools
 *       that the connection listed before, unchanged (the steady state: each definition is
 *       compared with the one listed, and its digest is not computed again).
 *   <li>{@code listCheck100Fresh}: the same page as a connection's first listing (a new
 *       session's connection, or after {@code list_changed}) of definitions another connection
 *       listed before: each is found among the definitions seen (compared whole) and checked.
 *   <li>{@code listCheck100New}: a page of 100 definitions this gateway never saw (its first
 *       listing after a start): each is made canonical and hashed with SHA-256, then checked;
 *       the pins are known (no store access).
 *   <li>{@code listFresh100WithoutPins}: that first listing without pinning, its baseline.
 *   <li>{@code digestOne}: canonical JSON and SHA-256 of one typical definition.
 * </ul>
 *
 * <p>{@code baseline} returns a prebuilt verdict: the difference is the cost. Run: {@code
 * benchmarks/run PinningBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PinningBenchmark {
  private static final int TOOLS = 100;

  private ToolPins pins;
  private final Pinning pinning = Pinning.ENFORCE;
  private ToolListing.Tool called;
  private ArrayNode page;
  private Map<String, ToolListing.Tool> listed;
  private ToolPins.Verdict prebuilt;

  /** A typical MCP tool: a description of a few sentences, five typed properties, annotations. */
  static String tool(int i) {
    return "{\"name\":\"tool_" + i + "\",\"title\":\"Tool " + i + "\",\"description\":\"Writes"
        + " content to a file in the workspace. Creates the file if it does not exist; appends or"
        + " overwrites as the mode says. Fails if the path is outside the workspace.\","
        + "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
        + "\"path\":{\"type\":\"string\",\"description\":\"the file to write\"},"
        + "\"content\":{\"type\":\"string\"},"
        + "\"mode\":{\"type\":\"string\",\"enum\":[\"overwrite\",\"append\"]},"
        + "\"maxBytes\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1048576},"
        + "\"dryRun\":{\"type\":\"boolean\"}},"
        + "\"required\":[\"path\",\"content\"],\"additionalProperties\":false},"
        + "\"annotations\":{\"destructiveHint\":true,\"idempotentHint\":false}}";
  }

  @Setup
  public void setUp() {
    pins = new ToolPins(PinStore.inMemory(), Clock.system(), Notifier.none());
    JsonMapper json = JsonMapper.shared();
    page = json.createArrayNode();
    listed = new HashMap<>();
    for (int i = 0; i < TOOLS; i++) {
      JsonNode item = json.readTree(tool(i));
      page.add(item);
      ToolListing.Tool tool = new ToolListing.Tool("tool_" + i, item);
      listed.put(tool.name, tool);
      // First sight: pinned (trust on first use) and remembered.
      if (pins.check("db", pinning, tool) != ToolPins.Verdict.APPROVED) {
        throw new IllegalStateException("not approved on first sight");
      }
    }
    called = listed.get("tool_42");
    prebuilt = ToolPins.Verdict.APPROVED;
    if (listCheck100Fresh() != 0 || listCheck100() != 0) {
      throw new IllegalStateException("a tool is held");
    }
  }

  @Benchmark
  public ToolPins.Verdict baseline() {
    return prebuilt;
  }

  @Benchmark
  public ToolPins.Verdict callCheck() {
    return pins.check("db", pinning, called);
  }

  /** The router's loop over a page (Router#heldTools), against the connection's listing. */
  @Benchmark
  public int listCheck100() {
    int held = 0;
    for (JsonNode item : page) {
      String name = item.path("name").stringValue();
      ToolListing.Tool tool = listed.get(name);
      if (tool == null || !tool.definition.equals(item)) {
        tool = new ToolListing.Tool(name, item);
      }
      if (pins.check("db", pinning, tool) != ToolPins.Verdict.APPROVED) {
        held++;
      }
    }
    return held;
  }

  @Benchmark
  public int listCheck100Fresh() {
    int held = 0;
    for (JsonNode item : page) {
      ToolListing.Tool tool = new ToolListing.Tool(item.path("name").stringValue(), item);
      if (pins.check("db", pinning, tool) != ToolPins.Verdict.APPROVED) {
        held++;
      }
    }
    return held;
  }

  @Benchmark
  public int listCheck100New(Unseen unseen) {
    ToolPins fresh = unseen.next(pins);
    int held = 0;
    for (JsonNode item : page) {
      ToolListing.Tool tool = new ToolListing.Tool(item.path("name").stringValue(), item);
      if (fresh.check("db", pinning, tool) != ToolPins.Verdict.APPROVED) {
        held++;
      }
    }
    return held;
  }

  /**
   * A gateway that knows the pins but has seen none of the definitions (a new one per
   * invocation, whose set-up is not measured).
   */
  @State(Scope.Thread)
  public static class Unseen {
    private ToolPins next;
    private PinStore store;

    @Setup(org.openjdk.jmh.annotations.Level.Invocation)
    public void prepare(PinningBenchmark benchmark) {
      if (store == null) {
        store = PinStore.inMemory();
        for (JsonNode item : benchmark.page) {
          ToolListing.Tool tool = new ToolListing.Tool(item.path("name").stringValue(), item);
          dev.sentinel.core.pinning.Pins.observe(store, "db", tool.name, tool.pinDigest(),
              tool.canonical(), false, java.time.Instant.EPOCH);
        }
      }
      next = new ToolPins(store, Clock.system(), Notifier.none());
      // Its pins loaded, as after the first check of a backend.
      next.check("db", benchmark.pinning, new ToolListing.Tool("warm",
          JsonMapper.shared().readTree("{\"name\":\"warm\"}")));
    }

    ToolPins next(ToolPins ignored) {
      return next;
    }
  }

  /**
   * The baseline of {@code listCheck100Fresh}: what a first listing costs without pinning
   * (recording each tool, with the SHA-256 of its input schema that validation keys on).
   */
  @Benchmark
  public int listFresh100WithoutPins() {
    int made = 0;
    for (JsonNode item : page) {
      ToolListing.Tool tool = new ToolListing.Tool(item.path("name").stringValue(), item);
      made += tool.digest.length();
    }
    return made;
  }

  @Benchmark
  public String digestOne() {
    return ToolDefinitions.digest(page.get(7));
  }
}
