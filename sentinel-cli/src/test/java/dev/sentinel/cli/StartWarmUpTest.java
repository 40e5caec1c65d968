package dev.sentinel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** {@link StartWarmUp}: it warms what the start really uses, and has no effect of its own. */
class StartWarmUpTest {
  @Test
  void theLogDateFormatWarmedUp_isTheOneTheLoggerUses() throws Exception {
    Properties logger = new Properties();
    try (InputStream in = StartWarmUp.class.getResourceAsStream("/simplelogger.properties")) {
      logger.load(in);
    }
    assertThat(StartWarmUp.LOG_DATE_FORMAT)
        .isEqualTo(logger.getProperty("org.slf4j.simpleLogger.dateTimeFormat"));
  }

  @Test
  void run_writesNothingToStdoutOrStderr() {
    java.io.PrintStream out = System.out;
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    java.io.PrintStream capture = new java.io.PrintStream(captured, true);
    System.setOut(capture);
    System.setErr(capture);
    try {
      StartWarmUp.run();
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    assertThat(captured.toByteArray()).isEmpty();
  }
}
