package dev.sentinel.core.config;

import dev.sentinel.core.audit.AuditDispatcher;
import dev.sentinel.core.audit.AuditMode;
import dev.sentinel.core.audit.DigestKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code audit:} section (sinks, mode, queue, retention, checkpoint and
 * digest key) into {@link Audit}, recording every problem in the shared reader. Not thread-safe:
 * one per load.
 */
final class AuditSectionReader {
  static final List<String> AUDIT_KEYS = List.of("sinks", "mode", "on_sink_failure",
      "when_full", "queue_capacity", "retention", "checkpoint", "digest_key", "llm_bodies");
  static final List<String> CHECKPOINT_KEYS = List.of("key", "file", "every", "records");
  static final List<String> SINK_KINDS = List.of("jsonl", "slf4j", "database");
  static final List<String> DATABASE_SINK_KEYS = List.of();
  static final List<String> JSONL_KEYS = List.of("file", "fsync");
  static final List<String> SLF4J_KEYS = List.of("logger");
  private static final int MAX_QUEUE_CAPACITY = 1 << 24;

  private final ConfigReader in;
  private final Expander expander;

  AuditSectionReader(ConfigReader in, Expander expander) {
    this.in = in;
    this.expander = expander;
  }

  /** The section, or {@link Audit#DEFAULTS} when absent; problems are recorded. */
  Audit read() {
    String p = "/audit";
    if (!in.section(p, null, AUDIT_KEYS)) {
      return Audit.DEFAULTS;
    }
    List<Audit.Sink> sinks = new ArrayList<>(Audit.DEFAULTS.sinks());
    if (in.present(p + "/sinks", null, false)) {
      sinks.clear();
      JsonNode list = in.node(p + "/sinks");
      if (!list.isArray()) {
        in.error(p + "/sinks", null, "expected a list of sinks, such as "
            + "[ { jsonl: audit.jsonl } ], got " + ConfigReader.describe(list));
      } else if (list.isEmpty()) {
        // Every call leaves an audit event (DESIGN guarantee 2): there is no "record nothing".
        in.error(p + "/sinks", null, "at least one sink is required: every call is recorded; "
            + "to keep events only in the log, use [ { slf4j: dev.sentinel.audit } ]");
      } else {
        for (int i = 0; i < list.size(); i++) {
          Audit.Sink sink = sink(YamlDocument.child(p + "/sinks", i));
          if (sink != null) {
            sinks.add(sink);
          }
        }
      }
    } else if (in.node(p + "/sinks").isNull()) {
      in.error(p + "/sinks", null, "at least one sink is required: every call is recorded; "
          + "remove the key for the default (the database), or list sinks");
    }
    AuditDispatcher.OnSinkFailure onFailure = in.choice(p + "/on_sink_failure",
        AuditDispatcher.OnSinkFailure.class, Audit.DEFAULTS.onSinkFailure());
    AuditDispatcher.WhenFull whenFull =
        in.choice(p + "/when_full", AuditDispatcher.WhenFull.class, Audit.DEFAULTS.whenFull());
    int capacity = in.integer(p + "/queue_capacity", null, "queue_capacity",
        Audit.DEFAULT_QUEUE_CAPACITY, MAX_QUEUE_CAPACITY);
    AuditMode mode = in.choice(p + "/mode", AuditMode.class, Audit.DEFAULTS.mode());
    if (mode == AuditMode.DURABLE && sinks.stream().noneMatch(Audit.Sink::durable)) {
      in.error(p + "/mode", null, "audit mode durable needs a durable sink, but "
          + (sinks.isEmpty() ? "there is none" : "none of " + kinds(sinks) + " is")
          + "; add { database: {} } or { jsonl: { file: audit.jsonl, fsync: true } } to sinks,"
          + " or use mode: async");
      mode = AuditMode.ASYNC;
    }
    Duration retention = in.optionalDuration(p + "/retention", null);
    if (retention != null && !sinks.contains(Audit.DatabaseSink.INSTANCE)) {
      in.error(p + "/retention", null, "retention purges the database sink's trail, but sinks "
          + "has no { database: {} } (only " + kinds(sinks) + "); add the database sink, or "
          + "remove retention and rotate the other sinks' files with your own tools");
      retention = null;
    }
    Audit.Checkpoint checkpoint = checkpoint(p + "/checkpoint");
    if (checkpoint != null && !sinks.contains(Audit.DatabaseSink.INSTANCE)) {
      in.error(p + "/checkpoint", null, "checkpoint signs the database sink's hash chain, but "
          + "sinks has no { database: {} } (only " + kinds(sinks) + "); add the database sink, "
          + "or remove checkpoint");
      checkpoint = null;
    }
    return new Audit(sinks, onFailure, whenFull, capacity, mode, retention, checkpoint,
        digestKey(p));
  }

  private Audit.@Nullable Checkpoint checkpoint(String p) {
    String subject = "audit checkpoint";
    if (!in.section(p, subject, CHECKPOINT_KEYS)) {
      return null;
    }
    Path key = expander.file(p + "/key", subject, "an Ed25519 private key file (PEM), such as "
        + "checkpoint.key from openssl genpkey -algorithm ed25519 -out checkpoint.key");
    Path file = expander.file(p + "/file", subject, "the file checkpoints are appended to, such as "
        + "/var/log/sentinel/audit-checkpoints.jsonl");
    Duration every = in.duration(p + "/every", subject, Audit.Checkpoint.DEFAULT_EVERY);
    long records = in.present(p + "/records", subject, false)
        ? in.positiveLong(p + "/records", subject, "records").orElse(0) : 0;
    if (key == null || file == null) {
      return null;
    }
    return new Audit.Checkpoint(key, file, every, records);
  }


  /** The audit digest key, or {@code null} when absent or after recording a problem. */
  private @Nullable DigestKey digestKey(String p) {
    String kp = p + "/digest_key";
    if (!in.present(kp, null, false)) {
      return null;
    }
    String raw = in.secretText(kp, null,
        "a key reference such as \"${env:SENTINEL_AUDIT_DIGEST_KEY}\"");
    if (raw == null) {
      return null;
    }
    String key = expander.expand(raw, kp, null);
    if (key == null) {
      return null;
    }
    try {
      return DigestKey.fromSecret(key);
    } catch (IllegalArgumentException e) {
      in.error(kp, null, "the audit digest key " + ConfigReader.describeSecret(raw) + " is too short: use at"
          + " least " + DigestKey.MIN_LENGTH + " random characters, such as the output of"
          + " 'openssl rand -base64 32' (a guessable key makes the digests reversible)");
      return null;
    }
  }

  private static String kinds(List<Audit.Sink> sinks) {
    List<String> out = new ArrayList<>();
    for (Audit.Sink sink : sinks) {
      out.add(sink.kind() + (sink instanceof Audit.JsonLinesSink ? " (without fsync)" : ""));
    }
    return String.join(", ", out);
  }

  private Audit.@Nullable Sink sink(String p) {
    JsonNode node = in.node(p);
    if (!node.isObject() || node.size() != 1) {
      in.error(p, null, "expected a sink with one key, one of " + String.join(", ", SINK_KINDS)
          + ", such as { jsonl: audit.jsonl }, got " + (node.isObject()
              ? "a mapping with " + node.size() + " keys" : ConfigReader.describe(node)));
      return null;
    }
    String kind = node.propertyNames().iterator().next();
    String kp = YamlDocument.child(p, kind);
    JsonNode value = node.get(kind);
    switch (kind) {
      case "jsonl": {
        String fp = kp;
        boolean fsync = false;
        if (value.isObject()) {
          if (!in.checkKeys(kp, "jsonl sink", JSONL_KEYS)) {
            return null;
          }
          fp = kp + "/file";
          if (!in.present(fp, "jsonl sink", true)) {
            return null;
          }
          fsync = in.bool(kp + "/fsync", "jsonl sink", false);
        }
        String text = in.string(fp, "jsonl sink", "a file name, such as audit.jsonl");
        if (text == null) {
          return null;
        }
        Path file = expander.resolve(text);
        if (file == null || text.isBlank()) {
          in.error(fp, "jsonl sink", "'" + text + "' is not a valid path");
          return null;
        }
        return new Audit.JsonLinesSink(file, fsync);
      }
      case "slf4j": {
        if (value.isNull()) {
          return new Audit.Slf4jSink(Audit.DEFAULT_LOGGER);
        }
        String lp = kp;
        if (value.isObject()) {
          if (!in.checkKeys(kp, "slf4j sink", SLF4J_KEYS)) {
            return null;
          }
          lp = kp + "/logger";
          if (!in.present(lp, "slf4j sink", false)) {
            return new Audit.Slf4jSink(Audit.DEFAULT_LOGGER);
          }
        }
        String logger = in.string(lp, "slf4j sink", "a logger name");
        if (logger == null || logger.isBlank()) {
          if (logger != null) {
            in.error(lp, "slf4j sink", "the logger name must not be blank");
          }
          return null;
        }
        return new Audit.Slf4jSink(logger);
      }
      case "database": {
        if (value.isObject() && !in.checkKeys(kp, "database sink", DATABASE_SINK_KEYS)) {
          return null;
        }
        if (!value.isObject() && !value.isNull()) {
          in.error(kp, "database sink", "expected { database: {} }: the sink writes to the "
              + "database of the database: section; got " + ConfigReader.describe(value));
          return null;
        }
        return Audit.DatabaseSink.INSTANCE;
      }
      default:
        in.error(kp, null, ConfigReader.unknown("audit sink", kind, SINK_KINDS));
        return null;
    }
  }
}
