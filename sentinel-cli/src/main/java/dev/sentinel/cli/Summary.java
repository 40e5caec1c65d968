package dev.sentinel.cli;

import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.Audit;
import dev.sentinel.core.config.Backend;
import dev.sentinel.core.config.DatabaseSettings;
import dev.sentinel.core.config.Gateway;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.HttpBackend;
import dev.sentinel.core.config.Identity;
import dev.sentinel.core.config.StdioBackend;
import dev.sentinel.core.config.Units;
import dev.sentinel.core.killswitch.KillSwitch;
import dev.sentinel.core.policy.PolicyEngine;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;

/** Renders what the commands print. Stateless. */
final class Summary {
  private Summary() {}

  /** Prints a configuration error to stderr and returns the exit code of a failure. */
  static int fail(CommandLine line, ConfigException e) {
    return fail(line.getErr(), e);
  }

  /** Prints a configuration error to {@code err} and returns the exit code of a failure. */
  static int fail(PrintWriter err, ConfigException e) {
    err.println(e.getMessage());
    err.flush();
    return Main.FAILED;
  }

  static String plural(int count, String noun) {
    return count + " " + noun + (count == 1 ? "" : "s");
  }

  /** A count of audit records: {@code 1 record}, {@code 2 records}. */
  static String plural(long records) {
    return records + " record" + (records == 1 ? "" : "s");
  }

  /** The one-screen summary of a config; never shows a secret value. */
  static String of(GatewayConfig config) {
    StringBuilder out = new StringBuilder();
    out.append(config.source()).append(": OK (revision ").append(config.revision())
        .append(")\n");
    Gateway g = config.gateway();
    Gateway.Namespacing ns = g.namespacing();
    row(out, "gateway", g.name() + "; tools named " + ns.qualify("<backend>", "<name>")
        + (ns.prefixes(config.backends().size()) ? "" : " (no prefix: single backend)"));
    row(out, "limits", "request " + Units.formatDuration(g.requestTimeout()) + ", start "
        + Units.formatDuration(g.startTimeout()) + ", " + g.maxPendingRequests()
        + " pending, messages up to " + Units.formatSize(g.maxMessageBytes()) + ", depth "
        + g.maxDepth());
    row(out, "identity", identity(config.identity()));
    row(out, "backends", String.valueOf(config.backends().size()));
    int width = 0;
    for (Backend b : config.backends()) {
      width = Math.max(width, b.name().length());
    }
    String indent = " ".repeat(2 + width + 2 + 5 + 2);
    for (Backend b : config.backends()) {
      out.append("  ").append(pad(b.name(), width)).append("  ").append(pad(b.kind(), 5))
          .append("  ");
      if (b instanceof StdioBackend) {
        StdioBackend s = (StdioBackend) b;
        out.append(String.join(" ", s.command())).append('\n').append(indent)
            .append("env: ").append(names(s.env())).append("; cwd: ").append(s.cwd())
            .append('\n');
      } else {
        HttpBackend h = (HttpBackend) b;
        out.append(h.safeUrl()).append('\n').append(indent).append("headers: ")
            .append(names(h.headers())).append("; connect ")
            .append(Units.formatDuration(h.connectTimeout())).append(", request ")
            .append(Units.formatDuration(h.requestTimeout())).append('\n');
      }
    }
    PolicyEngine p = config.policy();
    String where = p.source().equals(config.source()) ? "inline" : p.source();
    row(out, "policy", where + ": " + plural(p.ruleCount(), "rule") + ", "
        + plural(p.limits().size(), "limit") + " (revision " + p.revision() + ")");
    row(out, "disabled", killSwitch(config.killSwitch()));
    Audit a = config.audit();
    List<String> sinks = new ArrayList<>();
    for (Audit.Sink sink : a.sinks()) {
      if (sink instanceof Audit.JsonLinesSink) {
        Audit.JsonLinesSink j = (Audit.JsonLinesSink) sink;
        sinks.add("jsonl " + j.file() + (j.fsync() ? " (fsync)" : ""));
      } else if (sink instanceof Audit.Slf4jSink) {
        sinks.add("slf4j " + ((Audit.Slf4jSink) sink).logger());
      } else if (sink instanceof Audit.DatabaseSink) {
        sinks.add("database");
      } else {
        sinks.add(sink.kind());
      }
    }
    row(out, "audit", sinks.isEmpty() ? "no sinks: events are not recorded" : String.join(", ", sinks));
    row(out, "", "on sink failure " + lower(a.onSinkFailure()) + ", when full "
        + lower(a.whenFull()) + ", queue " + a.queueCapacity() + ", mode " + lower(a.mode()));
    DatabaseSettings db = config.database();
    row(out, "database", db.safeUrl() + (db.user() == null ? "" : " as " + db.user())
        + (db.password() == null ? "" : ", password set")
        + (db.configured() ? "" : " (default)")
        + (config.needsDatabase() ? "" : "; not used by this config"));
    return out.toString();
  }

  private static String identity(Identity identity) {
    if (identity.apiKey() != null) {
      return "API key (from the config; authenticated against the key store)";
    }
    dev.sentinel.api.Principal principal = Objects.requireNonNull(identity.principal(),
        "an identity without an API key names a principal");
    String roles = principal.roles().isEmpty()
        ? "no roles" : "roles " + String.join(", ", new java.util.TreeSet<>(principal.roles()));
    return "principal " + principal.id() + " (" + roles + ")";
  }

  private static String killSwitch(KillSwitch.State state) {
    if (state.isEmpty()) {
      return "nothing";
    }
    List<String> parts = new ArrayList<>();
    if (state.all() != null) {
      parts.add("everything: " + state.all());
    }
    state.backends().forEach((k, v) -> parts.add("backend " + k + ": " + v));
    state.tools().forEach((k, v) -> parts.add("tools " + k + ": " + v));
    state.principals().forEach((k, v) -> parts.add("principal " + k + ": " + v));
    return String.join("; ", parts);
  }

  private static String names(Map<String, String> map) {
    return map.isEmpty() ? "none" : String.join(", ", map.keySet());
  }

  private static String lower(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  private static void row(StringBuilder out, String label, String text) {
    out.append(pad(label, 10)).append(text).append('\n');
  }

  private static String pad(String text, int width) {
    return text.length() >= width ? text : text + " ".repeat(width - text.length());
  }
}
