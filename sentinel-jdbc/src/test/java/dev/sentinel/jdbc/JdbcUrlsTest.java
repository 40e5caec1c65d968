package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JdbcUrlsTest {

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "jdbc:postgresql://db:5432/s | jdbc:postgresql://db:5432/s",
        "jdbc:postgresql://db/s?password=x | jdbc:postgresql://db/s",
        "jdbc:postgresql://db/s?user=u&password=x | jdbc:postgresql://db/s?user=u",
        "jdbc:postgresql://db/s?password=x&user=u | jdbc:postgresql://db/s?user=u",
        "jdbc:postgresql://db/s?user=u&PASSWORD=x&ssl=true |"
            + " jdbc:postgresql://db/s?user=u&ssl=true",
        "jdbc:postgresql://db/s?sslpassword=x&user=u | jdbc:postgresql://db/s?user=u",
        "jdbc:postgresql://u:x@db:5432/s | jdbc:postgresql://u@db:5432/s",
        "jdbc:postgresql://u:x@db/s?password=y&a=b | jdbc:postgresql://u@db/s?a=b",
        "jdbc:postgresql://db/s;user=u;password=x | jdbc:postgresql://db/s;user=u",
        "jdbc:sqlite:/var/lib/s.db | jdbc:sqlite:/var/lib/s.db",
      })
  void redact_removesEveryPassword(String url, String expected) {
    assertThat(JdbcUrls.redact(url)).isEqualTo(expected);
  }

  @Test
  void sqliteFile_readsPlainAndFileUrls() {
    assertThat(JdbcUrls.sqliteFile("jdbc:sqlite:/a/b.db")).isEqualTo(Path.of("/a/b.db"));
    assertThat(JdbcUrls.sqliteFile("jdbc:sqlite:rel/b.db")).isEqualTo(Path.of("rel/b.db"));
    assertThat(JdbcUrls.sqliteFile("jdbc:sqlite:file:/a/b.db?mode=rwc"))
        .isEqualTo(Path.of("/a/b.db"));
    assertThat(JdbcUrls.sqliteFile("jdbc:sqlite::memory:")).isNull();
    assertThat(JdbcUrls.sqliteFile("jdbc:sqlite:")).isNull();
  }
}
