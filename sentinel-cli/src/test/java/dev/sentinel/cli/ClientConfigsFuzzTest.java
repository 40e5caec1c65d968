package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.databind.node.ObjectNode;

/**
 * Fuzz targets for the client files {@code sentinel init} reads and {@code sentinel client add}
 * edits ({@code benchmarks/fuzz ClientConfigsFuzzTest}): any bytes are an object or one line a
 * person can act on; a secret in any value position never reaches the written config.
 */
class ClientConfigsFuzzTest {
  private static final Path DIR = directory();
  private static final String SECRET = "ghp_Zq8Xv4Lm2Np6Rt0Yw3Bc7Df1Gh5Jk9Ms2Qa4";

  /** Any bytes: a JSON object, or a {@link UserError} of one line; never another exception. */
  @FuzzTest
  void read_anyBytes_isAnObjectOrOneLineError(FuzzedDataProvider data) throws IOException {
    Path file = DIR.resolve("mcp.json");
    Files.write(file, data.consumeRemainingAsBytes());
    ObjectNode root;
    try {
      root = ClientConfigs.read(file);
    } catch (UserError e) {
      assertThat(e.line()).doesNotContain("\n").startsWith("sentinel: ");
      return;
    }
    assertThat(ClientConfigs.JSON.readTree(ClientConfigs.write(root))).isEqualTo(root);
    try {
      InitCommand.Plan.of(ClientConfigs.servers(file, root, DIR));
    } catch (UserError e) {
      assertThat(e.line()).doesNotContain("\n");
    }
  }

  /**
   * Servers built from the input, a secret planted in env values, header values, arguments
   * and url query values: the config either is planned without the secret in it, or refused in
   * one line that does not show it either.
   */
  @FuzzTest
  void plan_anyServers_neverWritesAPlantedSecret(FuzzedDataProvider data) throws IOException {
    ObjectNode root = ClientConfigs.JSON.createObjectNode();
    ObjectNode servers = root.putObject("mcpServers");
    int count = data.consumeInt(1, 4);
    for (int i = 0; i < count; i++) {
      ObjectNode server = servers.putObject(data.consumeString(12));
      if (data.consumeBoolean()) {
        server.put("command", data.consumeString(16));
        var args = server.putArray("args");
        for (int a = data.consumeInt(0, 4); a > 0; a--) {
          args.add(value(data));
        }
      } else {
        server.put("type", data.pickValue(List.of("http", "sse", "stdio", "x")));
        server.put("url", data.consumeString(20) + "?" + data.consumeString(6) + "=" + value(data));
        server.putObject("headers").put(data.consumeString(10), value(data));
      }
      var env = server.putObject("env");
      for (int e = data.consumeInt(0, 3); e > 0; e--) {
        env.put(data.consumeString(10), value(data));
      }
    }
    Path file = DIR.resolve("plan.json");
    Files.writeString(file, ClientConfigs.write(root));
    String text;
    try {
      InitCommand.Plan plan = InitCommand.Plan.of(
          ClientConfigs.servers(file, ClientConfigs.read(file), DIR));
      text = plan.config("ann", List.of(file)) + plan.policy(InitCommand.Unknown.CONFIRM,
          java.util.Map.of(), null) + plan.tests(InitCommand.Unknown.DENY, java.util.Map.of(),
          "ann");
    } catch (UserError e) {
      text = e.line();
      assertThat(text).doesNotContain("\n");
    }
    assertThat(text).doesNotContain(SECRET);
  }

  /** Fuzzed text, or the secret, alone or after a scheme. */
  private static String value(FuzzedDataProvider data) {
    return switch (data.consumeInt(0, 3)) {
      case 0 -> SECRET;
      case 1 -> "Bearer " + SECRET;
      default -> data.consumeString(24);
    };
  }

  private static Path directory() {
    try {
      Path dir = Files.createTempDirectory("sentinel-client-fuzz");
      dir.toFile().deleteOnExit();
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
