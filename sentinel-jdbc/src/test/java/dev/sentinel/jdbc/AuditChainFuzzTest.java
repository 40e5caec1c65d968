package dev.sentinel.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import dev.sentinel.core.audit.CanonicalJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.jdbi.v3.core.Handle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Fuzz target for the audit hash chain on a real SQLite file ({@code benchmarks/fuzz
 * AuditChainFuzzTest}): any single edit of a stored value is caught by {@link AuditVerifier}.
 */
class AuditChainFuzzTest {
  private static final int RECORDS = 5;
  private static final List<String> ROW_COLUMNS = List.of("seq", "id", "time", "principal",
      "session", "method", "backend", "tool", "outcome", "rule", "instance", "event", "prev_hash",
      "hash");
  private static final List<String> CHAIN_COLUMNS =
      List.of("head_seq", "head_hash", "base_seq", "base_hash");
  private static final List<String> INTEGERS = List.of("seq", "time", "head_seq", "base_seq");

  private static final ObjectNode NO_ARGUMENTS = JsonNodeFactory.instance.objectNode();

  private static Path dir;
  private static Database database;

  @BeforeAll
  static void writeTrail() throws IOException {
    dir = Files.createTempDirectory("sentinel-chain-fuzz");
    database = Database.open("jdbc:sqlite:" + dir.resolve("audit.db"), null, null);
    List<AuditEvent> events = new ArrayList<>();
    events.add(JdbcAuditSinkContract.event("e1", 1, "alice", "fs__read", Outcome.ALLOWED, "r1"));
    events.add(JdbcAuditSinkContract.event("e2", 2, "bob", "fs__write", Outcome.DENIED, "no"));
    events.add(AuditEvent.builder().id("e3").time(JdbcAuditSinkContract.T0).request(Request.of("ping"))
        .arguments(NO_ARGUMENTS, CanonicalJson.sha256(NO_ARGUMENTS)).outcome(Outcome.FAILED)
        .error("java.io.IOException", "caf\u00e9 \uD83D\uDE00").build());
    events.add(JdbcAuditSinkContract.event("e4", 4, "alice", "db__query", Outcome.LIMITED));
    events.add(JdbcAuditSinkContract.event("e5", 5, "carol", "fs__read", Outcome.ALLOWED));
    try (JdbcAuditSink sink = JdbcAuditSink.create(database)) {
      sink.write(events);
    }
    assertThat(AuditVerifier.verify(database)).isEqualTo(VerifyReport.intact(RECORDS));
  }

  @AfterAll
  static void deleteTrail() throws IOException {
    database.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }

  /**
   * Replacing, deleting or inserting one character of a stored text, or changing a stored
   * number, in any record or in the chain's row, makes verification fail; undoing the edit
   * makes it pass again.
   */
  @FuzzTest
  void verify_anySingleEdit_isDetected(FuzzedDataProvider data) {
    boolean chainRow = data.consumeInt(0, 7) == 0;
    String table = chainRow ? "sentinel_audit_chain" : "sentinel_audit";
    String column = data.pickValue(chainRow ? CHAIN_COLUMNS : ROW_COLUMNS);
    String where = chainRow ? "name = 'audit'" : "seq = " + data.consumeInt(1, RECORDS);
    Object original = read(table, column, where);
    Object edited = edit(original, INTEGERS.contains(column), data);
    if (edited == null || edited.equals(original)) {
      return;
    }
    // the column may sit in a key the edit breaks (two records with one seq): no edit then
    if (!update(table, column, where, edited)) {
      return;
    }
    String restore = column.equals("seq") ? "seq = " + edited : where;
    try {
      // a lone surrogate is stored as '?': what counts is what the database holds
      if (original != null && original.equals(read(table, column, restore))) {
        return;
      }
      VerifyReport report = AuditVerifier.verify(database);

      assertThat(report.ok()).as("%s.%s edited to %s: %s", table, column, edited, report).isFalse();
    } finally {
      assertThat(update(table, column, restore, original)).isTrue();
    }
    assertThat(AuditVerifier.verify(database)).isEqualTo(VerifyReport.intact(RECORDS));
  }

  private static Object edit(Object original, boolean integer, FuzzedDataProvider data) {
    if (integer) {
      return ((Number) original).longValue() + data.consumeLong(-1_000_000, 1_000_000);
    }
    String text = (String) original;
    if (text == null || text.isEmpty()) {
      return String.valueOf(data.consumeChar());
    }
    int at = data.consumeInt(0, text.length() - 1);
    switch (data.consumeInt(0, 2)) {
      case 0:
        return text.substring(0, at) + data.consumeChar() + text.substring(at + 1);
      case 1:
        return text.substring(0, at) + text.substring(at + 1);
      default:
        return text.substring(0, at) + data.consumeChar() + text.substring(at);
    }
  }

  private static Object read(String table, String column, String where) {
    return database.jdbi().withHandle(h ->
        h.createQuery("SELECT " + column + " FROM " + table + " WHERE " + where)
            .map((rs, ctx) -> rs.getObject(1)).one());
  }

  private static boolean update(String table, String column, String where, Object value) {
    try {
      database.jdbi().useHandle((Handle h) ->
          h.createUpdate("UPDATE " + table + " SET " + column + " = :value WHERE " + where)
              .bind("value", value)
              .execute());
      return true;
    } catch (RuntimeException constraint) {
      return false;
    }
  }
}
