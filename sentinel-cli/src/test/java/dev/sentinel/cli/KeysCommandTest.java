package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sentinel keys}, in-process, against real SQLite files. */
class KeysCommandTest {
  private static final Pattern KEY = Pattern.compile("snk_([a-z2-7]{12})_([0-9A-Za-z]{43})");

  @TempDir Path dir;

  private String db() {
    return "jdbc:sqlite:" + dir.resolve("sentinel.db");
  }

  private static Matcher key(String text) {
    Matcher m = KEY.matcher(text);
    assertThat(m.find()).as("a key in:\n" + text).isTrue();
    return m;
  }

  /** Every byte of every file in the directory (the database, its WAL), as Latin-1 text. */
  private String allBytes() throws Exception {
    StringBuilder out = new StringBuilder();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (Files.isRegularFile(f)) {
          out.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
        }
      }
    }
    return out.toString();
  }

  private static int occurrences(String text, String part) {
    int count = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
      count++;
    }
    return count;
  }

  @Test
  void keys_createListRevokeRotate_lifecycle() throws Exception {
    Run created = Cli.run("keys", "create", "--principal", "ann", "--role", "developer",
        "--role", "ops", "--name", "ann's laptop", "--expires", "30d", "--db", db());
    assertThat(created.exit()).as(created.err()).isZero();
    Matcher m = key(created.out());
    String secret = m.group();
    String id = m.group(1);
    assertThat(occurrences(created.out() + created.err(), secret)).isEqualTo(1);
    assertThat(created.out()).contains("Created API key " + id + " for principal ann")
        .contains("roles: developer,ops");
    assertThat(created.err()).contains("This is the only time the key is shown");
    assertThat(allBytes()).doesNotContain(secret).doesNotContain(m.group(2));

    Run list = Cli.run("keys", "list", "--db", db());
    assertThat(list.exit()).isZero();
    String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(m.group(2).getBytes(StandardCharsets.US_ASCII)));
    assertThat(allBytes()).contains(hash);
    assertThat(list.out()).startsWith("ID").contains("PRINCIPAL", "ROLES", "NAME", "CREATED",
            "EXPIRES", "REVOKED", "LAST USED")
        .contains(id).contains("ann's laptop").contains("developer,ops").contains("active")
        .doesNotContain(hash).doesNotContain(m.group(2));

    Run revoked = Cli.run("keys", "revoke", id, "--db", db());
    assertThat(revoked.exit()).isZero();
    assertThat(revoked.out()).contains("Revoked API key " + id + " (principal ann)");
    assertThat(Cli.run("keys", "list", "--db", db()).out()).contains("revoked");
    Run again = Cli.run("keys", "revoke", id, "--db", db());
    assertThat(again.exit()).isZero();
    assertThat(again.out()).contains("was already revoked");

    Run rotateRevoked = Cli.run("keys", "rotate", id, "--db", db());
    assertThat(rotateRevoked.exit()).isEqualTo(Main.FAILED);
    assertThat(rotateRevoked.err()).contains("rotation must not revive it");

    String second = key(Cli.run("keys", "create", "--principal", "bob", "--db", db()).out())
        .group(1);
    Run rotated = Cli.run("keys", "rotate", second, "--db", db());
    assertThat(rotated.exit()).as(rotated.err()).isZero();
    Matcher fresh = key(rotated.out());
    assertThat(fresh.group(1)).isNotEqualTo(second);
    assertThat(occurrences(rotated.out() + rotated.err(), fresh.group())).isEqualTo(1);
    assertThat(rotated.out()).contains("Rotated " + second).contains("principal bob");
    String table = Cli.run("keys", "list", "--db", db()).out();
    assertThat(table.lines().filter(l -> l.startsWith(second)).findFirst().orElseThrow())
        .endsWith("revoked");
    assertThat(table.lines().filter(l -> l.startsWith(fresh.group(1))).findFirst().orElseThrow())
        .contains("bob").endsWith("active");
    assertThat(allBytes()).doesNotContain(fresh.group());
  }

  @Test
  void keys_withConfig_useTheConfigsDatabase() throws Exception {
    Path config = dir.resolve("gw.yaml");
    Files.writeString(config, "identity: { api_key: \"${env:SENTINEL_API_KEY}\" }\n"
        + "backends: [ { name: fs, stdio: { command: x } } ]\npolicy: { rules: [] }\n"
        + "database: { url: \"jdbc:sqlite:state/keys.db\" }\n");
    Run created = Cli.run("keys", "create", "--principal", "ann", "--config", config.toString());
    assertThat(created.exit()).as(created.err()).isZero();
    assertThat(Files.exists(dir.resolve("state/keys.db"))).isTrue();
    assertThat(Cli.run("keys", "list", "--config", config.toString()).out()).contains("ann");
  }

  @Test
  void keys_withoutOrWithBothDatabases_isAUsageError() {
    Run neither = Cli.run("keys", "list");
    assertThat(neither.exit()).isEqualTo(Main.USAGE);
    assertThat(neither.err()).contains("give the database: --config FILE");
    Run both = Cli.run("keys", "list", "--db", db(), "--config", "x.yaml");
    assertThat(both.exit()).isEqualTo(Main.USAGE);
    assertThat(both.err()).contains("either --config or --db, not both");
    Run badExpiry = Cli.run("keys", "create", "--principal", "a", "--expires", "soon",
        "--db", db());
    assertThat(badExpiry.exit()).isEqualTo(Main.USAGE);
    assertThat(badExpiry.err()).contains("--expires: 'soon' is neither a time");
    assertThat(Cli.run("keys", "create", "--principal", "a", "--expires", "2001-01-01",
        "--db", db()).err()).contains("is not in the future");
  }

  @Test
  void keys_onAMissingFile_failsWithoutCreatingIt() {
    Run run = Cli.run("keys", "list", "--db", db());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains(dir.resolve("sentinel.db").toString())
        .contains("the file does not exist");
    assertThat(Files.exists(dir.resolve("sentinel.db"))).isFalse();
  }

  @Test
  void keys_revokeUnknownId_exitsOne() {
    Cli.run("keys", "create", "--principal", "a", "--db", db());
    Run run = Cli.run("keys", "revoke", "aaaaaaaaaaaa", "--db", db());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("No API key with id 'aaaaaaaaaaaa'");
  }

  @Test
  void keys_onANonSentinelDatabase_isRefused() throws Exception {
    try (Connection c = DriverManager.getConnection(db())) {
      c.createStatement().execute("CREATE TABLE invoices (id INTEGER)");
    }
    Run run = Cli.run("keys", "create", "--principal", "a", "--db", db());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("is not a Sentinel database").doesNotContain("Exception");
  }

  @Test
  void keys_onANewerSchema_isRefused() throws Exception {
    Cli.run("keys", "create", "--principal", "a", "--db", db());
    try (Connection c = DriverManager.getConnection(db())) {
      c.createStatement().execute("INSERT INTO sentinel_schema (version, applied_at, description)"
          + " VALUES (99, 0, 'future')");
    }
    Run run = Cli.run("keys", "list", "--db", db());
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("written by a newer Sentinel (schema 99");
  }

  @Test
  void keys_unreachablePostgresql_namesTheUrlWithoutItsPassword() {
    Run run = Cli.run(Map.of("SENTINEL_DB_PASSWORD", "env-secret-1"), "keys", "list", "--db",
        "jdbc:postgresql://127.0.0.1:1/sentinel?password=url-secret-2&connectTimeout=2",
        "--db-user", "gw");
    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err())
        .contains("Cannot connect to PostgreSQL database "
            + "jdbc:postgresql://127.0.0.1:1/sentinel?connectTimeout=2")
        .doesNotContain("url-secret-2").doesNotContain("env-secret-1");
  }

  @Test
  void keys_notAJdbcUrl_isAUsageError() {
    Run run = Cli.run("keys", "list", "--db", "postgres://u:pw@h/d");
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("--db: expected jdbc:sqlite:<file>").doesNotContain("pw@");
  }
}
