package dev.sentinel.cli;

import dev.sentinel.api.Clock;
import dev.sentinel.core.notify.Notifier;
import dev.sentinel.operator.Operations;
import dev.sentinel.operator.PinOperations;
import dev.sentinel.core.pinning.ToolDefinitions;
import dev.sentinel.core.pinning.ToolPin;
import dev.sentinel.jdbc.JdbcStores;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code sentinel tools pins|diff|approve|reject|pin}: the tool-definition pins in a gateway's
 * database, which every gateway on it holds and releases tools by. The same operations as the
 * admin API's {@code /admin/api/tools}, from sentinel-core's operator service. Not thread-safe.
 */
@Command(
    name = "tools",
    mixinStandardHelpOptions = true,
    description = {"Review tool definitions that changed since they were pinned, and pin them.",
        "Works on a gateway's database: --config FILE or --db URL. Every gateway on the database "
        + "follows within a second."})
public final class ToolsCommand implements Runnable {
  private final Map<String, String> environment;
  private final Clock clock;

  @SuppressWarnings("NullAway.Init") // set by picocli
  @Spec private CommandSpec spec;

  /**
   * A tools command.
   *
   * @param environment the variables that {@code ${env:...}} in config files, {@value
   *     DatabaseOptions#PASSWORD_VARIABLE} and the default of {@code --by} ({@code USER}) read
   */
  public ToolsCommand(Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    this.clock = Clock.system();
  }

  /** Without a subcommand: a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command: pins, diff, approve, reject or pin");
  }

  /** Lists the pins. */
  @Command(name = "pins", mixinStandardHelpOptions = true,
      description = "List the pinned tools, and the definitions held for an operator.")
  int pins(
      @Option(names = "--held", description = "only the tools held for an operator") boolean held,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "pins");
    return withPins(line, database, (pins, stores) -> {
      List<ToolPin> list = Operator.call(line, held ? pins::held : pins::list);
      PrintWriter out = line.getOut();
      if (list.isEmpty()) {
        out.println((held ? "No tool is held" : "No tool is pinned") + " in "
            + stores.description() + ".");
        return 0;
      }
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"BACKEND", "TOOL", "STATE", "APPROVED", "LISTED", "UPDATED", "BY"});
      for (ToolPin pin : list) {
        rows.add(new String[] {pin.backend(), visible(pin.tool()), state(pin),
            shortDigest(pin.digest()), shortDigest(pin.pendingDigest()),
            pin.updatedAt().toString(), visible(pin.updatedBy())});
      }
      table(out, rows);
      return 0;
    });
  }

  /** Shows what changed in a held definition. */
  @Command(name = "diff", mixinStandardHelpOptions = true,
      description = {"Show what the held definition of a tool changes, by JSON Pointer, and the "
          + "hidden instructions it carries.", "TOOL is the name the backend lists (no prefix)."})
  int diff(
      @Parameters(index = "0", paramLabel = "BACKEND") String backend,
      @Parameters(index = "1", paramLabel = "TOOL") String tool,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "diff");
    return withPins(line, database, (pins, stores) -> {
      PinOperations.Review review = Operator.call(line, () -> pins.review(backend, tool));
      print(line.getOut(), review);
      return 0;
    });
  }

  /** Approves the held definition. */
  @Command(name = "approve", mixinStandardHelpOptions = true,
      description = {"Approve the held definition of a tool: it is listed and callable again.",
          "--digest names the definition reviewed (sentinel tools diff): one that changed since "
          + "is not approved."})
  int approve(
      @Parameters(index = "0", paramLabel = "BACKEND") String backend,
      @Parameters(index = "1", paramLabel = "TOOL") String tool,
      @Option(names = "--digest", paramLabel = "PREFIX",
          description = "the held definition's digest, or its first 8 or more characters")
          String digest,
      @Option(names = "--by", paramLabel = "NAME",
          description = "who approves, for the record; default: $USER") String by,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "approve");
    return withPins(line, database, (pins, stores) -> {
      ToolPin pin = Operator.call(line, () -> pins.approve(backend, tool, digest, who(by)));
      line.getOut().println("Approved tool " + visible(tool) + " of backend " + backend + " ("
          + shortDigest(pin.digest()) + ") in " + stores.description() + ".");
      return 0;
    });
  }

  /** Rejects the held definition. */
  @Command(name = "reject", mixinStandardHelpOptions = true,
      description = "Reject the held definition of a tool: it stays hidden and refused.")
  int reject(
      @Parameters(index = "0", paramLabel = "BACKEND") String backend,
      @Parameters(index = "1", paramLabel = "TOOL") String tool,
      @Option(names = "--by", paramLabel = "NAME",
          description = "who rejects, for the record; default: $USER") String by,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "reject");
    return withPins(line, database, (pins, stores) -> {
      Operator.call(line, () -> pins.reject(backend, tool, who(by)));
      line.getOut().println("Rejected the held definition of tool " + visible(tool)
          + " of backend " + backend + "; it stays held.");
      return 0;
    });
  }

  /** Pins definitions ahead of first use. */
  @Command(name = "pin", mixinStandardHelpOptions = true,
      description = {"Pin tool definitions ahead, as approved: a backend's tools/list result "
          + "saved as JSON ({\"tools\": [...]}), a list of tools, or one tool.",
          "A gateway then holds any other definition, even the first it sees."})
  int pin(
      @Option(names = "--backend", required = true, paramLabel = "NAME",
          description = "the backend that lists the tools") String backend,
      @Option(names = "--from", required = true, paramLabel = "FILE",
          description = "the JSON file") Path file,
      @Option(names = "--by", paramLabel = "NAME",
          description = "who pins, for the record; default: $USER") String by,
      @Mixin DatabaseOptions database) {
    CommandLine line = Subcommands.of(spec, "pin");
    JsonNode definitions;
    try {
      definitions = JsonMapper.shared().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UserError("Cannot read " + file + ": " + e.getMessage(),
          "check the path of --from", e);
    } catch (RuntimeException e) {
      throw new CommandLine.ParameterException(line, "--from " + file + " is not JSON: "
          + e.getMessage());
    }
    return withPins(line, database, (pins, stores) -> {
      List<ToolPin> pinned = Operator.call(line, () -> pins.pin(backend, definitions, who(by)));
      for (ToolPin pin : pinned) {
        line.getOut().println("Pinned tool " + visible(pin.tool()) + " of backend " + backend
            + " (" + shortDigest(pin.digest()) + ")" + (pin.held() ? "; another definition is"
            + " still held" : "") + ".");
      }
      return 0;
    });
  }

  /** A step that needs the pins and the stores they live in. */
  @FunctionalInterface
  private interface Step {
    int run(PinOperations pins, JdbcStores stores);
  }

  private int withPins(CommandLine line, DatabaseOptions database, Step step) {
    try (JdbcStores stores = database.open(line, environment, clock, true);
        Notifier notifier = database.notifier(environment)) {
      PinOperations pins = Operations.builder().stores(stores).notifier(notifier).clock(clock)
          .build().pins();
      int code = step.run(pins, stores);
      line.getOut().flush();
      return code;
    }
  }

  private String who(String by) {
    if (by != null) {
      return by;
    }
    String user = environment.get("USER");
    return user == null || user.isBlank() ? "operator" : user;
  }

  /** A review as operators read it: the changes, old and new, then the hidden instructions. */
  static void print(PrintWriter out, PinOperations.Review review) {
    ToolPin pin = review.pin();
    out.println("Tool " + visible(pin.tool()) + " of backend " + pin.backend() + ": " + state(pin)
        + " (" + pin.updatedAt() + ", by " + visible(pin.updatedBy()) + ")");
    out.println("  approved  " + (pin.digest() == null ? "none" : pin.digest()));
    if (pin.held()) {
      out.println("  listed    " + pin.pendingDigest());
      out.println("Changes:");
      for (ToolDefinitions.Change change : review.changes()) {
        out.println("  " + (change.pointer().isEmpty() ? "(whole definition)"
            : visible(change.pointer())));
        if (change.before() != null) {
          out.println("    - " + visible(change.before().toString()));
        }
        if (change.after() != null) {
          out.println("    + " + visible(change.after().toString()));
        }
      }
    }
    if (!review.findings().isEmpty()) {
      out.println("Hidden instructions" + (pin.held() ? " in the listed definition:" : ":"));
      for (ToolDefinitions.Finding finding : review.findings()) {
        out.println("  " + visible(finding.pointer()) + "  " + finding.kind() + "  "
            + visible(finding.detail()));
      }
    }
    if (pin.held()) {
      out.println("Approve with: sentinel tools approve " + pin.backend() + " "
          + visible(pin.tool()) + " --digest " + Objects.requireNonNull(pin.pendingDigest(),
          "a held pin has a pending digest").substring(0, 12));
    }
  }

  private static String state(ToolPin pin) {
    if (!pin.held()) {
      return "pinned";
    }
    return pin.rejected() ? "held (rejected)" : pin.digest() == null ? "held (first sight)"
        : "held";
  }

  private static String shortDigest(@Nullable String digest) {
    return digest == null ? "-" : digest.substring(0, Math.min(12, digest.length()));
  }

  /**
   * Text with what a terminal would not show (control, format and tag characters, such as the
   * hidden instructions themselves) written as <code>&#92;u{...}</code>, so that nothing hides in output.
   */
  static String visible(String text) {
    StringBuilder out = new StringBuilder(text.length());
    text.codePoints().forEach(cp -> {
      int type = Character.getType(cp);
      if (type == Character.CONTROL || type == Character.FORMAT || type == Character.UNASSIGNED
          || type == Character.PRIVATE_USE || (cp >= 0xE0000 && cp <= 0xE007F)) {
        out.append(String.format("\\u{%X}", cp));
      } else {
        out.appendCodePoint(cp);
      }
    });
    return out.toString();
  }

  private static void table(PrintWriter out, List<String[]> rows) {
    out.print(Columns.render(rows));
  }
}
