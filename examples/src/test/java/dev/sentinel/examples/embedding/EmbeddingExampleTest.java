package dev.sentinel.examples.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class EmbeddingExampleTest {

  @Test
  void run_governsEveryCallAndAuditsIt(@TempDir Path dir) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    Path audit = EmbeddingExample.run(dir, new PrintStream(bytes, true, StandardCharsets.UTF_8));

    String output = bytes.toString(StandardCharsets.UTF_8);
    assertThat(output.lines()).containsSubsequence(
        "customers.lookup -> ok {\"id\":\"c-7\",\"name\":\"Ada Lovelace\"}",
        "reports.run SELECT * -> denied by rule no-exports-of-everything: export named columns, not SELECT *",
        "payments.refund -> denied: no rule allows this request",
        "payments.refund by bob, an admin -> ok {\"refunded\":true}",
        "reports.run #1 -> ok {\"rows\":42}",
        "reports.run #2 -> ok {\"rows\":42}",
        "reports.run #3 -> ok {\"rows\":42}");
    assertThat(output).contains("reports.run #4 -> rate limited by rule reports-per-user: too many requests");

    JsonMapper json = JsonMapper.builder().build();
    List<String> lines = Files.readAllLines(audit);
    assertThat(output.strip()).endsWith(lines.get(1));
    assertThat(lines).hasSize(8);
    List<String> outcomes = lines.stream().map(json::readTree).map(e -> e.get("outcome").asString()).toList();
    assertThat(outcomes).containsExactly(
        "ALLOWED", "DENIED", "DENIED", "ALLOWED", "ALLOWED", "ALLOWED", "ALLOWED", "LIMITED");
    List<String> principals = lines.stream().map(json::readTree).map(e -> e.get("principal").asString()).toList();
    assertThat(principals).containsExactly("ann", "ann", "ann", "bob", "ann", "ann", "ann", "ann");
  }

  @Test
  void readme_embeddingSnippetIsTheCompiledExample() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    String source = Files.readString(
        Path.of("src/main/java/dev/sentinel/examples/embedding/GovernedTools.java"));
    String snippet = source.substring(
        source.indexOf("// README snippet begins") + "// README snippet begins".length(),
        source.indexOf("  // README snippet ends"));

    for (String line : snippet.strip().lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
      assertThat(readme).as("README carries the example's line").contains(line);
    }
    // and its imports, so that the snippet compiles as shown
    String block = readme.substring(readme.indexOf("## Embedding"));
    block = block.substring(block.indexOf("```java"), block.indexOf("```\n", block.indexOf("```java") + 7));
    for (String line : source.lines().filter(l -> l.startsWith("import ")).toList()) {
      assertThat(block).as("README's embedding snippet imports what the example does").contains(line);
    }
  }
}
