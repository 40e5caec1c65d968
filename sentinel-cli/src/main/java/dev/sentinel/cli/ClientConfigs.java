package dev.sentinel.cli;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.util.DefaultIndenter;
import tools.jackson.core.util.DefaultPrettyPrinter;
import tools.jackson.core.util.Separators;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The MCP configuration files of the clients Sentinel starts from and writes itself into: Claude
 * Code ({@code .mcp.json} in a project, and {@code ~/.claude.json} with its user-scope
 * {@code mcpServers} and each project's {@code projects.<path>.mcpServers}), Claude Desktop
 * ({@code claude_desktop_config.json}) and Cursor ({@code .cursor/mcp.json}, {@code
 * ~/.cursor/mcp.json}). All of them keep their servers under a top-level {@code mcpServers}
 * object, one entry per server name: {@code command}, {@code args}, {@code env} for a local
 * process; {@code url} and {@code headers} for a remote one; Claude Code adds {@code type}
 * ({@code stdio}, {@code http}, {@code sse}); Cursor tells SSE from Streamable HTTP by itself.
 *
 * <p>The formats, as documented: Claude Code's MCP page (code.claude.com/docs/en/mcp: the three
 * scopes, {@code type}, {@code ${VAR}} and {@code ${VAR:-default}} expanded in command, args, env,
 * url and headers, and local over project over user scope for one name); Claude Desktop's
 * config at {@code ~/Library/Application Support/Claude/}, {@code %APPDATA%\Claude\} or
 * {@code ~/.config/Claude/}; Cursor's MCP page (cursor.com/docs/mcp: {@code ${env:NAME}},
 * {@code ${userHome}}, {@code ${workspaceFolder}} in its values). Every client reads them as
 * strict JSON (Claude's with {@code JSON.parse}; Cursor reports a trailing comma as a syntax
 * error, upstash/context7#563), so a comment is an error here too, not a dialect to guess.
 *
 * <p>Reading is bounded ({@link #MAX_BYTES}) and strict: malformed JSON, comments and duplicate
 * keys are one-line {@link UserError}s naming the file, line and column. Stateless.
 */
final class ClientConfigs {
  /**
   * The largest client file read: {@code ~/.claude.json} keeps every project's history and grows
   * to a few MB; far more is not a client's config.
   */
  static final long MAX_BYTES = 32L << 20;

  /** Keeps key order, numbers as written (no float rounding), and refuses duplicate keys. */
  static final JsonMapper JSON = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
      .build();

  /** Indented as the clients write their files ({@code JSON.stringify(x, null, 2)}). */
  private static final DefaultPrettyPrinter PRINTER = new DefaultPrettyPrinter(
      Separators.createDefaultInstance()
          .withObjectNameValueSpacing(Separators.Spacing.AFTER)
          .withObjectEmptySeparator("")
          .withArrayEmptySeparator(""))
      .withObjectIndenter(new DefaultIndenter("  ", "\n"))
      .withArrayIndenter(new DefaultIndenter("  ", "\n"));

  private ClientConfigs() {}

  /** How a server is reached. */
  enum Transport { STDIO, HTTP, SSE }

  /**
   * One server of a client's file, as written there (values not expanded).
   *
   * @param source the file and scope it came from, for messages
   * @param name its name in the client
   * @param transport how it is reached
   * @param command the program (stdio), else null
   * @param args its arguments
   * @param env variables for it, in file order
   * @param url its address (http, sse), else null
   * @param headers headers sent to it, in file order
   * @param cwd the folder it runs in, if the client says
   * @param notes what was not imported and why, one line each
   */
  record Server(String source, String name, Transport transport, @Nullable String command,
      List<String> args, Map<String, String> env, @Nullable String url,
      Map<String, String> headers, @Nullable Path cwd,
      List<String> notes) {
    Server {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(transport, "transport");
      args = List.copyOf(args);
      env = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(env));
      headers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
      notes = List.copyOf(notes);
    }
  }

  /**
   * Reads a client file as a JSON object, keeping key order.
   *
   * @throws UserError when it is missing, too large, not UTF-8, not JSON, has comments or
   *     duplicate keys, or is not an object
   */
  static ObjectNode read(Path file) {
    String text;
    try {
      long size = Files.size(file);
      if (size > MAX_BYTES) {
        throw new UserError(file + " is " + (size >> 20) + " MiB, more than the "
            + (MAX_BYTES >> 20) + " MiB a client's config may be", "check that it is the"
            + " client's MCP config file (mcpServers), not a log or a database", null);
      }
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
    } catch (NoSuchFileException e) {
      throw new UserError("no such file: " + file, "give the client's config file: .mcp.json,"
          + " ~/.claude.json, claude_desktop_config.json or .cursor/mcp.json", e);
    } catch (CharacterCodingException e) {
      throw new UserError(file + " is not UTF-8 text", "give the client's JSON config file", e);
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage(),
          "check that the file exists and that you may read it", e);
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JacksonException e) {
      throw syntax(file, e);
    }
    if (root == null || !root.isObject()) {
      throw new UserError(file + " is not a JSON object", "give the client's config file, an"
          + " object with mcpServers", null);
    }
    return (ObjectNode) root;
  }

  private static UserError syntax(Path file, JacksonException e) {
    TokenStreamLocation at = e.getLocation();
    String where = file + (at == null || at.getLineNr() < 1 ? ""
        : ":" + at.getLineNr() + ":" + at.getColumnNr());
    String message = String.valueOf(e.getOriginalMessage());
    int newline = message.indexOf('\n');
    message = newline < 0 ? message : message.substring(0, newline);
    // The parser quotes what it could not read, which may be an unquoted secret: a few
    // characters are enough to find it.
    message = message.replaceAll("token '([^']{0,4})[^']*'", "token '$1...'");
    if (message.contains("Duplicate Object property")) {
      Matcher name = Pattern.compile("\"(.*)\"").matcher(message);
      return new UserError(where + ": duplicate key" + (name.find() ? " '" + printable(name.group(1)) + "'" : "")
          + ": JSON clients keep only the last one", "remove or rename one of them", e);
    }
    if (message.contains("nesting depth")) {
      return new UserError(where + ": nested more than "
          + JSON.tokenStreamFactory().streamReadConstraints().getMaxNestingDepth()
          + " levels deep, which no client's config is", "give the client's config file", e);
    }
    if (message.contains("comment")) {
      return new UserError(where + ": a comment, which JSON does not allow (the clients read"
          + " these files as strict JSON)", "remove the comment", e);
    }
    return new UserError(where + ": not valid JSON: " + printable(message),
        "fix the file (the client cannot read it either)", e);
  }

  /** The text of a client file: two-space indents, {@code "key": value}, a final newline. */
  static String write(JsonNode root) {
    StringWriter out = new StringWriter();
    JSON.writer().with(PRINTER).writeValue(out, root);
    return out + "\n";
  }

  /**
   * The servers a client file declares: its top-level {@code mcpServers} and, in
   * {@code ~/.claude.json}, the project's {@code projects.<path>.mcpServers}, which wins over a
   * user-scope server of the same name as in Claude Code.
   *
   * @param project the project whose local-scope servers are read from {@code ~/.claude.json}
   */
  static List<Server> servers(Path file, ObjectNode root, Path project) {
    JsonNode servers = root.path("mcpServers");
    JsonNode projects = root.path("projects");
    boolean claudeJson = projects.isObject();
    if (!servers.isObject() && !servers.isMissingNode()) {
      throw new UserError(file + ": mcpServers is not an object", "write it as"
          + " \"mcpServers\": { \"name\": { \"command\": ... } }", null);
    }
    if (servers.isMissingNode() && !claudeJson) {
      throw new UserError(file + " has no mcpServers" + (root.has("servers")
          ? " (it has 'servers', VS Code's key, which this command does not read)" : ""),
          "give a Claude Code, Claude Desktop or Cursor config file", null);
    }
    Path folder = file.toAbsolutePath().getParent();
    // A project's file runs its servers from the project's folder, as its client does.
    Path cwd = null;
    String fileName = String.valueOf(file.getFileName());
    if (fileName.equals(".mcp.json")) {
      cwd = folder;
    } else if (fileName.equals("mcp.json") && folder != null
        && String.valueOf(folder.getFileName()).equals(".cursor")) {
      Path parent = folder.getParent(); // not null: folder is absolute and not the root
      if (parent != null && !parent.equals(home())) {
        cwd = parent;
      }
    }
    Map<String, Server> out = new LinkedHashMap<>();
    for (var entry : servers.properties()) {
      out.put(entry.getKey(), server(file + (claudeJson ? " (user scope)" : ""), entry.getKey(),
          entry.getValue(), cwd));
    }
    if (claudeJson && project != null) {
      String key = project.toAbsolutePath().normalize().toString();
      JsonNode local = projects.path(key).path("mcpServers");
      if (local.isObject()) {
        local.properties().forEach(entry -> {
          Server s = server(file + " (project " + key + ")", entry.getKey(), entry.getValue(),
              Path.of(key));
          Server replaced = out.put(entry.getKey(), s);
          if (replaced != null) {
            // Claude Code's precedence: local scope over user scope for one name.
            out.put(entry.getKey(), withNote(s, "the user-scope server of the same name is"
                + " not imported: Claude Code uses this one"));
          }
        });
      }
    }
    return new ArrayList<>(out.values());
  }

  private static Server withNote(Server s, String note) {
    List<String> notes = new ArrayList<>(s.notes());
    notes.add(note);
    return new Server(s.source(), s.name(), s.transport(), s.command(), s.args(), s.env(),
        s.url(), s.headers(), s.cwd(), notes);
  }

  private static Server server(String source, String name, JsonNode entry, @Nullable Path cwd) {
    String subject = source + ": server '" + printable(name) + "'";
    if (!entry.isObject()) {
      throw new UserError(subject + " is not an object", "write it as { \"command\": ...,"
          + " \"args\": [...] } or { \"url\": ... }", null);
    }
    String type = text(entry, "type", subject);
    String command = text(entry, "command", subject);
    String url = text(entry, "url", subject);
    if (command != null && url != null) {
      throw new UserError(subject + " has both command and url", "keep the one the client"
          + " uses: command for a local process, url for a remote server", null);
    }
    if (command == null && url == null) {
      throw new UserError(subject + " has neither command nor url", "give it a command (and"
          + " args) or a url", null);
    }
    Transport transport;
    if (type == null) {
      // Cursor tells SSE from Streamable HTTP itself: an /sse path is the old transport.
      transport = command != null ? Transport.STDIO
          : Objects.requireNonNull(url, "command or url, checked above").replaceAll("[?#].*", "")
              .endsWith("/sse") ? Transport.SSE : Transport.HTTP;
    } else {
      switch (type.toLowerCase(Locale.ROOT)) {
        case "stdio" -> transport = Transport.STDIO;
        case "http", "streamable-http", "streamablehttp" -> transport = Transport.HTTP;
        case "sse" -> transport = Transport.SSE;
        default -> throw new UserError(subject + ": unknown type '" + printable(type) + "'",
            "use stdio, http or sse", null);
      }
      if ((transport == Transport.STDIO) != (command != null)) {
        throw new UserError(subject + ": type '" + type + "' with "
            + (command != null ? "a command" : "a url"), transport == Transport.STDIO
            ? "a stdio server needs a command" : "an http or sse server needs a url", null);
      }
    }
    List<String> args = new ArrayList<>();
    JsonNode rawArgs = entry.path("args");
    if (!rawArgs.isMissingNode() && !rawArgs.isNull()) {
      if (!rawArgs.isArray()) {
        throw new UserError(subject + ": args is not a list", "write args as [\"-y\", \"pkg\"]",
            null);
      }
      for (JsonNode arg : rawArgs) {
        if (!arg.isValueNode() || arg.isNull()) {
          throw new UserError(subject + ": args holds " + arg.getNodeType().name().toLowerCase(
              Locale.ROOT) + ", not text", "write every argument as a string", null);
        }
        args.add(noNul(arg.asString(), subject, "args"));
      }
    }
    List<String> notes = new ArrayList<>();
    Map<String, String> env = map(entry, "env", subject);
    Map<String, String> headers = map(entry, "headers", subject);
    Path dir = cwd;
    String written = text(entry, "cwd", subject);
    if (written != null) {
      dir = cwd == null ? Path.of(written) : cwd.resolve(written);
    }
    for (var property : entry.properties()) {
      String key = property.getKey();
      if (List.of("type", "command", "args", "env", "url", "headers", "cwd").contains(key)) {
        continue;
      }
      if (key.equals("disabled") && property.getValue().asBoolean(false)) {
        notes.add("disabled in the client: imported all the same; remove it from sentinel.yaml"
            + " if you do not want it");
      } else if (key.equals("envFile")) {
        notes.add("envFile is not read: set its variables in the environment Sentinel runs"
            + " in, and add them to env");
      } else {
        notes.add("'" + printable(key) + "' is not imported (Sentinel has no such setting; the policy"
            + " decides what may be called)");
      }
    }
    return new Server(source, name, transport, command, args, env, url, headers, dir, notes);
  }

  private static @Nullable String text(JsonNode entry, String key, String subject) {
    JsonNode node = entry.path(key);
    if (node.isMissingNode() || node.isNull()) {
      return null;
    }
    if (!node.isString()) {
      throw new UserError(subject + ": " + key + " is not text", "write " + key
          + " as a string", null);
    }
    String value = noNul(node.stringValue(), subject, key);
    return value.isBlank() ? null : value;
  }

  /** A NUL cannot be passed to a process, nor be part of a path or a header. */
  private static String noNul(String value, String subject, String key) {
    if (value.indexOf('\0') >= 0) {
      throw new UserError(subject + ": " + key + " holds a NUL character", "remove it", null);
    }
    return value;
  }

  private static Map<String, String> map(JsonNode entry, String key, String subject) {
    Map<String, String> out = new LinkedHashMap<>();
    JsonNode node = entry.path(key);
    if (node.isMissingNode() || node.isNull()) {
      return out;
    }
    if (!node.isObject()) {
      throw new UserError(subject + ": " + key + " is not an object", "write " + key
          + " as { \"NAME\": \"value\" }", null);
    }
    for (var property : node.properties()) {
      JsonNode value = property.getValue();
      if (!value.isValueNode() || value.isNull()) {
        throw new UserError(subject + ": " + key + " '" + printable(property.getKey()) + "' is not text",
            "write each value as a string", null);
      }
      out.put(noNul(property.getKey(), subject, key), noNul(value.asString(), subject, key));
    }
    return out;
  }

  private static final Pattern NOT_NAME = Pattern.compile("[^a-z0-9_-]+");

  /**
   * The Sentinel backend name for a client's server name: lower case; each run of characters
   * other than letters, digits, {@code _} and {@code -} becomes {@code -}; runs of {@code _}
   * become one (the default namespacing separator is {@code __}); leading and trailing
   * {@code -} and {@code _} go; at most 63 characters. {@code "My GitHub"} is {@code my-github},
   * {@code "db__prod"} is {@code db_prod}.
   *
   * @return the name, or empty when nothing of a letter or digit is left
   */
  static String backendName(String name) {
    String out = NOT_NAME.matcher(name.toLowerCase(Locale.ROOT)).replaceAll("-");
    out = out.replaceAll("_{2,}", "_").replaceAll("^[-_]+|[-_]+$", "");
    if (out.length() > 63) {
      out = out.substring(0, 63).replaceAll("[-_]+$", "");
    }
    return out;
  }

  private static final Pattern SECRET_NAME = Pattern.compile(
      "(?i).*(token|secret|passw|pwd|credential|private|auth|cookie|session|api.?key|access.?key"
          + "|(^|[_-])key($|[_-])|(^|[_-])pat($|[_-])|dsn|connection.?string).*");
  private static final Pattern SECRET_VALUE = Pattern.compile(
      "(?i)(bearer\\s+\\S+|basic\\s+\\S+|gh[pousr]_\\w+|github_pat_\\w+|glpat-\\S+|sk-\\S+"
          + "|sk_(live|test)_\\S+|rk_(live|test)_\\S+|xox[abpr]-\\S+|akia[0-9a-z]{12,}|aiza\\S+"
          + "|ey[a-z0-9_-]{10,}\\.[a-z0-9_-]+\\..*|[a-z][a-z0-9+.-]*://[^/@\\s]*:[^/@\\s]+@.*)");

  /**
   * Whether a value is to be treated as a secret: by its name (token, key, password, auth, ...)
   * or its form (a bearer token, a GitHub, GitLab, OpenAI, Stripe, Slack, AWS or Google key, a
   * JWT, a URL with a password, or a long run of letters and digits). Errs on the side of a
   * secret: a value wrongly taken for one costs an environment variable; the other mistake puts
   * a credential in a file.
   */
  static boolean secret(String name, String value) {
    if (SECRET_NAME.matcher(name).matches() || SECRET_VALUE.matcher(value.strip()).matches()) {
      return true;
    }
    // High entropy: 20+ characters without spaces or path separators, mixing letters and digits.
    return value.length() >= 20 && !value.matches(".*[\\s/\\\\].*")
        && value.matches(".*[A-Za-z].*") && value.matches(".*[0-9].*");
  }

  /** Whether a value's form alone says secret (a known token shape, a JWT, a bearer value). */
  static boolean secretForm(String value) {
    return SECRET_VALUE.matcher(value.strip()).matches();
  }

  private static final Pattern REFERENCE =
      Pattern.compile("\\$\\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");

  /**
   * A client's whole-value reference to an environment variable ({@code ${NAME}}, {@code
   * ${NAME:-default}} of Claude Code, {@code ${env:NAME}} of Cursor), or null.
   */
  static @Nullable Matcher reference(String value) {
    Matcher m = REFERENCE.matcher(value);
    return m.matches() ? m : null;
  }

  /** The pattern of any reference inside a value. */
  static Pattern references() {
    return REFERENCE;
  }

  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  /** A name as shown in a message: control characters escaped (a newline as backslash-u000a). */
  static String printable(String text) {
    return CONTROL.matcher(text).replaceAll(m -> String.format("\\\\u%04x", (int) m.group().charAt(0)));
  }

  /** The user's home folder. */
  static Path home() {
    return Path.of(System.getProperty("user.home"));
  }
}
