package dev.sentinel.mcp.gateway;

import dev.sentinel.core.notify.Notification;
import dev.sentinel.core.notify.Notifier;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Posts each notification as JSON to one webhook URL, signed: {@code X-Sentinel-Signature:
 * sha256=<hex>} is the HMAC-SHA256 of the body under the shared secret, so the receiver can tell
 * Sentinel's events from anyone else's. {@code X-Sentinel-Event} names the type and {@code
 * X-Sentinel-Delivery} is an id that stays the same across retries of one event.
 *
 * <p>{@link #send} puts the event on a bounded queue (the oldest event is dropped, counted and
 * logged when it is full) and returns; one thread delivers, retrying a failure (a connection
 * error, a timeout, a status other than 2xx) with a doubling backoff up to {@value #ATTEMPTS}
 * attempts. A webhook that hangs or fails delays only the events behind it, never a call.
 * Thread-safe.
 */
public final class WebhookNotifier implements Notifier {
  private static final Logger log = LoggerFactory.getLogger(WebhookNotifier.class);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  /** How many times one event is tried. */
  public static final int ATTEMPTS = 6;
  /** How many events wait at most. */
  public static final int CAPACITY = 1_000;
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private final URI url;
  private final byte[] secret;
  private final Duration firstBackoff;
  private final HttpClient client;
  private final BlockingQueue<Notification> queue = new ArrayBlockingQueue<>(CAPACITY);
  private final Thread sender;
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private volatile boolean closing;

  private WebhookNotifier(URI url, String secret, Duration firstBackoff) {
    this.url = url;
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
    this.firstBackoff = firstBackoff;
    this.client = HttpClient.newBuilder().connectTimeout(TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER).build();
    this.sender = new Thread(this::deliverAll, "sentinel-webhook");
    sender.setDaemon(true);
    sender.start();
  }

  /**
   * A notifier posting to {@code url} (http or https), signing with {@code secret}.
   *
   * @throws IllegalArgumentException for another scheme or a blank secret
   */
  public static WebhookNotifier start(URI url, String secret) {
    return start(url, secret, Duration.ofSeconds(1));
  }

  /** As {@link #start(URI, String)}, waiting {@code firstBackoff} before the first retry. */
  public static WebhookNotifier start(URI url, String secret, Duration firstBackoff) {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(secret, "secret");
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
      throw new IllegalArgumentException("a webhook URL is http or https, got " + url);
    }
    if (secret.isBlank()) {
      throw new IllegalArgumentException("a webhook needs a secret to sign its events");
    }
    if (firstBackoff.isNegative() || firstBackoff.isZero()) {
      throw new IllegalArgumentException("the backoff must be positive");
    }
    return new WebhookNotifier(url, secret, firstBackoff);
  }

  @Override
  public void send(Notification notification) {
    Objects.requireNonNull(notification, "notification");
    if (closing) {
      dropped.incrementAndGet();
      return;
    }
    while (!queue.offer(notification)) {
      // Full: the oldest event gives way, so that the newest state reaches operators.
      if (queue.poll() != null) {
        long n = dropped.incrementAndGet();
        if (n == 1 || n % 100 == 0) {
          log.warn("webhook {} is behind: {} notifications dropped so far", url, n);
        }
      }
    }
  }

  /** Events delivered (a 2xx answer). */
  public long delivered() {
    return delivered.get();
  }

  /** Events given up after {@value #ATTEMPTS} attempts. */
  public long failed() {
    return failed.get();
  }

  /** Events dropped from a full queue or sent after close. */
  public long dropped() {
    return dropped.get();
  }

  /** The HMAC-SHA256 signature header value of a body under a secret: {@code sha256=<hex>}. */
  public static String signature(byte[] secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  private void deliverAll() {
    try {
      while (!closing || !queue.isEmpty()) {
        Notification next = queue.poll(200, TimeUnit.MILLISECONDS);
        if (next != null) {
          deliver(next);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void deliver(Notification notification) throws InterruptedException {
    byte[] body = JSON.writeValueAsBytes(notification.toJson());
    HttpRequest request = HttpRequest.newBuilder(url)
        .timeout(TIMEOUT)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Sentinel")
        .header("X-Sentinel-Event", notification.type())
        .header("X-Sentinel-Delivery", UUID.randomUUID().toString())
        .header("X-Sentinel-Signature", signature(secret, body))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    Duration backoff = firstBackoff;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      String problem;
      try {
        HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() / 100 == 2) {
          delivered.incrementAndGet();
          return;
        }
        problem = "HTTP " + response.statusCode();
      } catch (IOException e) {
        problem = e.getClass().getSimpleName();
      }
      if (attempt == ATTEMPTS || closing) {
        failed.incrementAndGet();
        log.warn("webhook {}: gave up on a {} notification after {} attempts ({})", url,
            notification.type(), attempt, problem);
        return;
      }
      log.debug("webhook {}: attempt {} failed ({}); retrying in {}", url, attempt, problem,
          backoff);
      Thread.sleep(backoff.toMillis());
      backoff = backoff.multipliedBy(2).compareTo(Duration.ofMinutes(1)) > 0
          ? Duration.ofMinutes(1) : backoff.multipliedBy(2);
    }
  }

  /** Delivers what is queued for up to 10 s, then stops; what is left is counted as dropped. */
  @Override
  public void close() {
    closing = true;
    try {
      sender.join(CLOSE_WAIT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (sender.isAlive()) {
      sender.interrupt();
    }
    dropped.addAndGet(queue.size());
    queue.clear();
  }
}
