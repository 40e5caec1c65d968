package dev.sentinel.cli;

import dev.sentinel.core.internal.WireJson;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.text.SimpleDateFormat;
import java.util.Date;
import tools.jackson.core.StreamReadConstraints;

/**
 * Runs, on a background thread, the one-time set-up that {@code sentinel stdio} needs before it
 * answers {@code initialize} but that does not depend on the config: the first Jackson
 * {@code ObjectMapper} (its java.time support and date format, with the time-zone and locale
 * data they read), the JDK's security providers (SHA-256 for the config's revision, the random
 * key of the audit digests) and the log lines' date format. Each is class initialization and
 * data loading that the JVM does once per process, interpreted (the first ObjectMapper alone
 * took about 70 ms of a 417 ms start to the {@code initialize} answer when built in line).
 * Started first, it runs on the second core while the main thread reads the config,
 * which needs none of it; the main thread then finds the work done, or waits for the class being
 * initialized as it would have waited for its own initialization.
 *
 * <p>Nothing here has an effect that the main thread could observe other than time: the objects
 * made are dropped, nothing is logged (the log level is set before this runs, and the logger is
 * left for the main thread to start), and a failure is ignored, because the main thread does the
 * same work itself and reports its own failures. Spring Boot's {@code BackgroundPreinitializer}
 * does the same for its start. Not started on a machine with one processor, where it could only
 * take time from the main thread, nor when {@link #SWITCH} says not to. Thread-safe.
 */
final class StartWarmUp {
  /** slf4j-simple's {@code dateTimeFormat} in {@code simplelogger.properties}. */
  static final String LOG_DATE_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";

  private StartWarmUp() {}

  /**
   * The system property that switches the warm-up off ({@code -Dsentinel.startWarmUp=false} in
   * {@code SENTINEL_JAVA_OPTS}): each part is then done in line, when first needed.
   */
  static final String SWITCH = "sentinel.startWarmUp";

  /**
   * Starts the warm-up on a daemon thread, unless the machine has one processor or {@link
   * #SWITCH} is {@code false}.
   */
  static void start() {
    if (Runtime.getRuntime().availableProcessors() < 2
        || "false".equals(System.getProperty(SWITCH))) {
      return;
    }
    Thread thread = new Thread(StartWarmUp::run, "sentinel-start-warm-up");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * The warm-up itself, in the order the main thread comes to need each part: SHA-256 when the
   * config is read, the log's date format when the logger starts (right after the config: the
   * calendar and locale data it reads are most of slf4j-simple's start), the wire's JSON when
   * the runtime starts, the random digest key after that. The date format came after the
   * ObjectMapper until 2026-12-06: the main thread then mostly reached the logger first and read
   * that data itself (its logger start took 29 ms of its CPU, median of 7; 16 ms in this order).
   */
  static void run() {
    try {
      MessageDigest.getInstance("SHA-256").digest(new byte[1]);
      new SimpleDateFormat(LOG_DATE_FORMAT).format(new Date());
      // The wire's JSON (built for stdin and each backend's stdout): the first ObjectMapper.
      new WireJson(StreamReadConstraints.defaults());
      new SecureRandom().nextBytes(new byte[32]);
    } catch (GeneralSecurityException | RuntimeException | LinkageError e) {
      // The main thread does this work again and reports what fails there.
    }
  }
}
