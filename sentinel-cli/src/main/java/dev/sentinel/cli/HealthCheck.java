package dev.sentinel.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A container's health check without curl in the image: {@code java -cp sentinel.jar
 * dev.sentinel.cli.HealthCheck http://127.0.0.1:8080/livez} exits 0 when the URL answers 200
 * within two seconds, else 1. Stateless.
 */
public final class HealthCheck {
  private HealthCheck() {}

  /** Checks the URL given as the one argument and exits with the result. */
  public static void main(String[] args) {
    System.exit(args.length == 1 ? check(URI.create(args[0])) : 2);
  }

  /** 0 when {@code url} answers 200 within two seconds, else 1 (the reason on stderr). */
  static int check(URI url) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    try {
      HttpResponse<Void> response = client.send(
          HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding());
      if (response.statusCode() == 200) {
        return 0;
      }
      System.err.println("unhealthy: " + url + " answered " + response.statusCode());
      return 1;
    } catch (IOException e) {
      System.err.println("unhealthy: " + url + ": " + e);
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }
}
