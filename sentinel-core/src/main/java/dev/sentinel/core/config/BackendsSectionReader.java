package dev.sentinel.core.config;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads the config's {@code backends:} list (each backend's name, its {@code stdio} or
 * {@code http} transport, isolation, connection limits, validation and pinning) into
 * {@link Backend}s, recording every problem in the shared reader. Not thread-safe: one per load.
 */
final class BackendsSectionReader {
  static final List<String> BACKEND_KEYS = List.of("name", "stdio", "http", "isolation",
      "max_connections", "max_connections_per_principal", "idle_timeout", "resource_prefixes", "validate",
      "pinning");
  static final List<String> PINNING_KEYS = List.of("mode", "block_hidden_instructions");
  static final List<String> STDIO_KEYS = List.of("command", "args", "env", "inherit_env", "cwd");
  static final List<String> HTTP_KEYS =
      List.of("url", "headers", "connect_timeout", "request_timeout");

  /**
   * What a stdio backend inherits without {@code inherit_env}: the variables a program needs to
   * find other programs and its user's files, as the MCP SDKs do.
   */
  static final List<String> DEFAULT_INHERITED_ENV =
      List.of("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER");

  /** Headers that the HTTP client or the gateway sets itself. */
  private static final Set<String> RESERVED_HEADERS = Set.of("connection", "content-length",
      "expect", "host", "upgrade", "mcp-session-id", "mcp-protocol-version");
  private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  private final ConfigReader in;
  private final Expander expander;
  private final Map<String, String> environment;
  private final Path baseDir;

  BackendsSectionReader(ConfigReader in, Expander expander, Map<String, String> environment,
      Path baseDir) {
    this.in = in;
    this.expander = expander;
    this.environment = environment;
    this.baseDir = baseDir;
  }

  /** The backends that could be read; problems (such as none at all) are recorded. */
  List<Backend> read(Gateway gateway) {
    String p = "/backends";
    List<Backend> out = new ArrayList<>();
    if (!in.present(p, null, true)) {
      return out;
    }
    JsonNode list = in.node(p);
    if (!list.isArray()) {
      in.error(p, null, "expected a list of backends (each '- name: ...'), got "
          + ConfigReader.describe(list));
      return out;
    }
    if (list.isEmpty()) {
      in.error(p, null, "expected at least one backend");
      return out;
    }
    Map<String, Integer> seen = new HashMap<>();
    Map<String, String> paths = new HashMap<>();
    for (int i = 0; i < list.size(); i++) {
      Backend backend = backend(YamlDocument.child(p, i), gateway, seen);
      if (backend != null) {
        out.add(backend);
        paths.put(backend.name(), YamlDocument.child(p, i) + "/name");
      }
    }
    ambiguousNames(out, paths, gateway.namespacing());
    return out;
  }

  /**
   * Refuses backend names that make namespaced names ambiguous: with {@code b} and {@code b_}
   * and the separator {@code __}, {@code b___x} is both {@code b}'s {@code _x} and {@code b_}'s
   * {@code x}, and a rule for {@code b__*} would match a tool of {@code b_}.
   */
  private void ambiguousNames(List<Backend> backends, Map<String, String> paths, Gateway.Namespacing namespacing) {
    if (!namespacing.prefixes(backends.size())) {
      return;
    }
    String separator = namespacing.separator();
    for (Backend a : backends) {
      for (Backend b : backends) {
        if (a != b && (b.name() + separator).startsWith(a.name() + separator)) {
          String at = Objects.requireNonNull(paths.get(b.name()), "each backend read has a path");
          in.error(at, "backend '" + b.name() + "'", "the names '" + a.name() + "' and '"
              + b.name() + "' make qualified names ambiguous with the separator '" + separator + "' ('"
              + b.name() + separator + "x' could be a tool of either); rename one of them");
        }
      }
    }
  }

  private @Nullable Backend backend(String p, Gateway gateway, Map<String, Integer> seen) {
    String separator = gateway.namespacing().separator();
    JsonNode node = in.node(p);
    String name = null;
    if (node.isObject() && in.present(p + "/name", null, true)) {
      name = in.string(p + "/name", null, "a backend name");
    }
    String subject = name == null ? null : "backend '" + name + "'";
    if (!in.checkKeys(p, subject, BACKEND_KEYS)) {
      return null;
    }
    boolean unknownKeys = false;
    for (String key : node.propertyNames()) {
      unknownKeys |= !BACKEND_KEYS.contains(key);
    }
    boolean valid = false;
    if (name != null) {
      if (!Backend.NAME.matcher(name).matches()) {
        in.error(p + "/name", subject, "invalid backend name: use lowercase letters, digits, "
            + "'_' and '-', starting with a letter or digit, at most 63 characters");
      } else if (name.contains(separator)) {
        in.error(p + "/name", subject, "the name contains the namespacing separator '"
            + separator + "', which would make qualified names ambiguous; rename it");
      } else if (seen.containsKey(name)) {
        in.error(p + "/name", subject, "duplicate backend name (first at line "
            + seen.get(name) + "); backend names must be unique");
      } else {
        seen.put(name, in.document().location(p + "/name").line());
        valid = true;
      }
    }
    boolean stdio = in.present(p + "/stdio", subject, false);
    boolean http = in.present(p + "/http", subject, false);
    if (stdio && http) {
      in.error(p + "/http", subject,
          "a backend is either stdio or http, not both; split it into two backends");
      return null;
    }
    if (!stdio && !http) {
      if (!unknownKeys) {
        in.error(p, subject, "expected one of stdio: { command: ... } or http: { url: ... }");
      }
      return null;
    }
    // The transport's section is checked even when the name is bad; the record needs a good one.
    String good = valid ? name : null;
    Connections connections = connections(p, subject);
    Backend backend = stdio ? stdio(p + "/stdio", good, subject)
        : http(p + "/http", good, subject, gateway.requestTimeout());
    if (backend instanceof StdioBackend) {
      StdioBackend s = (StdioBackend) backend;
      return new StdioBackend(s.name(), s.command(), s.env(), s.cwd(), connections);
    }
    if (backend instanceof HttpBackend) {
      HttpBackend h = (HttpBackend) backend;
      return new HttpBackend(h.name(), h.url(), h.headers(), h.connectTimeout(), h.requestTimeout(), connections);
    }
    return backend;
  }

  private Connections connections(String p, @Nullable String subject) {
    Isolation isolation = null;
    if (in.present(p + "/isolation", subject, false)) {
      String text = in.string(p + "/isolation", subject, "one of shared, per_principal, per_session");
      if (text != null) {
        try {
          isolation = Isolation.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          in.error(p + "/isolation", subject, "expected one of shared, per_principal, per_session, got '" + text + "'");
        }
      }
    }
    int max = in.integer(p + "/max_connections", subject, "max_connections", 0, 100_000);
    int perPrincipal = in.integer(p + "/max_connections_per_principal", subject, "max_connections_per_principal",
        0, 100_000);
    if (max > 0 && perPrincipal > max) {
      in.error(p + "/max_connections_per_principal", subject,
          "max_connections_per_principal (" + perPrincipal + ") must not exceed max_connections (" + max + ")");
      perPrincipal = 0;
    }
    Duration idle = in.present(p + "/idle_timeout", subject, false)
        ? in.optionalDuration(p + "/idle_timeout", subject) : null;
    List<String> prefixes = new ArrayList<>();
    if (in.present(p + "/resource_prefixes", subject, false)) {
      JsonNode node = in.node(p + "/resource_prefixes");
      if (!node.isArray()) {
        in.error(p + "/resource_prefixes", subject, "expected a list of URI prefixes such as [\"file:///data/\"]");
      } else {
        for (int i = 0; i < node.size(); i++) {
          JsonNode item = node.get(i);
          if (!item.isString() || item.stringValue().isEmpty()) {
            in.error(YamlDocument.child(p + "/resource_prefixes", i), subject, "expected a non-empty URI prefix");
          } else {
            prefixes.add(item.stringValue());
          }
        }
      }
    }
    Validation validation = null;
    if (in.present(p + "/validate", subject, false)) {
      String text = in.string(p + "/validate", subject, "one of enforce, warn, off");
      if (text != null) {
        try {
          validation = Validation.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          in.error(p + "/validate", subject, "expected one of enforce, warn, off, got '" + text + "'");
        }
      }
    }
    Pinning.Mode pinning = null;
    boolean blockHidden = false;
    if (in.present(p + "/pinning", subject, false)) {
      JsonNode node = in.node(p + "/pinning");
      String modeAt = p + "/pinning";
      if (node.isObject()) {
        in.checkKeys(p + "/pinning", subject, PINNING_KEYS);
        blockHidden = in.bool(p + "/pinning/block_hidden_instructions", subject, false);
        modeAt = p + "/pinning/mode";
      }
      if (!node.isObject() || in.present(modeAt, subject, false)) {
        String text = in.string(modeAt, subject, "one of enforce, warn, off");
        if (text != null) {
          try {
            pinning = Pinning.Mode.valueOf(text.toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            in.error(modeAt, subject, "expected one of enforce, warn, off, got '" + text + "'");
          }
        }
      }
    }
    return new Connections(isolation, max, perPrincipal, idle, prefixes, validation, pinning, blockHidden);
  }

  private @Nullable StdioBackend stdio(String p, @Nullable String name, @Nullable String subject) {
    if (!in.checkKeys(p, subject, STDIO_KEYS)) {
      return null;
    }
    boolean ok = true;
    List<String> command = new ArrayList<>();
    if (in.present(p + "/command", subject, true)) {
      String program = in.string(p + "/command", subject, "a program name or path");
      if (program == null) {
        ok = false;
      } else if (program.isBlank()) {
        in.error(p + "/command", subject, "the command must not be blank");
        ok = false;
      } else if (program.indexOf('/') < 0 && program.chars().anyMatch(Character::isWhitespace)) {
        in.error(p + "/command", subject, "the command '" + program + "' contains spaces, but "
            + "it is run without a shell; put the program in command and each argument in args");
        ok = false;
      } else {
        expander.forbid(program, p + "/command", subject, "command");
        Path path = program.indexOf('/') >= 0 ? expander.resolve(program) : null;
        if (program.indexOf('/') >= 0 && path == null) {
          in.error(p + "/command", subject, "'" + program + "' is not a valid path");
          ok = false;
        } else {
          command.add(path != null ? path.toString() : program);
        }
      }
    } else {
      ok = false;
    }
    if (in.present(p + "/args", subject, false)) {
      List<String> args = in.names(p + "/args", subject, "arguments");
      for (int i = 0; i < args.size(); i++) {
        expander.forbid(args.get(i), YamlDocument.child(p + "/args", i), subject, "args");
      }
      command.addAll(args);
    }
    Map<String, String> env = new LinkedHashMap<>();
    List<String> inherit = DEFAULT_INHERITED_ENV;
    if (in.present(p + "/inherit_env", subject, false)) {
      inherit = in.names(p + "/inherit_env", subject, "environment variable names");
      for (String variable : inherit) {
        if (!Expander.ENV_NAME.matcher(variable).matches()) {
          in.error(p + "/inherit_env", subject, "invalid environment variable name '"
              + variable + "'");
        }
      }
    } else if (in.node(p + "/inherit_env").isNull()) {
      inherit = List.of();
    }
    for (String variable : inherit) {
      String value = environment.get(variable);
      if (value != null) {
        env.put(variable, value);
      }
    }
    Map<String, String> explicit = expander.expandedMap(p + "/env", subject, "environment variables");
    for (String variable : explicit.keySet()) {
      if (!Expander.ENV_NAME.matcher(variable).matches()) {
        in.error(YamlDocument.child(p + "/env", variable), subject,
            "invalid environment variable name '" + variable
                + "' (expected letters, digits and '_', not starting with a digit)");
      }
    }
    env.putAll(explicit);
    Path cwd = baseDir;
    if (in.present(p + "/cwd", subject, false)) {
      String text = in.string(p + "/cwd", subject, "a directory");
      if (text == null) {
        ok = false;
      } else {
        expander.forbid(text, p + "/cwd", subject, "cwd");
        Path resolved = expander.resolve(text);
        if (resolved == null) {
          in.error(p + "/cwd", subject, "'" + text + "' is not a valid path");
          ok = false;
        } else if (!Files.isDirectory(resolved)) {
          in.error(p + "/cwd", subject, "the working directory " + resolved + " does not exist "
              + "or is not a directory");
          ok = false;
        } else {
          cwd = resolved;
        }
      }
    }
    return ok && name != null ? new StdioBackend(name, command, env, cwd) : null;
  }

  private @Nullable HttpBackend http(
      String p, @Nullable String name, @Nullable String subject, Duration defaultTimeout) {
    if (!in.checkKeys(p, subject, HTTP_KEYS)) {
      return null;
    }
    URI url = null;
    if (in.present(p + "/url", subject, true)) {
      String raw = in.secretText(p + "/url", subject, "a URL such as https://mcp.example.com/mcp");
      String text = raw == null ? null : expander.expand(raw, p + "/url", subject);
      if (raw != null && text != null) {
        url = in.httpUrl(text, raw, p + "/url", subject);
      }
    }
    Map<String, String> headers = new LinkedHashMap<>();
    Map<String, String> raw = in.rawMap(p + "/headers", subject, "headers");
    raw.forEach((header, template) -> {
      String hp = YamlDocument.child(p + "/headers", header);
      if (!HEADER_NAME.matcher(header).matches()) {
        in.error(hp, subject, "invalid header name '" + header + "'");
        return;
      }
      if (RESERVED_HEADERS.contains(header.toLowerCase(Locale.ROOT))) {
        in.error(hp, subject, "the header '" + header + "' is set by the gateway and cannot be"
            + " configured");
        return;
      }
      String value = expander.expand(template, hp, subject);
      if (value == null) {
        return;
      }
      if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        in.error(hp, subject, "the value of header '" + header + "' " + ConfigReader.describeSecret(template)
            + " contains a line break");
        return;
      }
      headers.put(header, value);
    });
    Duration connect = in.duration(p + "/connect_timeout", subject, HttpBackend.DEFAULT_CONNECT_TIMEOUT);
    Duration request = in.duration(p + "/request_timeout", subject, defaultTimeout);
    if (url == null || name == null) {
      return null;
    }
    return new HttpBackend(name, url, headers, connect, request);
  }
}
