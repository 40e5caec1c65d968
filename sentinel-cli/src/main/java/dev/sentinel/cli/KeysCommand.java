package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.api.StoredKey;
import dev.sentinel.core.auth.IssuedKey;
import dev.sentinel.operator.KeyOperations;
import dev.sentinel.core.operator.OperatorException;
import dev.sentinel.operator.Operations;
import dev.sentinel.core.operator.Times;
import dev.sentinel.jdbc.JdbcStores;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel keys create|list|revoke|rotate}: the API keys in a gateway's database. A key's
 * secret is printed once, when it is created or rotated; the database keeps only its hash, and
 * {@code list} never shows hashes. Not thread-safe.
 */
@Command(
    name = "keys",
    mixinStandardHelpOptions = true,
    description = {"Create, list, revoke and rotate API keys.",
        "Works on a gateway's database: --config FILE or --db URL. A key is printed once, at "
        + "create or rotate; only its hash is stored."})
public final class KeysCommand implements Runnable {
  private final Map<String, String> environment;
  private final Clock clock;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  /**
   * A keys command on the system clock.
   *
   * @param environment the variables that {@code ${env:...}} in config files and
   *     {@value DatabaseOptions#PASSWORD_VARIABLE} read
   */
  public KeysCommand(Map<String, String> environment) {
    this(environment, Clock.system());
  }

  /** A keys command on the given clock (creation, expiry and revocation times). */
  KeysCommand(Map<String, String> environment, Clock clock) {
    this.environment = Map.copyOf(environment);
    this.clock = clock;
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: create, list, revoke or rotate");
  }

  /** Issues a key and prints its secret, once. */
  @Command(name = "create", mixinStandardHelpOptions = true,
      description = {"Issue an API key and print it, once.",
          "Sentinel stores only its hash: the key cannot be shown again. Give it to its owner, "
          + "for example as SENTINEL_API_KEY for identity.api_key."})
  int create(
      @Option(names = "--principal", required = true, paramLabel = "ID",
          description = "the principal the key authenticates as") String principal,
      @Option(names = "--role", paramLabel = "ROLE",
          description = "a role the key grants (repeat for several)") List<String> roles,
      @Option(names = "--name", paramLabel = "NAME",
          description = "a label: who or what the key is for") String name,
      @Option(names = "--expires", paramLabel = "WHEN",
          description = "when it stops working: a duration from now (30d, 12h) or a time "
              + "(2026-12-31, 2026-12-31T18:00:00Z); default never") String expires,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "create");
    try (JdbcStores stores = database.open(line, environment, clock, false)) {
      KeyOperations keys = operations(stores).keys();
      IssuedKey key = Operator.call(line,
          () -> keys.create(principal, roles, name, expires, "--expires"));
      printIssued(line, "Created", key, stores);
      return 0;
    }
  }

  /** Lists the keys, oldest first. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List the keys, oldest first (never their secrets or hashes).")
  int list(@Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "list");
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      List<StoredKey> keys = stores.keys().list();
      PrintWriter out = line.getOut();
      if (keys.isEmpty()) {
        out.println("(no API keys in " + stores.description() + ")");
      } else {
        out.print(table(keys, clock.instant()));
      }
      out.flush();
      return 0;
    }
  }

  /** Revokes a key at once. */
  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = {"Revoke a key at once.",
          "Gateways using this database see it within seconds (they cache keys for 5 s)."})
  int revoke(
      @Parameters(paramLabel = "ID", description = "the key id (as keys list shows it)") String id,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "revoke");
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      KeyOperations.Revoked revoked;
      try {
        revoked = operations(stores).keys().revoke(id);
      } catch (OperatorException e) {
        if (e.kind() == OperatorException.Kind.NOT_FOUND) {
          return fail(line, "No API key with id '" + id + "' in " + stores.description()
              + "; see sentinel keys list.");
        }
        throw e;
      }
      StoredKey key = revoked.key();
      PrintWriter out = line.getOut();
      switch (revoked.revocation()) {
        case ALREADY_REVOKED:
          out.println("API key " + id + " was already revoked at " + Times.format(key.revoked())
              + ".");
          break;
        case EXPIRED:
          out.println("API key " + id + " expired at " + Times.format(key.expires())
              + "; it no longer works, nothing to revoke.");
          break;
        default:
          out.println("Revoked API key " + id + " (principal " + key.principal() + ").");
          break;
      }
      out.flush();
      return 0;
    }
  }

  /** Issues a replacement with the same principal, roles and name, and revokes the old key. */
  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = {"Replace a key: issue a new one and revoke the old one.",
          "The new key has the same principal, roles and name, and is printed once."})
  int rotate(
      @Parameters(paramLabel = "ID", description = "the key id (as keys list shows it)") String id,
      @Option(names = "--expires", paramLabel = "WHEN",
          description = "when the new key stops working (30d, 2026-12-31, ...); default the old"
              + " key's expiry") String expires,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "rotate");
    try (JdbcStores stores = database.open(line, environment, clock, true)) {
      IssuedKey fresh;
      try {
        KeyOperations keys = operations(stores).keys();
        fresh = Operator.call(line, () -> keys.rotate(id, expires, "--expires"));
      } catch (OperatorException e) {
        String where = e.kind() == OperatorException.Kind.NOT_FOUND
            ? "No API key with id '" + id + "' in " + stores.description()
                + "; see sentinel keys list." : Failures.message(e);
        return fail(line, where);
      }
      printIssued(line, "Rotated " + id + ": revoked it and created", fresh, stores);
      return 0;
    }
  }

  private Operations operations(JdbcStores stores) {
    return Operations.builder().stores(stores).clock(clock).build();
  }

  private static void printIssued(CommandLine line, String verb, IssuedKey issued,
      JdbcStores stores) {
    StoredKey key = issued.key();
    PrintWriter out = line.getOut();
    out.println(verb + " API key " + key.id() + " for principal " + key.principal()
        + " (roles: " + roles(key) + "; expires: "
        + (key.expires() == null ? "never" : Times.format(key.expires())) + ") in "
        + stores.description() + ":");
    out.println();
    out.println("  " + issued.secret());
    out.println();
    out.flush();
    PrintWriter err = line.getErr();
    err.println("This is the only time the key is shown: Sentinel stores only its hash and cannot"
        + " show it again. Keep it in a secret store; if it is lost, rotate it.");
    err.flush();
  }

  private static int fail(CommandLine line, String message) {
    line.getErr().println(message);
    line.getErr().flush();
    return Main.FAILED;
  }

  private static String roles(StoredKey key) {
    return key.roles().isEmpty() ? "none" : String.join(",", new TreeSet<>(key.roles()));
  }

  /** The keys as a table: one line each, never a hash. */
  static String table(List<StoredKey> keys, Instant now) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "PRINCIPAL", "ROLES", "NAME", "CREATED", "EXPIRES", "REVOKED",
        "LAST USED", "STATUS"});
    for (StoredKey key : keys) {
      String status = KeyOperations.status(key, now);
      rows.add(new String[] {key.id(), key.principal(), roles(key),
          key.name().isEmpty() ? "-" : key.name(), Times.format(key.created()),
          key.expires() == null ? "never" : Times.format(key.expires()),
          Times.format(key.revoked()), Times.format(key.lastUsed()), status});
    }
    return Columns.render(rows);
  }
}
