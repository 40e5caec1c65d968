package dev.sentinel.mcpsdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** docs/adapters.md shows the example's governing lines as they are compiled and tested. */
class AdaptersDocTest {

  @org.junit.jupiter.api.Test
  void theDocsCarryTheExamplesGoverningLines() throws IOException {
    String doc = Files.readString(Path.of("..", "docs", "adapters.md"));
    List<String> governing = Files.readAllLines(
            Path.of("src", "test", "java", "dev", "sentinel", "mcpsdk", "GovernedNotesServer.java")).stream()
        .map(String::trim)
        .filter(line -> line.contains("governance") && !line.startsWith("//"))
        .toList();

    assertThat(governing).hasSize(4);
    for (String line : governing) {
      assertThat(doc).as("docs/adapters.md carries the example's line").contains(line);
    }
  }
}
