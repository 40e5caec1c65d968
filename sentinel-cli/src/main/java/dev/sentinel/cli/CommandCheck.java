package dev.sentinel.cli;

import dev.sentinel.core.config.ConfigException;
import dev.sentinel.core.config.YamlDocument;
import dev.sentinel.core.config.Backend;
import dev.sentinel.core.config.GatewayConfig;
import dev.sentinel.core.config.StdioBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Whether each stdio backend's program can be started: found as the operating system finds it
 * (a name without {@code /} on the gateway's {@code PATH}, a path with {@code /} from the
 * backend's working directory) and executable. A command line pasted whole into
 * {@code command} is the commonest mistake, with or without a {@code /}: it is refused with the
 * hint to split it into {@code args}. Stateless.
 */
final class CommandCheck {
  private static final Pattern SPACE = Pattern.compile("\\s");
  /** What the JDK searches on Linux and macOS when the gateway itself has no PATH. */
  private static final String DEFAULT_PATH = "/bin:/usr/bin";

  private CommandCheck() {}

  /**
   * The problems of a config's stdio commands, located in its file.
   *
   * @param environment the gateway's environment: its {@code PATH} is what a spawn searches
   */
  static List<ConfigException.Problem> problems(Path file, GatewayConfig config,
      Map<String, String> environment) {
    List<ConfigException.Problem> out = new ArrayList<>();
    YamlDocument document = document(file);
    List<Backend> backends = config.backends();
    for (int i = 0; i < backends.size(); i++) {
      if (!(backends.get(i) instanceof StdioBackend)) {
        continue;
      }
      StdioBackend backend = (StdioBackend) backends.get(i);
      String pointer = "/backends/" + i + "/stdio/command";
      String program = backend.command().get(0);
      // The loader resolved a command with a '/' against the config's folder: show it as written.
      String written = document != null && document.at(pointer).isString()
          ? document.at(pointer).asString() : program;
      Optional<String> problem = problem(written, program, backend.cwd(), environment.get("PATH"));
      if (problem.isEmpty()) {
        continue;
      }
      String subject = "backend '" + backend.name() + "'";
      out.add(document == null
          ? new ConfigException.Problem(String.valueOf(file), 0, 0, pointer, subject, problem.get())
          : document.problem(pointer, subject, problem.get()));
    }
    return out;
  }

  /**
   * What is wrong with starting {@code program}, if anything.
   *
   * @param written the command as the config writes it, for messages
   * @param program the command as the gateway will start it
   * @param cwd the backend's working directory, where a relative path with {@code /} starts
   * @param path the gateway's {@code PATH}, or null
   */
  static Optional<String> problem(String written, String program, Path cwd,
      @Nullable String path) {
    boolean spaced = SPACE.matcher(written).find();
    Optional<Path> found = resolve(program, cwd, path == null ? DEFAULT_PATH : path);
    if (found.isPresent() && Files.isExecutable(found.get())) {
      return Optional.empty();
    }
    if (spaced) {
      String[] words = written.trim().split("\\s+");
      List<String> args = new ArrayList<>();
      for (int i = 1; i < words.length; i++) {
        args.add(quote(words[i]));
      }
      return Optional.of("command '" + written + "' contains spaces, and no program has that"
          + " name: put the program alone in command and each argument in args, as in"
          + " command: " + words[0] + ", args: [" + String.join(", ", args) + "]");
    }
    if (found.isEmpty()) {
      return Optional.of(program.contains("/")
          ? "command '" + written + "' does not exist (looked for "
              + cwd.resolve(program).normalize() + "); fix the path, or install the program"
          : "command '" + written + "' is not found on PATH (" + (path == null ? DEFAULT_PATH
              + ", the default" : path) + "); install it, give its full path, or add its folder"
              + " to the PATH sentinel runs with");
    }
    return Optional.of("command '" + written + "' (" + found.get().normalize() + ") is not executable;"
        + " make it so (chmod +x) or name the interpreter in command and the script in args");
  }

  /** The file a spawn would execute, as the JDK's process launcher looks for it. */
  private static Optional<Path> resolve(String program, Path cwd, String path) {
    try {
      if (program.contains("/")) {
        Path file = cwd.resolve(program);
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
      }
      Path firstFound = null;
      for (String dir : path.split(":", -1)) {
        // An empty PATH entry means the current folder, as execvp has it.
        Path candidate = (dir.isEmpty() ? cwd : cwd.resolve(dir)).resolve(program);
        if (Files.isRegularFile(candidate)) {
          if (Files.isExecutable(candidate)) {
            return Optional.of(candidate);
          }
          firstFound = firstFound == null ? candidate : firstFound;
        }
      }
      return Optional.ofNullable(firstFound);
    } catch (InvalidPathException e) {
      return Optional.empty();
    }
  }

  private static @Nullable YamlDocument document(Path file) {
    try {
      return YamlDocument.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException | RuntimeException e) {
      // The config was just loaded from this file; without it the problems lose their lines only.
      return null;
    }
  }

  /** JSON string quoting for the hint (valid YAML too). */
  private static String quote(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
