package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.ParseResult;

class StdioLaunchTest {
  @TempDir Path dir;

  /** Command lines the launch path reads itself, each as picocli reads it too. */
  private static final List<List<String>> PLAIN = List.of(
      List.of("stdio", "-c", "gw.yaml"),
      List.of("stdio", "--config", "gw.yaml"),
      List.of("stdio", "--config=gw.yaml"),
      List.of("stdio", "--no-watch", "--config", "a b.yaml"),
      List.of("stdio", "-c", "gw.yaml", "--allow-rollback", "--no-watch"),
      List.of("--debug", "stdio", "-c", "gw.yaml"),
      List.of("stdio", "-c", "gw.yaml", "--debug"),
      List.of("--log-level", "warn", "stdio", "-c", "gw.yaml"),
      List.of("stdio", "--log-level=DEBUG", "-c", "gw.yaml"),
      List.of("--log-level", "off", "--debug", "stdio", "--allow-rollback", "--config=/x/gw.yaml"));

  @Test
  void parse_readsPlainCommandLines_asPicocliReadsThem() {
    Properties saved = (Properties) System.getProperties().clone();
    try {
      for (List<String> args : PLAIN) {
        StdioLaunch.Parsed parsed = StdioLaunch.parse(args.toArray(String[]::new));
        assertThat(parsed).as("%s", args).isNotNull();

        ParseResult top = Main.commandLine(Map.of()).parseArgs(args.toArray(String[]::new));
        ParseResult stdio = top.subcommand();
        assertThat(stdio.commandSpec().name()).isEqualTo("stdio");
        assertThat(parsed.config()).as("%s", args).isEqualTo(stdio.matchedOptionValue("--config", null));
        assertThat(parsed.watch()).as("%s", args).isEqualTo(!stdio.hasMatchedOption("--no-watch"));
        assertThat(parsed.allowRollback()).as("%s", args)
            .isEqualTo(stdio.hasMatchedOption("--allow-rollback"));
        assertThat(parsed.debug()).as("%s", args)
            .isEqualTo(top.hasMatchedOption("--debug") || stdio.hasMatchedOption("--debug"));
        String level = top.hasMatchedOption("--log-level") ? top.matchedOptionValue("--log-level", null)
            : stdio.matchedOptionValue("--log-level", null);
        assertThat(parsed.logLevel()).as("%s", args).isEqualTo(level);
      }
    } finally {
      System.setProperties(saved); // --log-level sets slf4j's properties
    }
  }

  @Test
  void parse_leavesEveryOtherCommandLineToPicocli() {
    List<List<String>> others = List.of(
        List.of(),
        List.of("stdio"),
        List.of("stdio", "--help"),
        List.of("stdio", "-h", "-c", "gw.yaml"),
        List.of("--version"),
        List.of("http", "-c", "gw.yaml"),
        List.of("stdio", "-c"),
        List.of("stdio", "-c", "--no-watch"),
        List.of("stdio", "-c", "a.yaml", "-c", "b.yaml"),
        List.of("stdio", "-c", "a.yaml", "--no-watch", "--no-watch"),
        List.of("stdio", "-c", "a.yaml", "--debug", "--debug"),
        List.of("--no-watch", "stdio", "-c", "a.yaml"),
        List.of("-c", "a.yaml", "stdio"),
        List.of("stdio", "-c", "a.yaml", "extra"),
        List.of("stdio", "stdio", "-c", "a.yaml"),
        List.of("stdio", "-ca.yaml"),
        List.of("stdio", "-c", "a.yaml", "--"),
        List.of("stdio", "--no-watch=true", "-c", "a.yaml"),
        List.of("stdio", "-c", "a.yaml", "--log-level", "loud"),
        List.of("stdio", "-c", "a.yaml", "--log-level"),
        List.of("stdio", "@more-args"),
        List.of("stdio", "-c", "@gw.yaml"),
        List.of("stdio", "-c", "a\u0000.yaml"));
    for (List<String> args : others) {
      assertThat(StdioLaunch.parse(args.toArray(String[]::new))).as("%s", args).isNull();
    }
  }

  @Test
  void launch_withAConfigError_printsTheLocatedErrorAndFails_beforeServing() throws Exception {
    Path config = dir.resolve("gw.yaml");
    Files.writeString(config, "gateway:\n  name: [not, a, name]\n");

    Run run = CliProcess.run(dir, "stdio", "--config", config.toString());

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains(config + ":2:");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void launch_withAMissingConfig_saysWhichFile() throws Exception {
    Path config = dir.resolve("missing.yaml");

    Run run = CliProcess.run(dir, "stdio", "-c", config.toString(), "--no-watch");

    assertThat(run.exit()).isEqualTo(Main.FAILED);
    assertThat(run.err()).contains("missing.yaml");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void launch_withAnUnknownOption_isStillPicocliUsageError() throws Exception {
    Run run = CliProcess.run(dir, "stdio", "-c", "gw.yaml", "--frobnicate");

    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("Unknown option: '--frobnicate'", "Usage: sentinel stdio");
  }

  @Test
  void inProcess_theSameConfigErrorThroughPicocli_readsTheSame() throws Exception {
    Path config = dir.resolve("gw.yaml");
    Files.writeString(config, "gateway:\n  name: [not, a, name]\n");
    Run viaPicocli = Cli.run("stdio", "--config", config.toString());
    Run launched = CliProcess.run(dir, "stdio", "--config", config.toString());

    assertThat(launched.exit()).isEqualTo(viaPicocli.exit());
    assertThat(launched.err().strip()).isEqualTo(viaPicocli.err().strip());
  }
}
