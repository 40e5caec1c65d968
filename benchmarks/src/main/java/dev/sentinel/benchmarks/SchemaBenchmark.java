package dev.sentinel.benchmarks;

import dev.sentinel.mcp.engine.ToolSchema;
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

/**
 * What checking a {@code tools/call}'s arguments against the tool's input schema adds to the
 * call: {@code validTypical} validates typical arguments against a typical MCP tool schema (an
 * object with five typed properties, one an enum and one with bounds, two required,
 * {@code additionalProperties: false}), compiled once as the gateway caches it;
 * {@code validSmall} a one-property schema; {@code invalidAlias} the refusal path, arguments with
 * an alias key and a string for a number, down to the reason text; {@code digest} the SHA-256 the
 * gateway takes of each listed schema (at {@code tools/list}, not per call). {@code baseline}
 * returns a prebuilt verdict: the difference is the cost.
 *
 * <p>Run: {@code benchmarks/run SchemaBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SchemaBenchmark {
  private static final String TYPICAL = "{\"type\":\"object\",\"properties\":{"
      + "\"path\":{\"type\":\"string\",\"description\":\"the file to write\"},"
      + "\"content\":{\"type\":\"string\"},"
      + "\"mode\":{\"type\":\"string\",\"enum\":[\"overwrite\",\"append\"]},"
      + "\"maxBytes\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1048576},"
      + "\"dryRun\":{\"type\":\"boolean\"}"
      + "},\"required\":[\"path\",\"content\"],\"additionalProperties\":false,"
      + "\"$schema\":\"http://json-schema.org/draft-07/schema#\"}";

  private ToolSchema typical;
  private ToolSchema small;
  private JsonNode typicalSchema;
  private JsonNode typicalArguments;
  private JsonNode smallArguments;
  private JsonNode hostileArguments;
  private ToolSchema.Verdict prebuilt;

  @Setup
  public void setUp() {
    JsonMapper json = JsonMapper.shared();
    typicalSchema = json.readTree(TYPICAL);
    typical = ToolSchema.compile(typicalSchema);
    small = ToolSchema.compile(json.readTree(
        "{\"type\":\"object\",\"properties\":{\"sql\":{\"type\":\"string\"}},\"required\":[\"sql\"]}"));
    typicalArguments = json.readTree("{\"path\":\"/workspace/notes/today.md\",\"content\":\"# Notes\\n\\n"
        + "Met with the payments team about the refund flow.\",\"mode\":\"append\",\"maxBytes\":65536,"
        + "\"dryRun\":false}");
    smallArguments = json.readTree("{\"sql\":\"select id, name from users where id = 42\"}");
    hostileArguments = json.readTree("{\"PATH\":\"/etc/passwd\",\"content\":\"x\",\"maxBytes\":\"0x1388\"}");
    prebuilt = ToolSchema.Verdict.VALID;
    if (!typical.validate(typicalArguments).valid() || !small.validate(smallArguments).valid()
        || typical.validate(hostileArguments).valid()) {
      throw new IllegalStateException("the schemas do not validate as intended");
    }
  }

  @Benchmark
  public ToolSchema.Verdict baseline() {
    return prebuilt;
  }

  @Benchmark
  public ToolSchema.Verdict validTypical() {
    return typical.validate(typicalArguments);
  }

  @Benchmark
  public ToolSchema.Verdict validSmall() {
    return small.validate(smallArguments);
  }

  @Benchmark
  public ToolSchema.Verdict invalidAlias() {
    return typical.validate(hostileArguments);
  }

  @Benchmark
  public String digest() {
    return ToolSchema.digest(typicalSchema);
  }
}
