package dev.sentinel.examples.clients;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The ready MCP client configs in {@code examples/clients} and the README section on them. */
class ClientConfigsTest {
  private static final Path CLIENTS = Path.of("clients");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  static Stream<Path> configs() throws Exception {
    try (Stream<Path> files = Files.walk(CLIENTS)) {
      List<Path> json = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
      return json.stream();
    }
  }

  @Test
  void configs_oneForEachClient() throws Exception {
    assertThat(configs().map(CLIENTS::relativize).map(Path::toString)).containsExactlyInAnyOrder(
        "claude-code/.mcp.json",
        "claude-desktop/claude_desktop_config.json",
        "cursor/.cursor/mcp.json");
  }

  @ParameterizedTest
  @MethodSource("configs")
  void config_runsSentinelStdioWithAConfig(Path file) throws Exception {
    JsonNode root = JSON.readTree(Files.readString(file));

    JsonNode servers = root.path("mcpServers");
    assertThat(servers.isObject()).as(file + ": mcpServers").isTrue();
    JsonNode sentinel = servers.path("sentinel");
    assertThat(sentinel.path("command").asString()).as(file + ": command").endsWith("/bin/sentinel");
    List<String> args = new ArrayList<>();
    sentinel.path("args").forEach(a -> args.add(a.asString()));
    assertThat(args).as(file + ": args").hasSize(3);
    assertThat(args.subList(0, 2)).containsExactly("stdio", "--config");
    assertThat(args.get(2)).startsWith("/").endsWith(".yaml");
  }

  @Test
  void readme_showsEveryClient() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));

    assertThat(readme).contains("## Use it from your MCP client");
    assertThat(readme).contains(
        "claude mcp add sentinel -- /path/to/sentinel/bin/sentinel stdio --config /path/to/sentinel.yaml");
    for (Path file : configs().toList()) {
      assertThat(readme).as("README links " + file).contains("examples/" + file.toString().replace('\\', '/'));
    }
  }
}
