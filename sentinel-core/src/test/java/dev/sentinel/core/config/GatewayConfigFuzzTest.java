package dev.sentinel.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Fuzz target for the gateway config loader ({@code benchmarks/fuzz GatewayConfigFuzzTest}):
 * whatever the text, it loads or fails with problems that name the file.
 */
class GatewayConfigFuzzTest {
  private static final Path DIR = emptyDirectory();
  private static final Map<String, String> ENV = Map.of("FS_TOKEN", "t", "HOME", "/home/ann");

  /**
   * Any text either loads or throws a {@link ConfigException} whose problems each name the file
   * and say what is wrong, never another exception. Texts that would make the loader read
   * special files ({@code ${file:/dev/zero}}) are skipped: the config is the operator's, and
   * reading what it names is the point.
   */
  @FuzzTest
  void parse_anyText_loadsOrNamesTheProblem(FuzzedDataProvider data) {
    String yaml = data.consumeRemainingAsString();
    if (yaml.contains("..") || yaml.contains("/dev") || yaml.contains("/proc")
        || yaml.contains("/sys")) {
      return;
    }
    GatewayConfig config;
    try {
      config = GatewayConfig.parse(yaml, "fuzz.yaml", DIR, ENV);
    } catch (ConfigException e) {
      assertThat(e.problems()).isNotEmpty().allSatisfy(problem -> {
        assertThat(problem.source()).isNotBlank();
        assertThat(problem.message()).isNotBlank();
      });
      assertThat(e.getMessage()).contains(e.problems().get(0).source());
      return;
    }
    assertThat(config.revision()).startsWith("sha256:");
  }

  private static Path emptyDirectory() {
    try {
      Path dir = Files.createTempDirectory("sentinel-config-fuzz");
      dir.toFile().deleteOnExit();
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
