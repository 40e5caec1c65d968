package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.cli.ClientConfigs.Server;
import dev.sentinel.cli.ClientConfigs.Transport;
import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.policy.PolicyOptions;
import dev.sentinel.policy.tools.PolicyTestReport;
import dev.sentinel.policy.tools.PolicyTests;
import dev.sentinel.mcp.gateway.GatewayRuntime;
import dev.sentinel.mcp.gateway.ToolReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sentinel init --from FILE}: a gateway config, a starter policy and its tests from the
 * MCP servers a client already has (see {@link ClientConfigs} for the formats read). Nothing is
 * written unless the whole result loads as {@code sentinel config check} loads it and its policy
 * tests pass; secrets found in the client's files are never copied. Not thread-safe.
 */
@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    description = {"Write sentinel.yaml, policy.yaml and policy.test.yaml from the MCP servers"
        + " in a client's config: Claude Code (.mcp.json, ~/.claude.json), Claude Desktop"
        + " (claude_desktop_config.json) or Cursor (.cursor/mcp.json, ~/.cursor/mcp.json).",
        "Each server becomes a backend (stdio: command, args, env; http: url, headers); an SSE"
            + " server is left out (Sentinel's remote backends speak Streamable HTTP). Values"
            + " that look like secrets are not copied: they become $${env:NAME} references, and"
            + " the variables to set are listed.",
        "The policy allows the tools whose annotations say read-only (readOnlyHint) and puts"
            + " the others behind confirm or denies them (--unknown). Annotations are known only"
            + " by starting the servers: --probe starts them, lists their tools and stops them;"
            + " without it every backend gets one rule for all its tools.",
        "Refuses to overwrite any of the three files without --force. Exit code 0 when written,"
            + " 1 otherwise (nothing written)."})
public final class InitCommand implements java.util.concurrent.Callable<Integer> {
  /** What a tool that is not read-only gets. */
  enum Unknown { CONFIRM, DENY }

  private final Map<String, String> environment;
  private final PolicyOptions policyOptions;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  @Option(names = "--from", required = true, paramLabel = "FILE",
      description = "a client's MCP config file; repeat to merge several (a server name in two"
          + " files is an error)")
  @SuppressWarnings("NullAway.Init") // required: set by picocli
  private List<Path> from;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", defaultValue = "sentinel.yaml",
      description = "the config to write (default: ${DEFAULT-VALUE}); policy.yaml and"
          + " policy.test.yaml are written beside it")
  @SuppressWarnings("NullAway.Init") // defaulted: set by picocli
  private Path output;

  @Option(names = "--unknown", paramLabel = "confirm|deny", defaultValue = "confirm",
      description = "what tools not annotated read-only get: confirm (a human says yes to each"
          + " call; the default) or deny")
  @SuppressWarnings("NullAway.Init") // defaulted: set by picocli
  private String unknown;

  @Option(names = "--probe", description = "start the servers, list their tools with their"
      + " annotations, stop them, and write rules per tool")
  private boolean probe;

  @Option(names = "--project", paramLabel = "DIR", description = "with ~/.claude.json: the"
      + " project whose local-scope servers are read too (default: the current folder)")
  private @Nullable Path project;

  @Option(names = "--force", description = "overwrite existing files")
  private boolean force;

  /**
   * An init command.
   *
   * @param environment the variables {@code ${env:...}} read when the result is checked
   * @param policyOptions how the written policy is compiled when it is checked
   */
  public InitCommand(Map<String, String> environment, PolicyOptions policyOptions) {
    this.environment = Map.copyOf(environment);
    this.policyOptions = Objects.requireNonNull(policyOptions, "policyOptions");
  }

  /**
   * Reads the client files, plans the backends, writes the three files into a scratch folder
   * beside the output, checks them as {@code config check} and {@code policy test} would (after
   * listing the tools with {@code --probe}), and only then moves them into place.
   *
   * @return 0 when written
   * @throws UserError when a client file or the output cannot be used; nothing is written
   */
  @Override
  public Integer call() {
    CommandLine line = spec.commandLine();
    Unknown mode;
    try {
      mode = Unknown.valueOf(unknown.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(line, "--unknown takes confirm or deny, not '"
          + unknown + "'");
    }
    Path config = output.toAbsolutePath().normalize();
    Path dir = config.getParent();
    if (dir == null) {
      throw new UserError("cannot write the config as " + config + ": it is a folder",
          "give --output a file, such as sentinel.yaml", null);
    }
    if (!Files.isDirectory(dir)) {
      throw new UserError("no such folder: " + dir, "create it first, or give --output a file"
          + " in a folder that exists", null);
    }
    Path policy = dir.resolve("policy.yaml");
    Path tests = dir.resolve("policy.test.yaml");
    if (!force) {
      for (Path file : List.of(config, policy, tests)) {
        if (Files.exists(file)) {
          throw new UserError(file + " exists", "pass --force to overwrite it, or --output"
              + " another file in another folder", null);
        }
      }
    }
    Path projectDir = project != null ? project : Path.of("").toAbsolutePath();
    List<Server> servers = new ArrayList<>();
    Map<String, String> seen = new HashMap<>();
    for (Path file : from) {
      for (Server server : ClientConfigs.servers(file, ClientConfigs.read(file), projectDir)) {
        String other = seen.putIfAbsent(server.name(), server.source());
        if (other != null) {
          throw new UserError("server '" + ClientConfigs.printable(server.name()) + "' is in both " + other + " and "
              + server.source(), "rename one in its client's file, or import the files one at"
              + " a time into different folders", null);
        }
        servers.add(server);
      }
    }
    Plan plan = Plan.of(servers);
    PrintWriter out = line.getOut();
    plan.report.forEach(out::println);
    String user = System.getProperty("user.name", "local");
    String principal = user == null || user.isBlank() ? "local" : user;

    Path scratch;
    try {
      scratch = Files.createTempDirectory(dir, ".sentinel-init-");
    } catch (IOException e) {
      throw new UserError("cannot write in " + dir + ": " + e.getMessage(),
          "choose a folder you may write to with --output", e);
    }
    try {
      Map<String, ToolReport> probed = Map.of();
      String configText = plan.config(principal, from);
      write(scratch.resolve("sentinel.yaml"), configText);
      write(scratch.resolve("policy.yaml"), plan.policy(mode, Map.of(), null));
      write(scratch.resolve("policy.test.yaml"), plan.tests(mode, Map.of(), principal));
      Map<String, String> checkEnv = new HashMap<>(environment);
      plan.variables.keySet().forEach(name -> checkEnv.putIfAbsent(name, "placeholder"));
      GatewayConfig loaded = load(scratch.resolve("sentinel.yaml"), checkEnv);
      ToolReport report = null;
      if (probe) {
        // The servers get the secrets the client's file holds, in memory only.
        Map<String, String> probeEnv = new HashMap<>(environment);
        plan.variables.forEach((name, value) -> {
          if (value != null) {
            probeEnv.putIfAbsent(name, value);
          }
        });
        plan.variables.keySet().forEach(name -> probeEnv.putIfAbsent(name, ""));
        report = GatewayRuntime.checkTools(load(scratch.resolve("sentinel.yaml"), probeEnv),
            Clock.system());
        for (String backend : plan.backends()) {
          String problem = report.problems().get(backend);
          long count = report.tools().stream().filter(t -> t.backend().equals(backend)).count();
          out.println(problem != null ? "probe " + backend + ": not listed (" + problem
              + "): one rule for all its tools" : "probe " + backend + ": " + count + " tools, "
              + report.tools().stream().filter(t -> t.backend().equals(backend) && t.readOnly())
                  .count() + " read-only by their annotations");
          report.tools().stream().filter(t -> t.backend().equals(backend)).forEach(t ->
              out.println("  " + t.name() + (t.readOnly() ? "  read-only" : "")
                  + (t.annotations().path("destructiveHint").asBoolean(false)
                      ? "  destructive" : "")));
        }
        write(scratch.resolve("policy.yaml"), plan.policy(mode, tools(report), report));
        write(scratch.resolve("policy.test.yaml"), plan.tests(mode, tools(report), principal));
        loaded = load(scratch.resolve("sentinel.yaml"), checkEnv);
      }
      PolicyTestReport results = PolicyTests.run(loaded.policy(), scratch.resolve("policy.test.yaml"));
      if (!results.passed()) {
        throw new IllegalStateException("the written policy fails its own tests: "
            + results.render());
      }
      for (ConfigException.Problem problem : CommandCheck.problems(
          scratch.resolve("sentinel.yaml"), loaded, environment)) {
        out.println("warning: " + problem.subject() + ": " + problem.message() + " (config check will fail until it is"
            + " installed)");
      }
      move(scratch.resolve("sentinel.yaml"), config);
      move(scratch.resolve("policy.yaml"), policy);
      move(scratch.resolve("policy.test.yaml"), tests);
      out.println("wrote " + config + ", " + policy.getFileName() + " and "
          + tests.getFileName() + " (" + Summary.plural(plan.backends().size(), "backend") + ")");
      if (!plan.variables.isEmpty()) {
        out.println("set before starting sentinel: " + String.join(", ", plan.variables.keySet())
            + " (sentinel client add puts the ones the client's file holds into its entry for"
            + " Sentinel)");
      }
      out.println("next: sentinel config check " + config + "; sentinel policy test " + tests
          + "; sentinel client add claude-code|claude-desktop|cursor --config " + config);
      out.flush();
      return 0;
    } catch (ConfigException e) {
      // A value the client accepts that Sentinel does not (a url without a scheme, a missing
      // cwd): named by backend, without the scratch file's path.
      List<String> problems = new ArrayList<>();
      for (ConfigException.Problem problem : e.problems()) {
        problems.add((problem.subject() == null ? "" : problem.subject() + ": ")
            + problem.message());
      }
      throw new UserError("the servers do not make a valid Sentinel config: "
          + String.join("; ", problems), "fix that server in the client's file, or leave it"
          + " out and add it to sentinel.yaml by hand (docs/config.md)", e);
    } finally {
      delete(scratch);
    }
  }

  private GatewayConfig load(Path file, Map<String, String> env) {
    return GatewayConfig.load(file, env, policyOptions);
  }

  private static Map<String, List<ToolReport.Tool>> tools(ToolReport report) {
    Map<String, List<ToolReport.Tool>> out = new LinkedHashMap<>();
    for (ToolReport.Tool tool : report.tools()) {
      out.computeIfAbsent(tool.backend(), b -> new ArrayList<>()).add(tool);
    }
    return out;
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void move(Path from, Path to) {
    try {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a leftover scratch folder holds nothing secret: the client's secrets are never written
    }
  }

  /** YAML's double-quoted scalar: JSON's string syntax is a subset of it. */
  static String quote(String text) {
    return ClientConfigs.JSON.writeValueAsString(text);
  }

  /** A glob matching exactly this name. */
  private static String literalGlob(String name) {
    return name.replaceAll("([\\\\*?\\[\\]{}])", "\\\\$1");
  }

  /** The servers as backends: their YAML, what was done with each value, the variables. */
  static final class Plan {
    private final List<String> report = new ArrayList<>();
    private final StringBuilder backendsYaml = new StringBuilder();
    /** Each variable the config reads, with the value the client's file held (null: a reference). */
    private final Map<String, String> variables = new LinkedHashMap<>();
    private final Map<String, String> origins = new LinkedHashMap<>();
    private final List<String> backends = new ArrayList<>();
    private final List<String> skipped = new ArrayList<>();

    List<String> backends() {
      return backends;
    }

    static Plan of(List<Server> servers) {
      Plan plan = new Plan();
      Map<String, String> names = new HashMap<>();
      for (Server server : servers) {
        String name = ClientConfigs.backendName(server.name());
        if (name.isEmpty()) {
          throw new UserError(server.source() + ": server '" + ClientConfigs.printable(server.name()) + "' has no letter"
              + " or digit to make a backend name of", "rename it in the client's file", null);
        }
        String other = names.putIfAbsent(name, server.name());
        if (other != null) {
          throw new UserError("servers '" + ClientConfigs.printable(other) + "' and '"
              + ClientConfigs.printable(server.name()) + "' both become"
              + " backend '" + name + "' (backend names are lower case letters, digits, '_'"
              + " and '-')", "rename one of them in the client's file", null);
        }
      }
      for (Server server : servers) {
        plan.add(server, ClientConfigs.backendName(server.name()));
      }
      if (servers.isEmpty()) {
        throw new UserError("no MCP servers in the given files", "give a file with"
            + " mcpServers; with ~/.claude.json, --project DIR reads that project's servers too",
            null);
      }
      if (plan.backends.isEmpty()) {
        throw new UserError("no server to import: " + String.join("; ", plan.skipped),
            "Sentinel governs stdio and Streamable HTTP servers", null);
      }
      return plan;
    }

    private void add(Server server, String name) {
      String label = "backend " + name + (name.equals(server.name()) ? ""
          : " (server '" + ClientConfigs.printable(server.name()) + "', renamed: backend names are lower case letters,"
              + " digits, '_' and '-', without '__')");
      if (server.transport() == Transport.SSE) {
        String why = "server '" + ClientConfigs.printable(server.name()) + "' (" + server.source() + ") uses SSE, the"
            + " old HTTP transport, which Sentinel's backends do not speak";
        skipped.add(why);
        report.add("skipped " + why + "; if it also serves Streamable HTTP (often at /mcp),"
            + " add it by hand as an http backend");
        backendsYaml.append("  # Skipped: ").append(why).append(".\n");
        return;
      }
      backends.add(name);
      report.add(label + ": " + server.transport().name().toLowerCase(Locale.ROOT) + ", from "
          + server.source());
      server.notes().forEach(note -> report.add("  " + note));
      StringBuilder y = backendsYaml;
      y.append("  # From ").append(server.source()).append(", server '")
          .append(ClientConfigs.printable(server.name()))
          .append("'.\n");
      y.append("  - name: ").append(name).append('\n');
      if (server.transport() == Transport.HTTP) {
        y.append("    http:\n");
        y.append("      url: ").append(quote(expandable(name, "url", cursor(server,
            Objects.requireNonNull(server.url(), "an http server has a url")), true)))
            .append('\n');
        if (!server.headers().isEmpty()) {
          y.append("      headers:\n");
          server.headers().forEach((key, value) -> y.append("        ").append(quote(key))
              .append(": ").append(quote(header(name, key, cursor(server, value)))).append('\n'));
        }
        return;
      }
      y.append("    stdio:\n");
      String command = cursor(server,
          Objects.requireNonNull(server.command(), "a stdio server has a command"));
      List<String> args = new ArrayList<>();
      server.args().forEach(arg -> args.add(cursor(server, arg)));
      if (command.strip().contains(" ") && args.isEmpty() && !command.contains("\"")
          && !command.contains("'") && !Files.exists(Path.of(command))) {
        // A whole command line in command: the clients split nothing, but the intent is plain.
        List<String> words = List.of(command.strip().split("\\s+"));
        report.add("  command '" + command + "' split into command and args");
        command = words.get(0);
        args.addAll(words.subList(1, words.size()));
      }
      if (command.contains("/") && !Path.of(command).isAbsolute() && server.cwd() != null) {
        command = server.cwd().resolve(command).normalize().toString();
      }
      Map<String, String> env = new LinkedHashMap<>();
      // Sentinel passes command and args as written: a reference or a secret there goes
      // through sh, which expands it from a variable set in env.
      List<String> words = new ArrayList<>();
      boolean shell = false;
      words.add(command);
      words.addAll(args);
      List<String> script = new ArrayList<>();
      for (int i = 0; i < words.size(); i++) {
        String word = words.get(i);
        String previous = i == 0 ? "" : words.get(i - 1);
        Matcher refs = ClientConfigs.references().matcher(word);
        if (refs.find()) {
          shell = true;
          StringBuilder s = new StringBuilder("\"");
          int at = 0;
          refs.reset();
          while (refs.find()) {
            s.append(doubleQuoted(word.substring(at, refs.start())));
            String var = refs.group(1);
            s.append("${").append(var);
            if (refs.group(2) != null) {
              s.append(":-").append(doubleQuoted(refs.group(3)));
            }
            s.append('}');
            env.put(var, "${env:" + var + (refs.group(2) != null ? ":-}" : "}"));
            reference(var, name);
            at = refs.end();
          }
          s.append(doubleQuoted(word.substring(at))).append('"');
          script.add(s.toString());
          report.add("  " + (i == 0 ? "command" : "argument " + i) + " refers to a variable: run"
              + " through sh, which expands it");
        } else if (i > 0 && (ClientConfigs.secret("", word) || (previous.startsWith("-")
            && ClientConfigs.secret(previous, word) && !word.startsWith("-")))) {
          shell = true;
          String var = secretVariable(name, name + "_" + (previous.startsWith("-")
              ? previous.replaceAll("^-+", "").replaceAll("=.*", "") : "ARG" + i), word);
          env.put(var, "${env:" + var + "}");
          script.add("\"$" + var + "\"");
          report.add("  argument " + i + " looks like a secret: not copied; sh passes $" + var);
        } else {
          script.add("'" + word.replace("'", "'\\''") + "'");
        }
      }
      if (shell) {
        y.append("      # Run through sh so that variables expand in the arguments (Sentinel passes")
            .append(" arguments as written).\n");
        y.append("      command: sh\n");
        y.append("      args: [\"-c\", ").append(quote("exec " + String.join(" ", script)))
            .append("]\n");
      } else {
        y.append("      command: ").append(quote(command)).append('\n');
        if (!args.isEmpty()) {
          y.append("      args: [").append(String.join(", ", args.stream().map(InitCommand::quote)
              .toList())).append("]\n");
        }
      }
      server.env().forEach((key, value) -> {
        if (!ENV_NAME.matcher(key).matches()) {
          throw new UserError(server.source() + ": server '" + ClientConfigs.printable(server.name())
              + "': env name '" + ClientConfigs.printable(key) + "' is not a variable name", "use letters, digits and '_', not starting"
              + " with a digit", null);
        }
        env.put(key, envValue(name, key, cursor(server, value)));
      });
      if (!env.isEmpty()) {
        y.append("      env:\n");
        env.forEach((key, value) -> y.append("        ").append(key).append(": ")
            .append(quote(value)).append(value.startsWith("${env:") && !value.contains(":-")
                ? "  # set " + value.substring(6, value.length() - 1) + " where sentinel runs"
                : "").append('\n'));
      }
      if (server.cwd() != null) {
        y.append("      cwd: ").append(quote(server.cwd().toString())).append('\n');
      }
    }

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** Cursor's own variables, which only Cursor expands. */
    private static String cursor(Server server, String value) {
      String home = ClientConfigs.home().toString();
      String folder = server.cwd() == null ? home : server.cwd().toString();
      return value.replace("${userHome}", home).replace("${workspaceFolder}", folder);
    }

    private static String doubleQuoted(String text) {
      return text.replaceAll("([\"$`\\\\])", "\\\\$1");
    }

    /** An env value: a client's reference becomes Sentinel's, a secret a new reference. */
    private String envValue(String backend, String key, String value) {
      Matcher whole = ClientConfigs.reference(value);
      if (whole == null && ClientConfigs.references().matcher(value).find()) {
        return expandable(backend, key, value, false);
      }
      if (whole != null) {
        reference(whole.group(1), backend);
        report.add("  env " + key + ": the client's reference, kept as ${env:"
            + whole.group(1) + (whole.group(2) != null ? ":-..." : "") + "}");
        return "${env:" + whole.group(1) + (whole.group(2) != null
            ? ":-" + whole.group(3).replace("${", "$${") : "") + "}";
      }
      if (ClientConfigs.secret(key, value)) {
        String var = secretVariable(backend, key, value);
        report.add("  env " + key + ": looks like a secret: not copied; read from ${env:" + var
            + "}");
        return "${env:" + var + "}";
      }
      report.add("  env " + key + ": copied (not a secret by its name or form)");
      return value.replace("${", "$${");
    }

    /** A header: a secret, after a scheme such as Bearer, becomes a reference. */
    private String header(String backend, String key, String value) {
      if (ClientConfigs.references().matcher(value).find()) {
        return expandable(backend, key, value, false);
      }
      if (!ClientConfigs.secret(key, value)) {
        report.add("  header " + key + ": copied (not a secret by its name or form)");
        return value.replace("${", "$${");
      }
      Matcher scheme = Pattern.compile("(?i)((?:bearer|basic|token)\\s+)(\\S+)").matcher(value);
      String base = backend + "_" + (key.equalsIgnoreCase("authorization") ? "TOKEN" : key);
      if (scheme.matches()) {
        String var = secretVariable(backend, base, scheme.group(2));
        report.add("  header " + key + ": a secret: not copied; read from ${env:" + var + "}");
        return scheme.group(1) + "${env:" + var + "}";
      }
      String var = secretVariable(backend, base, value);
      report.add("  header " + key + ": a secret: not copied; read from ${env:" + var + "}");
      return "${env:" + var + "}";
    }

    /**
     * A value Sentinel expands (url, header, env): the client's references become Sentinel's,
     * any other {@code ${} is literal; in a url, a secret query parameter becomes a reference.
     */
    private String expandable(String backend, String key, String value, boolean url) {
      StringBuilder out = new StringBuilder();
      Matcher refs = ClientConfigs.references().matcher(value);
      int at = 0;
      while (refs.find()) {
        out.append(literal(backend, value.substring(at, refs.start()), url, at == 0));
        reference(refs.group(1), backend);
        out.append("${env:").append(refs.group(1));
        if (refs.group(2) != null) {
          out.append(":-").append(refs.group(3).replace("${", "$${"));
        }
        out.append('}');
        at = refs.end();
      }
      out.append(literal(backend, value.substring(at), url, at == 0));
      if (!url && at > 0) {
        report.add("  " + key + ": the client's references kept as ${env:...}");
      }
      return out.toString();
    }

    private static final Pattern AUTHORITY = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*");
    private static final Pattern URL_TOKEN = Pattern.compile("[^/?&#=;:@,\\s]+");

    /**
     * Text between references, a literal {@code ${} escaped; in a url, a password and every
     * part that looks like a secret (a path segment such as a key in the path, a query value
     * whose name or form says secret, a fragment) become references.
     */
    private String literal(String backend, String text, boolean url, boolean first) {
      if (!url) {
        return text.replace("${", "$${");
      }
      StringBuilder out = new StringBuilder();
      int from = 0;
      Matcher authority = AUTHORITY.matcher(text);
      if (first && authority.find()) {
        String host = authority.group();
        int at = host.lastIndexOf('@');
        int colon = at < 0 ? -1 : host.indexOf(':', host.indexOf("://") + 3);
        if (colon >= 0 && colon < at) {
          String var = secretVariable(backend, backend + "_PASSWORD", host.substring(colon + 1, at));
          report.add("  url password: not copied; read from ${env:" + var + "}");
          out.append(host.substring(0, colon + 1).replace("${", "$${")).append("${env:")
              .append(var).append('}').append(host.substring(at).replace("${", "$${"));
        } else {
          out.append(host.replace("${", "$${"));
        }
        from = authority.end();
      }
      Matcher token = URL_TOKEN.matcher(text).region(from, text.length());
      int at = from;
      while (token.find()) {
        out.append(text.substring(at, token.start()).replace("${", "$${"));
        String part = token.group();
        String name = "";
        if (token.start() > 0 && text.charAt(token.start() - 1) == '=') {
          int begin = token.start() - 1;
          while (begin > 0 && "?&;#/".indexOf(text.charAt(begin - 1)) < 0) {
            begin--;
          }
          name = text.substring(begin, token.start() - 1);
        }
        boolean secret = name.isEmpty() ? ClientConfigs.secret("", part) && !part.contains(".")
            || ClientConfigs.secretForm(part) : ClientConfigs.secret(name, part);
        if (secret) {
          String var = secretVariable(backend, backend + "_" + (name.isEmpty() ? "URL_SECRET"
              : name), part);
          report.add("  url " + (name.isEmpty() ? "part" : "parameter " + name) + ": a secret:"
              + " not copied; read from ${env:" + var + "}");
          out.append("${env:").append(var).append('}');
        } else {
          out.append(part.replace("${", "$${"));
        }
        at = token.end();
      }
      out.append(text.substring(at).replace("${", "$${"));
      return out.toString();
    }

    private void reference(String var, String backend) {
      variables.putIfAbsent(var, null);
      origins.putIfAbsent(var, backend);
    }

    /**
     * The variable a secret is read from: its key (an env name; a header, url parameter or
     * argument comes with its backend's name before it), else the backend's name before that.
     */
    private String secretVariable(String backend, String key, String value) {
      String own = key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9_]+", "_")
          .replaceAll("^_+|_+$", "");
      if (own.isEmpty() || !Character.isLetter(own.charAt(0)) && own.charAt(0) != '_') {
        own = "V_" + own;
      }
      String prefixed = backend.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]+", "_") + "_" + own;
      for (String candidate : new String[] {own, prefixed}) {
        if (!variables.containsKey(candidate) || value.equals(variables.get(candidate))) {
          variables.put(candidate, value);
          origins.putIfAbsent(candidate, backend);
          return candidate;
        }
      }
      for (int n = 2; ; n++) {
        if (!variables.containsKey(prefixed + "_" + n)) {
          variables.put(prefixed + "_" + n, value);
          return prefixed + "_" + n;
        }
      }
    }

    String config(String principal, List<Path> sources) {
      StringBuilder y = new StringBuilder();
      y.append("# Written by 'sentinel init' from:\n");
      sources.forEach(s -> y.append("#   ").append(s.toAbsolutePath().normalize()).append('\n'));
      y.append("# Check it: sentinel config check sentinel.yaml\n");
      y.append("# Reference: docs/config.md; the policy: policy.yaml and its tests: policy.test.yaml.\n");
      if (variables.values().stream().anyMatch(Objects::nonNull)) {
        y.append("#\n# Secrets in the client's files were not copied here; set these variables")
            .append(" where sentinel runs\n# (sentinel client add copies them into the client's")
            .append(" entry for Sentinel):\n");
        variables.forEach((var, value) -> {
          if (value != null) {
            y.append("#   ").append(var).append(" (backend ").append(origins.get(var))
                .append(")\n");
          }
        });
      }
      y.append("\n# The stdio gateway runs as you: the policy and the audit trail name this principal.\n");
      y.append("identity:\n  principal: { id: ").append(quote(principal)).append(" }\n\n");
      y.append("backends:\n").append(backendsYaml).append('\n');
      y.append("policy: policy.yaml\n");
      return y.toString();
    }

    String policy(Unknown mode, Map<String, List<ToolReport.Tool>> tools,
        @Nullable ToolReport report) {
      StringBuilder y = new StringBuilder();
      y.append("# Written by 'sentinel init': a starting point to review, not a finished policy.\n")
          .append("# Deny by default: a call no rule allows is refused. Listing tools is allowed,\n")
          .append("# and a list shows only the tools some rule could allow. Reference: docs/policy.md.\n")
          .append("# Test it: sentinel policy test policy.test.yaml\n");
      StringBuilder rules = new StringBuilder();
      for (String backend : backends) {
        List<ToolReport.Tool> listed = tools.get(backend);
        String problem = report == null ? null : report.problems().get(backend);
        if (report == null || problem != null || listed == null) {
          String why = report == null
              ? "its tools were not listed (run 'sentinel init --probe' to start the\n  #"
                  + " servers and allow the read-only ones by name)"
              : problem != null ? "it could not be started to list its tools (" + oneLine(problem)
                  + ")" : "it listed no tools";
          if (mode == Unknown.CONFIRM) {
            rules.append("  # ").append(backend).append(": ").append(why).append(";\n")
                .append("  # until then a human confirms every call of its tools (--unknown confirm).\n")
                .append("  - id: ").append(backend).append("-confirm-all\n")
                .append("    confirm: { tools: [").append(quote(backend + "__*")).append("] }\n");
          } else {
            rules.append("  # ").append(backend).append(": ").append(why).append(";\n")
                .append("  # no rule allows its tools, so every call is refused (--unknown deny).\n")
                .append("  # Add allow rules naming the tools it may use.\n");
          }
          continue;
        }
        List<String> readOnly = new ArrayList<>();
        List<String> others = new ArrayList<>();
        for (ToolReport.Tool tool : listed) {
          (tool.readOnly() ? readOnly : others).add(quote(literalGlob(tool.name())));
        }
        if (!readOnly.isEmpty()) {
          rules.append("  # ").append(backend).append(": read-only by the annotations it listed")
              .append(" (readOnlyHint: true).\n  # Annotations are the server's own claim, not a")
              .append(" guarantee: review this list.\n")
              .append("  - id: ").append(backend).append("-read-only\n")
              .append("    allow: { tools: [").append(String.join(", ", readOnly)).append("] }\n");
        }
        if (!others.isEmpty()) {
          rules.append("  # ").append(backend).append(": the other tools it listed (their")
              .append(" annotations do not say read-only),\n");
          if (mode == Unknown.CONFIRM) {
            rules.append("  # so a human confirms each call (--unknown confirm).\n")
                .append("  - id: ").append(backend).append("-confirm\n")
                .append("    confirm: { tools: [").append(String.join(", ", others)).append("] }\n");
          } else {
            rules.append("  # refused (--unknown deny). Take a tool out of this list and allow it")
                .append(" by another rule to let it through.\n")
                .append("  - id: ").append(backend).append("-deny\n")
                .append("    deny: { tools: [").append(String.join(", ", others)).append("] }\n")
                .append("    reason: ").append(quote("not read-only: refused by the starter"
                    + " policy ('sentinel init --unknown deny')")).append('\n');
          }
        }
        rules.append("  # ").append(backend).append(": a tool it adds later matches no rule and")
            .append(" is refused until one allows it.\n");
      }
      String text = rules.toString();
      if (text.contains("  - id:")) {
        y.append("rules:\n").append(text);
      } else {
        y.append(text.replaceAll("(?m)^  ", "")).append("rules: []\n");
      }
      return y.toString();
    }

    String tests(Unknown mode, Map<String, List<ToolReport.Tool>> tools, String principal) {
      StringBuilder y = new StringBuilder();
      y.append("# Written by 'sentinel init': the starter policy's cases. Run: sentinel policy")
          .append(" test policy.test.yaml\n");
      y.append("tests:\n");
      String who = "{ id: " + quote(principal) + " }";
      String unknownEffect = mode == Unknown.CONFIRM ? "confirm" : "deny";
      for (String backend : backends) {
        List<ToolReport.Tool> listed = tools.get(backend);
        if (listed == null) {
          String tool = backend + "__any_tool";
          y.append(test(backend + ": any tool is " + (mode == Unknown.CONFIRM ? "confirmed"
              : "refused") + " until its tools are known", who, tool, unknownEffect,
              mode == Unknown.CONFIRM ? backend + "-confirm-all" : null));
          continue;
        }
        for (ToolReport.Tool t : listed) {
          String effect = t.readOnly() ? "allow" : unknownEffect;
          String rule = backend + (t.readOnly() ? "-read-only"
              : mode == Unknown.CONFIRM ? "-confirm" : "-deny");
          y.append(test(backend + ": " + t.name() + (t.readOnly() ? " is read-only: allowed"
              : mode == Unknown.CONFIRM ? " needs a human" : " is refused"), who, t.name(), effect,
              rule));
        }
        String absent = backend + "__a_tool_it_did_not_list";
        while (listed.stream().map(ToolReport.Tool::name).toList().contains(absent)) {
          absent = absent + "_";
        }
        y.append(test(backend + ": a tool it did not list is refused", who, absent, "deny", null));
      }
      return y.toString();
    }

    private static String test(String name, String who, String tool, String expect,
        @Nullable String rule) {
      return "  - name: " + quote(name) + "\n"
          + "    principal: " + who + "\n"
          + "    request: { tool: " + quote(tool) + " }\n"
          + "    expect: " + expect + "\n"
          + (rule == null ? "" : "    rules: [" + quote(rule) + "]\n");
    }

    private static String oneLine(String text) {
      String s = text.replaceAll("\\s+", " ").strip();
      return s.length() > 160 ? s.substring(0, 157) + "..." : s;
    }
  }
}
