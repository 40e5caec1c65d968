package dev.sentinel.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sentinel.api.AuditEvent;
import dev.sentinel.api.Outcome;
import dev.sentinel.api.Request;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Secret shapes found by value, one case per shape (each a realistic fake secret placed in free
 * text, as a whole value, nested, as a member name and in an error message), ordinary text that
 * must survive unchanged, and adversarial inputs that must be redacted in linear time.
 */
class RedactorShapesTest {
  private static final JsonMapper MAPPER = JsonMapper.builder().build();
  private static final Redactor DEFAULTS = Redactor.defaults();
  private static final String R = Redactor.REDACTED;

  private static String alnum(int length, int seed) {
    String chars = "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY";
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(chars.charAt((i * 7 + seed * 13 + i / 3) % chars.length()));
    }
    return sb.toString();
  }

  /** A text holding a secret, and the part of it that must never reach the trail. */
  static Stream<Arguments> secrets() {
    String google = "AIza" + alnum(33, 1) + "-_";
    String npm = "npm_" + alnum(36, 2);
    String hf = "hf_" + alnum(34, 3);
    String pypi = "pypi-AgEIcHlwaS5vcmc" + alnum(60, 4);
    return Stream.of(
        // Stripe secret and restricted keys, live and test, and webhook secrets
        Arguments.of("charge failed for key sk_live_4eC39HqLyjWDarjtT1zdp7dc in eu",
            "4eC39HqLyjWDarjtT1zdp7dc"),
        Arguments.of("rk_live_51H8x2KJ3mN4pQ5rS6tU7vW8xY9zA0bC", "51H8x2KJ3mN4pQ5rS6tU7vW8xY9zA0bC"),
        Arguments.of("STRIPE_KEY=sk_test_51H8x2KJ3mN4pQ5rS6tU7vW8", "51H8x2KJ3mN4pQ5rS6tU7vW8"),
        Arguments.of("signing secret whsec_" + alnum(32, 5) + " set", alnum(32, 5)),
        // Google API keys and OAuth access tokens
        Arguments.of("maps?key=" + google + "&q=zurich", google.substring(4)),
        Arguments.of(google, google.substring(4)),
        Arguments.of("token ya29.a0AfH6SMBx" + alnum(40, 6), alnum(40, 6)),
        // npm, GitLab, Hugging Face, PyPI
        Arguments.of("//registry.npmjs.org/:_authToken=" + npm, npm.substring(4)),
        Arguments.of("publish with " + npm, npm.substring(4)),
        Arguments.of("glpat-xYz12AbC34dEf56GhI78 expired", "xYz12AbC34dEf56GhI78"),
        Arguments.of("runner token glrt-" + alnum(20, 7) + ".01.abc123", alnum(20, 7)),
        Arguments.of("GR1348941" + alnum(20, 8), alnum(20, 8)),
        Arguments.of("HF_TOKEN " + hf, hf.substring(3)),
        Arguments.of(pypi, alnum(60, 4)),
        // Slack app-level and refresh tokens, webhooks
        Arguments.of("xapp-1-A0123456789-1234567890123-" + alnum(40, 9), alnum(40, 9)),
        Arguments.of("xoxe-1-" + alnum(40, 10), alnum(40, 10)),
        Arguments.of("post to https://hooks.slack.com/services/T0123ABCD/B0456EFGH/"
            + alnum(24, 11) + " now", alnum(24, 11)),
        // passwords inside connection strings
        Arguments.of("Server=db.internal;Database=app;User Id=app;Password=s3cr3t-Passw0rd;Pooling=true",
            "s3cr3t-Passw0rd"),
        Arguments.of("Driver={ODBC Driver 18};Server=db;Uid=app;Pwd={p4ss;w0rd};", "p4ss;w0rd"),
        Arguments.of("jdbc:postgresql://db:5432/app?user=app&password=Tr0ub4dor&ssl=true",
            "Tr0ub4dor"),
        // API keys and tokens in headers, query strings, environment and config text
        Arguments.of("curl -H 'X-Api-Key: 0123456789abcdef0123456789abcdef' https://api.example.com",
            "0123456789abcdef0123456789abcdef"),
        Arguments.of("GET /v1/items?token=tok9f8e7d6c5b4a&limit=10", "tok9f8e7d6c5b4a"),
        Arguments.of("GET /v1/items?limit=10&api_key=ak123456abcdef", "ak123456abcdef"),
        Arguments.of("export GITHUB_TOKEN=ab12cd34ef56 && make release", "ab12cd34ef56"),
        Arguments.of("DB_PASSWORD=hunter2", "hunter2"),
        Arguments.of("db:\n  user: app\n  password: hunter2\n", "hunter2"),
        Arguments.of("{\"password\": \"correct horse battery staple\", \"user\": \"ann\"}",
            "horse battery staple"),
        Arguments.of("spring.datasource.password = Sup3rS3cret!", "Sup3rS3cret!"),
        Arguments.of("{\\\"password\\\":\\\"hunter2x\\\",\\\"user\\\":\\\"ann\\\"}", "hunter2x"),
        Arguments.of("<login><user>ann</user><password>Tr0ub4dor&amp;3</password></login>",
            "Tr0ub4dor"),
        Arguments.of("X-Auth-Token: 7f3c9a1e5b", "7f3c9a1e5b"),
        Arguments.of("https://bucket.s3.amazonaws.com/f?X-Amz-Signature=" + "ab12".repeat(16),
            "ab12".repeat(16)),
        Arguments.of("mysql --user app --password hunter2x db", "hunter2x"),
        Arguments.of("gh auth login --token=ab12cd34ef56", "ab12cd34ef56"),
        // URL user info after a scheme-like run longer than any scheme
        Arguments.of("x".repeat(40) + "https://bob:pw12345678@host/x", "pw12345678"),
        // bearer tokens in any case; an AWS secret under a mixed-case name
        Arguments.of("auth BEARER abcdef1234567890XYZ ok", "abcdef1234567890XYZ"),
        Arguments.of("bEaReR abcdef1234567890XYZ", "abcdef1234567890XYZ"),
        Arguments.of("Aws_Secret_Access_Key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        // credentials in HTTP headers written as free text
        Arguments.of("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        Arguments.of("proxy-authorization: Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1",
            "YIIGhgYJKoZIhvcSAQICAQBuggZ1"),
        Arguments.of("Cookie: theme=dark; sessionid=9f8e7d6c5b4a; csrftoken=a1b2c3\nnext", "9f8e7d6c5b4a"),
        Arguments.of("Set-Cookie: JSESSIONID=A1B2C3D4E5; Path=/; HttpOnly", "A1B2C3D4E5"));
  }

  @ParameterizedTest
  @MethodSource("secrets")
  void redact_secretShape_neverReachesTheTrail(String text, String secret) {
    assertThat(text).contains(secret);
    ObjectNode args = MAPPER.createObjectNode();
    args.put("note", "before " + text + " after");
    args.put("whole", text);
    args.putObject("nested").putArray("list").add(text).addObject().put("deeper", text);
    args.put(text, "as a member name");
    JsonNode before = args.deepCopy();

    Redacted redacted = DEFAULTS.redact(args);
    AuditEvent event = AuditEvent.builder()
        .id("e1")
        .time(TestEvents.T0)
        .request(Request.toolCall("b", "t", args))
        .arguments(redacted.value(), redacted.digest())
        .outcome(Outcome.FAILED)
        .error("java.io.IOException", DEFAULTS.redactText("failed with " + text))
        .build();

    assertThat(args).as("input untouched").isEqualTo(before);
    assertThat(redacted.value().toString()).doesNotContain(secret).contains(R);
    assertThat(AuditEventJson.toLine(event)).doesNotContain(secret);
    assertThat(DEFAULTS.redactText(text)).doesNotContain(secret).contains(R);
    assertThat(DEFAULTS.redact(redacted.value()).value()).as("idempotent").isEqualTo(redacted.value());
  }

  @Test
  void redact_keepsTheContextAroundAnAssignedSecret() {
    assertThat(DEFAULTS.redactText("Server=db;Database=app;Password=s3cr3t;Pooling=true"))
        .isEqualTo("Server=db;Database=app;Password=" + R + ";Pooling=true");
    assertThat(DEFAULTS.redactText("GET /v1/items?token=tok9f8e7d6c5b4a&limit=10"))
        .isEqualTo("GET /v1/items?token=" + R + "&limit=10");
    assertThat(DEFAULTS.redactText("{\"password\": \"correct horse\", \"user\": \"ann\"}"))
        .isEqualTo("{\"password\": \"" + R + "\", \"user\": \"ann\"}");
    assertThat(DEFAULTS.redactText("Authorization: Basic dXNlcjpwYXNzd29yZA=="))
        .isEqualTo("Authorization: Basic " + R);
    assertThat(DEFAULTS.redactText("X-Api-Key: 0123456789abcdef ok"))
        .isEqualTo("X-Api-Key: " + R + " ok");
    assertThat(DEFAULTS.redactText("mysql --password hunter2x db"))
        .isEqualTo("mysql --password " + R + " db");
    assertThat(DEFAULTS.redactText("Cookie: a=1; sessionid=2\nnext line"))
        .isEqualTo("Cookie: " + R + "\nnext line");
    assertThat(DEFAULTS.redactText("{\\\"password\\\":\\\"hunter2\\\"}"))
        .isEqualTo("{\\\"password\\\":\\\"" + R + "\\\"}");
    assertThat(DEFAULTS.redactText("<user>ann</user><password>hunter2</password>"))
        .isEqualTo("<user>ann</user><password>" + R + "</password>");
    assertThat(DEFAULTS.redactText("key sk_live_4eC39HqLyjWDarjtT1zdp7dc ok"))
        .isEqualTo("key " + R + " ok");
  }

  /** Ordinary text: words, identifiers and ids that look a little like secrets, but are not. */
  @ParameterizedTest
  @ValueSource(strings = {
      "Please follow the password reset instructions sent to your email.",
      "passwordless login is enabled; the secret santa list is ready",
      "The npm_modules cache and npm_config_prefix are set by npm_lifecycle_event.",
      "Ms. AIzawa and Mr. Aizawa met at 10:42:17 on 2026-03-02.",
      "Unexpected token: } in JSON at position 12",
      "max_tokens=256 temperature=0.2 top_p=0.9 tokens: 1200 token_count: 4",
      "the bearer of bad news; standard-bearer of the bearer bonds",
      "Basic usage: run the basic configuration wizard",
      "secretary: Ann, keyboard: us, primary_key: id, sort_key=name, passphrase_hint: none",
      "password_policy: strict, PASSWORD_MIN_LENGTH=8, passwordHash=bcrypt",
      "getPassword(user); tokenizer.encode(text); skLive_count++; sk_live_mode = false",
      "rk_test_utils and sk_test_helpers live in tests/",
      "request 9b2e4c6a-1f3d-4e5b-8a7c-0d1e2f3a4b5c, commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
      "SGVsbG8sIHdvcmxkISBUaGlzIGlzIGEgdGVzdCBvZiBiYXNlNjQgZGF0YS4=",
      "glossary-entry glob-pattern gluten-free hf_model ya29 pypi-package",
      "hooks.slack.com is Slack's webhook host",
      "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"",
      "see https://example.com/docs?page=2&lang=en#auth and mail bob@example.com",
      "--password-stdin reads the password from standard input; --verbose --dry-run",
      "<h1>Password reset</h1><p>Forgot your <b>password</b>? <i>token</i>: see below</p>",
      "task-runner-disk-usage-report, a-very-long-identifier-without-any-secret-in-it"})
  void redact_ordinaryText_survivesUnchanged(String text) {
    assertThat(DEFAULTS.redactText(text)).isEqualTo(text);
    ObjectNode args = MAPPER.createObjectNode().put("text", text);
    assertThat(DEFAULTS.redact(args).value()).isEqualTo(args);
  }

  // ---- linear time: asserted on the result only; BENCHMARKS.md has the times

  static Stream<Arguments> adversarial() {
    int mib = 1 << 20;
    return Stream.of(
        Arguments.of("sk_live_ repeated", "sk_live_".repeat(mib / 8)),
        Arguments.of("a repeated", "a".repeat(1_000_000)),
        Arguments.of("a scheme that never ends", "a".repeat(mib) + "://x"),
        Arguments.of("eyJ repeated", "eyJ".repeat(mib / 3)),
        Arguments.of("aws_secret repeated", "aws_secret".repeat(mib / 10)),
        Arguments.of("password= repeated", "password=".repeat(mib / 9)),
        Arguments.of("X-Api-Key: repeated", "X-Api-Key: ".repeat(mib / 11)),
        Arguments.of("--token repeated", "--token ".repeat(mib / 8)),
        Arguments.of("bearer repeated", "bearer ".repeat(mib / 7)),
        Arguments.of("BEGIN repeated", "-----BEGIN ".repeat(mib / 11)),
        Arguments.of("glpat- repeated", "glpat-".repeat(mib / 6)),
        Arguments.of("colons", ":".repeat(mib)),
        Arguments.of("a long name before =", "x".repeat(mib) + "password=1"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("adversarial")
  void redact_adversarialMegabyte_isBoundedAndSettles(String name, String text) {
    String out = DEFAULTS.redactText(text);

    assertThat(out.length()).isLessThanOrEqualTo(DEFAULTS.maxStringLength());
    assertThat(DEFAULTS.redactText(out)).isEqualTo(out);
    Redacted redacted = DEFAULTS.redact(MAPPER.createObjectNode().put("v", text));
    assertThat(redacted.value().get("v").stringValue().length())
        .isLessThanOrEqualTo(DEFAULTS.maxStringLength());
  }
}
