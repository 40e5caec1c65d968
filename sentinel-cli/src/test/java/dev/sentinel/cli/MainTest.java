package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.cli.Cli.Run;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class MainTest {

  @Test
  void help_listsCommandsOnStdout() {
    Run run = Cli.run("--help");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("Usage: sentinel", "config", "policy");
    assertThat(run.err()).isEmpty();
  }

  @Test
  void version_printsVersionAndJava() {
    Run run = Cli.run("--version");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).startsWith("sentinel ").contains("Java ");
  }

  @Test
  void noCommand_isAUsageError() {
    Run run = Cli.run();
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("missing command", "Usage: sentinel");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void unknownCommandOrOption_isAUsageError() {
    Run run = Cli.run("confg", "check", "x");
    assertThat(run.exit()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("Unmatched arguments").contains("config");
    assertThat(Cli.run("--frobnicate").exit()).isEqualTo(Main.USAGE);
  }

  @Test
  void groupWithoutSubcommand_isAUsageError() {
    Run config = Cli.run("config");
    assertThat(config.exit()).isEqualTo(Main.USAGE);
    assertThat(config.err()).contains("missing command: check");
    Run policy = Cli.run("policy");
    assertThat(policy.exit()).isEqualTo(Main.USAGE);
    assertThat(policy.err()).contains("missing command: check, test, explain, diff or lint");
  }

  @Test
  void subcommandHelp() {
    Run run = Cli.run("policy", "test", "--help");
    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("Usage: sentinel policy test", "--policy=POLICY");
    assertThat(Cli.run("config", "check", "--help").out())
        .contains("expanding ${env:...} and", "${file:...}");
  }

  @Command(name = "boom", description = "fails")
  static final class Boom implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new IllegalStateException("kaput");
    }
  }

  @Test
  void extraSubcommand_isOneObject_andUnexpectedErrorsExitOne() {
    CommandLine line = Main.commandLine(List.of(new Boom()));
    StringWriter err = new StringWriter();
    line.setErr(new PrintWriter(err, true));
    line.setOut(new PrintWriter(new StringWriter(), true));
    assertThat(line.execute("boom")).isEqualTo(Main.FAILED);
    assertThat(err.toString()).contains("unexpected error", "kaput");
  }

  @Test
  void logging_goesToStderrOnly() throws Exception {
    Properties p = new Properties();
    try (InputStream in = Main.class.getResourceAsStream("/simplelogger.properties")) {
      p.load(in);
    }
    assertThat(p.getProperty("org.slf4j.simpleLogger.logFile")).isEqualTo("System.err");
    assertThat(org.slf4j.LoggerFactory.getILoggerFactory().getClass().getName())
        .isEqualTo("org.slf4j.simple.SimpleLoggerFactory");
  }
}
