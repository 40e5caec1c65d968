package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MigrationsTest {

  @Test
  void statements_dropCommentsAndSplitAtLineEndingSemicolons() {
    String sql =
        "-- a comment\n"
            + "CREATE TABLE t (\n"
            + "  a TEXT NOT NULL DEFAULT '', -- trailing comment\n"
            + "  b INTEGER\n"
            + ");\n"
            + "\n"
            + "CREATE INDEX i ON t (a);\n";

    assertThat(Migrations.statements(sql))
        .containsExactly(
            "CREATE TABLE t (\na TEXT NOT NULL DEFAULT '',\nb INTEGER\n)",
            "CREATE INDEX i ON t (a)");
  }

  @Test
  void statements_unterminated_isRejected() {
    assertThatThrownBy(() -> Migrations.statements("CREATE TABLE t (a TEXT)"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("without ';'");
  }

  @Test
  void everyDialect_hasTheSameStatementsInTheSameOrder() throws IOException {
    Migrations.Migration v1 = new Migrations.Migration(1, "keys_and_audit");
    var sqlite = Migrations.statements(read(v1.resource(Dialect.SQLITE)));
    var postgres = Migrations.statements(read(v1.resource(Dialect.POSTGRESQL)));

    assertThat(sqlite).hasSameSizeAs(postgres).hasSize(11);
    for (int i = 0; i < sqlite.size(); i++) {
      assertThat(firstLine(postgres.get(i))).isEqualTo(firstLine(sqlite.get(i)));
    }
  }

  private static String firstLine(String statement) {
    return statement.lines().findFirst().orElseThrow();
  }

  private static String read(String resource) throws IOException {
    try (InputStream in = MigrationsTest.class.getClassLoader().getResourceAsStream(resource)) {
      assertThat(in).as(resource).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
