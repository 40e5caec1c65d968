package dev.sentinel.cli;

import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.core.config.YamlDocument;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code sentinel client add claude-code|claude-desktop|cursor}: writes the client's entry for
 * Sentinel ({@code sentinel stdio --config FILE}, absolute paths) into its MCP config file.
 * Backs the file up first, changes nothing when the entry is already there, keeps every other
 * key in its order, and with {@code --dry-run} only prints the diff. Not thread-safe.
 */
@Command(
    name = "client",
    mixinStandardHelpOptions = true,
    description = "Write Sentinel into an MCP client's config.")
public final class ClientCommand implements Runnable {
  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  private final Map<String, String> environment;
  private final PolicyOptions policyOptions;

  /**
   * A client command.
   *
   * @param environment the variables {@code ${env:...}} read when the config is checked
   * @param policyOptions how the config's policy is compiled when it is checked
   */
  public ClientCommand(Map<String, String> environment, PolicyOptions policyOptions) {
    this.environment = Map.copyOf(environment);
    this.policyOptions = java.util.Objects.requireNonNull(policyOptions, "policyOptions");
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command: add");
  }

  /** The clients, each with where it keeps its config by default. */
  enum Client {
    CLAUDE_CODE("claude-code"), CLAUDE_DESKTOP("claude-desktop"), CURSOR("cursor");

    final String id;

    Client(String id) {
      this.id = id;
    }

    static Client of(String id, CommandLine line) {
      for (Client c : values()) {
        if (c.id.equals(id)) {
          return c;
        }
      }
      throw new CommandLine.ParameterException(line, "unknown client '" + id
          + "': give claude-code, claude-desktop or cursor");
    }

    /**
     * The usual file: Claude Code's user scope {@code ~/.claude.json}; Claude Desktop's
     * {@code claude_desktop_config.json} in the platform's application-support folder;
     * Cursor's global {@code ~/.cursor/mcp.json}.
     */
    Path defaultFile() {
      return defaultFile(System.getProperty("os.name", ""), ClientConfigs.home(),
          System.getenv("APPDATA"));
    }

    /** The usual file on the named operating system, for this home and {@code %APPDATA%}. */
    Path defaultFile(String osName, Path home, String appData) {
      String os = osName.toLowerCase(Locale.ROOT);
      return switch (this) {
        case CLAUDE_CODE -> home.resolve(".claude.json");
        case CURSOR -> home.resolve(".cursor").resolve("mcp.json");
        case CLAUDE_DESKTOP -> {
          Path dir;
          if (os.contains("mac")) {
            dir = home.resolve("Library").resolve("Application Support").resolve("Claude");
          } else if (os.contains("win")) {
            dir = (appData != null ? Path.of(appData) : home.resolve("AppData").resolve("Roaming"))
                .resolve("Claude");
          } else {
            dir = home.resolve(".config").resolve("Claude");
          }
          yield dir.resolve("claude_desktop_config.json");
        }
      };
    }
  }

  /** Adds (or updates) the client's entry for Sentinel. */
  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description = {"Write the client's entry for Sentinel (sentinel stdio --config FILE, with"
          + " absolute paths) into its MCP config file, under mcpServers.",
          "The file is backed up first (FILE.bak-<UTC time>), every other key and server is"
              + " kept in its order, and a second run changes nothing. Variables the config"
              + " reads ($${env:NAME}) whose values the client's file holds for the servers"
              + " Sentinel now fronts are put in the entry's env.",
          "Default files: claude-code ~/.claude.json (user scope), claude-desktop"
              + " claude_desktop_config.json in ~/Library/Application Support/Claude (macOS),"
              + " %APPDATA%\\Claude (Windows) or ~/.config/Claude (Linux), cursor"
              + " ~/.cursor/mcp.json.",
          "Exit code 0 when written or already there, 1 otherwise (nothing written)."})
  int add(
      @Parameters(paramLabel = "CLIENT", description = "claude-code, claude-desktop or cursor")
          String clientId,
      @Option(names = {"-c", "--config"}, paramLabel = "FILE", defaultValue = "sentinel.yaml",
          description = "the gateway config Sentinel serves (default: ${DEFAULT-VALUE})")
          Path config,
      @Option(names = "--file", paramLabel = "PATH",
          description = "the client's config file, instead of its usual place") Path file,
      @Option(names = "--name", paramLabel = "NAME", defaultValue = "sentinel",
          description = "the server name of the entry (default: ${DEFAULT-VALUE})") String name,
      @Option(names = "--sentinel", paramLabel = "PATH", description = "the sentinel launcher"
          + " to run (default: the bin/sentinel this command was started from)") Path launcher,
      @Option(names = "--replace", description = "also remove the client's own entries for the"
          + " servers the config has as backends (Sentinel starts them now)") boolean replace,
      @Option(names = "--dry-run", description = "print the change as a unified diff; write"
          + " nothing") boolean dryRun) {
    CommandLine line = Subcommands.of(spec, "add");
    Client client = Client.of(clientId, line);
    Path target = (file != null ? file : client.defaultFile()).toAbsolutePath().normalize();
    try {
      // A file linked from elsewhere (dotfiles) is edited where it is, and the link kept.
      target = Files.exists(target) ? target.toRealPath() : target;
    } catch (IOException e) {
      throw new UserError("cannot read " + target + ": " + e.getMessage(),
          "check that you may read it", e);
    }
    Path configFile = config.toAbsolutePath().normalize();
    if (!Files.isRegularFile(configFile)) {
      throw new UserError("no config file " + configFile, "write one with 'sentinel init --from"
          + " FILE', or give it with --config", null);
    }
    Backends backends = backends(configFile);
    // The client would start a gateway that cannot load: refuse before touching its file. The
    // variables are the client's to give, so unset ones do not count here.
    Map<String, String> checkEnv = new java.util.HashMap<>(environment);
    backends.variables.forEach(v -> checkEnv.putIfAbsent(v, "placeholder"));
    try {
      GatewayConfig.load(configFile, checkEnv, policyOptions);
    } catch (ConfigException e) {
      throw new UserError(configFile + " does not load: " + e.problems().get(0),
          "fix it first; 'sentinel config check " + configFile + "' lists every problem", e);
    }
    Path sentinel = launcher != null ? launcher.toAbsolutePath().normalize() : launcher();

    boolean exists = Files.exists(target);
    String before = "";
    ObjectNode root;
    if (exists) {
      root = ClientConfigs.read(target);
      try {
        before = Files.readString(target, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UserError("cannot read " + target + ": " + e.getMessage(),
            "check that you may read it", e);
      }
    } else {
      root = ClientConfigs.JSON.createObjectNode();
    }
    ObjectNode original = root.deepCopy();
    JsonNode existing = root.path("mcpServers");
    if (!existing.isMissingNode() && !existing.isObject()) {
      throw new UserError(target + ": mcpServers is not an object", "fix the file first", null);
    }
    ObjectNode servers = existing.isObject() ? (ObjectNode) existing : root.putObject("mcpServers");
    JsonNode current = servers.path(name);
    if (current.isObject() && !isSentinel(current)) {
      throw new UserError(target + " already has a server '" + name + "' that does not run"
          + " sentinel stdio", "give the entry another name with --name", null);
    }

    PrintWriter out = line.getOut();
    // Values of the variables the config reads, from the servers it fronts.
    Map<String, String> env = new LinkedHashMap<>();
    if (current.path("env").isObject()) {
      current.path("env").properties().forEach(e -> env.put(e.getKey(), e.getValue().asString()));
    }
    Set<String> missing = new LinkedHashSet<>();
    for (String variable : backends.variables) {
      if (env.containsKey(variable)) {
        continue;
      }
      String value = valueIn(servers, variable, backends.names);
      if (value != null) {
        env.put(variable, value);
      } else {
        missing.add(variable);
      }
    }
    List<String> fronted = new ArrayList<>();
    servers.properties().forEach(e -> {
      if (!e.getKey().equals(name)
          && backends.names.contains(ClientConfigs.backendName(e.getKey()))) {
        fronted.add(e.getKey());
      }
    });

    ObjectNode entry = ClientConfigs.JSON.createObjectNode();
    if (client == Client.CLAUDE_CODE) {
      entry.put("type", "stdio");
    }
    entry.put("command", sentinel.toString());
    ArrayNode args = entry.putArray("args");
    args.add("stdio").add("--config").add(configFile.toString());
    if (!env.isEmpty() || client == Client.CLAUDE_CODE) {
      ObjectNode e = entry.putObject("env");
      env.forEach(e::put);
    }
    if (current.isObject()) {
      // Keep the user's own additions to the entry (a timeout, a flag the client reads).
      ObjectNode merged = ((ObjectNode) current).deepCopy();
      entry.properties().forEach(p -> merged.set(p.getKey(), p.getValue()));
      entry = merged;
    }
    servers.set(name, entry);
    if (replace) {
      fronted.forEach(servers::remove);
    }

    if (root.equals(original)) {
      out.println(target + ": the entry '" + name + "' is already there; nothing changed");
      out.flush();
      return 0;
    }
    String after = ClientConfigs.write(root);
    List<String> secrets = new ArrayList<>(env.values());
    if (dryRun) {
      out.print(Diff.unified(exists ? target.toString() : "/dev/null", target.toString(),
          before, after, secrets));
      out.println("(dry run: nothing written)");
      out.flush();
      return 0;
    }
    String backup = null;
    try {
      Files.createDirectories(target.getParent());
      if (exists) {
        Path copy = target.resolveSibling(target.getFileName() + ".bak-" + ZonedDateTime.now(
            ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")));
        for (int n = 2; Files.exists(copy); n++) {
          copy = Path.of(copy.toString().replaceAll("(\\.\\d+)?$", "") + "." + n);
        }
        Files.copy(target, copy, StandardCopyOption.COPY_ATTRIBUTES);
        backup = copy.toString();
      }
      Path temporary = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
      try {
        Files.writeString(temporary, after, StandardCharsets.UTF_8);
        copyPermissions(exists ? target : null, temporary);
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(temporary);
      }
    } catch (IOException e) {
      throw new UserError("cannot write " + target + ": " + e.getMessage(),
          "check that you may write to it and its folder", e);
    }
    out.println(target + ": " + (current.isObject() ? "updated" : "added") + " the entry '"
        + name + "' (" + sentinel + " stdio --config " + configFile + ")"
        + (backup != null ? "; the old file is " + backup : ""));
    if (replace && !fronted.isEmpty()) {
      out.println("removed the client's own entries for " + String.join(", ", fronted)
          + ": Sentinel starts them now");
    } else if (!fronted.isEmpty()) {
      out.println("the client still starts " + String.join(", ", fronted) + " itself too;"
          + " pass --replace to leave them to Sentinel");
    }
    if (!missing.isEmpty()) {
      out.println("set " + String.join(", ", missing) + " in the environment the client starts"
          + " sentinel in, or add them to the entry's env (the client's file does not hold them)");
    }
    out.println("restart the client to use it");
    out.flush();
    return 0;
  }

  /** What the client file's servers mean to the config: backend names, variables read. */
  private record Backends(Set<String> names, Set<String> variables) {}

  private static final Pattern VARIABLE = Pattern.compile("(?<!\\$)\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?}");

  private static Backends backends(Path configFile) {
    YamlDocument document;
    try {
      document = YamlDocument.parse(Files.readString(configFile, StandardCharsets.UTF_8),
          configFile.toString());
    } catch (IOException e) {
      throw new UserError("cannot read " + configFile + ": " + e.getMessage(),
          "check that you may read it", e);
    } catch (ConfigException e) {
      throw new UserError(Failures.message(e).replaceFirst("^sentinel: ", ""),
          "fix the config; 'sentinel config check' lists every problem", e);
    }
    Set<String> names = new LinkedHashSet<>();
    Set<String> variables = new LinkedHashSet<>();
    for (JsonNode backend : document.at("/backends")) {
      if (backend.path("name").isString()) {
        names.add(backend.path("name").stringValue());
      }
      List<JsonNode> values = new ArrayList<>();
      backend.path("stdio").path("env").forEach(values::add);
      backend.path("http").path("headers").forEach(values::add);
      values.add(backend.path("http").path("url"));
      for (JsonNode value : values) {
        if (value.isString()) {
          Matcher m = VARIABLE.matcher(value.stringValue());
          while (m.find()) {
            if (m.group(2) == null) {
              variables.add(m.group(1));
            }
          }
        }
      }
    }
    return new Backends(names, variables);
  }

  /**
   * The value the client's file holds for a variable the config reads: the env entry of that
   * name of a server the config fronts, or, as {@code sentinel init} names a second variable of
   * the same name, {@code <BACKEND>_<NAME>} of that backend's server.
   */
  private static @Nullable String valueIn(
      ObjectNode servers, String variable, Set<String> backends) {
    String prefixed = null;
    String plain = null;
    for (var server : servers.properties()) {
      String backend = ClientConfigs.backendName(server.getKey());
      if (!backends.contains(backend)) {
        continue;
      }
      String prefix = backend.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]+", "_") + "_";
      // A header's secret, as init names it: <BACKEND>_TOKEN after a scheme in Authorization,
      // <BACKEND>_<HEADER> otherwise.
      for (var h : server.getValue().path("headers").properties()) {
        if (!h.getValue().isString() || prefixed != null) {
          continue;
        }
        String header = h.getKey().toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9_]+", "_");
        Matcher scheme = SCHEME.matcher(h.getValue().stringValue());
        if (h.getKey().equalsIgnoreCase("authorization") && variable.equals(prefix + "TOKEN")) {
          prefixed = scheme.matches() ? scheme.group(1) : h.getValue().stringValue();
        } else if (variable.equals(prefix + header)) {
          prefixed = h.getValue().stringValue();
        }
      }
      for (var e : server.getValue().path("env").properties()) {
        if (!e.getValue().isString() || ClientConfigs.reference(e.getValue().stringValue()) != null) {
          continue;
        }
        if (plain == null && e.getKey().equals(variable)) {
          plain = e.getValue().stringValue();
        }
        if (prefixed == null && variable.equals(prefix + e.getKey())) {
          prefixed = e.getValue().stringValue();
        }
      }
    }
    return prefixed != null ? prefixed : plain;
  }

  private static final Pattern SCHEME = Pattern.compile("(?i)(?:bearer|basic|token)\\s+(\\S+)");

  private static boolean isSentinel(JsonNode entry) {
    List<String> args = new ArrayList<>();
    entry.path("args").forEach(arg -> args.add(arg.asString("")));
    return !args.isEmpty() && args.get(0).equals("stdio")
        && (args.contains("--config") || args.contains("-c"));
  }

  /** The launcher beside this jar: {@code bin/sentinel} of a release or of the source tree. */
  private static Path launcher() {
    try {
      Path here = Path.of(ClientCommand.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI()).toAbsolutePath();
      for (Path dir = here; dir != null; dir = dir.getParent()) {
        Path candidate = dir.resolve("bin").resolve("sentinel");
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    } catch (URISyntaxException | RuntimeException e) {
      // fall through to the hint
    }
    throw new UserError("cannot tell where the sentinel launcher is",
        "give it with --sentinel /path/to/bin/sentinel", null);
  }

  private static void copyPermissions(@Nullable Path from, Path to) throws IOException {
    PosixFileAttributeView view = Files.getFileAttributeView(to, PosixFileAttributeView.class);
    if (view == null) {
      return;
    }
    // A client's file may hold credentials: a new one is readable by its owner only.
    Set<PosixFilePermission> permissions = from != null
        ? Files.getPosixFilePermissions(from)
        : Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    view.setPermissions(permissions);
  }

  /** A unified diff of two texts, by lines. Stateless. */
  static final class Diff {
    private static final int CONTEXT = 3;

    private Diff() {}

    /**
     * The diff of {@code before} and {@code after}, empty when equal; each of {@code secrets}
     * is shown as {@code <secret>}.
     */
    static String unified(String fromName, String toName, String before, String after,
        List<String> secrets) {
      List<String> a = before.isEmpty() ? List.of() : List.of(before.split("\n", -1));
      List<String> b = List.of(after.split("\n", -1));
      if (!a.isEmpty() && a.get(a.size() - 1).isEmpty()) {
        a = a.subList(0, a.size() - 1);
      }
      if (!b.isEmpty() && b.get(b.size() - 1).isEmpty()) {
        b = b.subList(0, b.size() - 1);
      }
      // Lines: ' ' kept, '-' removed, '+' added, from a longest common subsequence of the
      // middle that differs (the rest is the common head and tail).
      int head = 0;
      while (head < a.size() && head < b.size() && a.get(head).equals(b.get(head))) {
        head++;
      }
      int tail = 0;
      while (tail < a.size() - head && tail < b.size() - head
          && a.get(a.size() - 1 - tail).equals(b.get(b.size() - 1 - tail))) {
        tail++;
      }
      List<String> ops = new ArrayList<>();
      for (int i = 0; i < head; i++) {
        ops.add(" " + a.get(i));
      }
      List<String> x = a.subList(head, a.size() - tail);
      List<String> y = b.subList(head, b.size() - tail);
      if ((long) x.size() * y.size() <= 4_000_000L) {
        int[][] lcs = new int[x.size() + 1][y.size() + 1];
        for (int i = x.size() - 1; i >= 0; i--) {
          for (int j = y.size() - 1; j >= 0; j--) {
            lcs[i][j] = x.get(i).equals(y.get(j)) ? lcs[i + 1][j + 1] + 1
                : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
          }
        }
        int i = 0;
        int j = 0;
        while (i < x.size() || j < y.size()) {
          if (i < x.size() && j < y.size() && x.get(i).equals(y.get(j))) {
            ops.add(" " + x.get(i++));
            j++;
          } else if (j < y.size() && (i == x.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
            ops.add("+" + y.get(j++));
          } else {
            ops.add("-" + x.get(i++));
          }
        }
      } else {
        x.forEach(l -> ops.add("-" + l));
        y.forEach(l -> ops.add("+" + l));
      }
      for (int i = a.size() - tail; i < a.size(); i++) {
        ops.add(" " + a.get(i));
      }
      StringBuilder out = new StringBuilder();
      out.append("--- ").append(fromName).append('\n').append("+++ ").append(toName).append('\n');
      int k = 0;
      while (k < ops.size()) {
        if (ops.get(k).charAt(0) == ' ') {
          k++;
          continue;
        }
        int start = Math.max(0, k - CONTEXT);
        int end = k;
        // Extend while changes are within 2 * CONTEXT of each other.
        int last = k;
        for (int m = k; m < ops.size(); m++) {
          if (ops.get(m).charAt(0) != ' ') {
            last = m;
          } else if (m - last > 2 * CONTEXT) {
            break;
          }
        }
        end = Math.min(ops.size(), last + CONTEXT + 1);
        int oldStart = 1;
        int newStart = 1;
        for (int m = 0; m < start; m++) {
          char c = ops.get(m).charAt(0);
          oldStart += c != '+' ? 1 : 0;
          newStart += c != '-' ? 1 : 0;
        }
        int oldCount = 0;
        int newCount = 0;
        for (int m = start; m < end; m++) {
          char c = ops.get(m).charAt(0);
          oldCount += c != '+' ? 1 : 0;
          newCount += c != '-' ? 1 : 0;
        }
        out.append("@@ -").append(oldCount == 0 ? oldStart - 1 : oldStart).append(',')
            .append(oldCount).append(" +").append(newCount == 0 ? newStart - 1 : newStart)
            .append(',').append(newCount).append(" @@\n");
        for (int m = start; m < end; m++) {
          out.append(mask(ops.get(m), secrets)).append('\n');
        }
        k = end;
      }
      return out.toString();
    }

    private static String mask(String line, List<String> secrets) {
      String out = line;
      for (String secret : secrets) {
        if (secret != null && secret.length() >= 4) {
          out = out.replace(ClientConfigs.JSON.writeValueAsString(secret), "\"<secret>\"");
        }
      }
      return out;
    }
  }
}
