package dev.sentinel.core.breakglass;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** RFC 6238 codes, the skew and replay rules, base32 and the otpauth URI. */
class TotpTest {
  /** RFC 6238 Appendix B's SHA-1 seed: the ASCII of "12345678901234567890". */
  private static final byte[] SEED = "12345678901234567890".getBytes(StandardCharsets.US_ASCII);

  @Test
  void code_matchesRfc6238AppendixBSha1Vectors() {
    long[][] vectors = {
        {59L, 94287082L}, {1111111109L, 7081804L}, {1111111111L, 14050471L},
        {1234567890L, 89005924L}, {2000000000L, 69279037L}, {20000000000L, 65353130L}};
    for (long[] v : vectors) {
      long step = Totp.step(Instant.ofEpochSecond(v[0]));
      assertThat(Totp.code(SEED, step, 8)).as("T=%d", v[0]).isEqualTo(String.format("%08d", v[1]));
      // The six-digit code is the last six digits of the eight-digit one (RFC 4226 truncation).
      assertThat(Totp.code(SEED, step)).isEqualTo(String.format("%08d", v[1]).substring(2));
    }
  }

  @Test
  void verify_acceptsOneStepOfSkewEitherWay_notTwo() {
    Instant now = Instant.ofEpochSecond(1111111111L);
    long step = Totp.step(now);
    for (long s = step - 1; s <= step + 1; s++) {
      assertThat(Totp.verify(SEED, Totp.code(SEED, s), now, Long.MIN_VALUE)).hasValue(s);
    }
    assertThat(Totp.verify(SEED, Totp.code(SEED, step - 2), now, Long.MIN_VALUE)).isEmpty();
    assertThat(Totp.verify(SEED, Totp.code(SEED, step + 2), now, Long.MIN_VALUE)).isEmpty();
  }

  @Test
  void verify_aCodeOfTheLastUsedStepOrEarlier_isRefused() {
    Instant now = Instant.ofEpochSecond(1111111111L);
    long step = Totp.step(now);
    String code = Totp.code(SEED, step);
    assertThat(Totp.verify(SEED, code, now, step)).isEmpty();
    assertThat(Totp.verify(SEED, Totp.code(SEED, step - 1), now, step)).isEmpty();
    assertThat(Totp.verify(SEED, Totp.code(SEED, step + 1), now, step)).hasValue(step + 1);
  }

  @Test
  void verify_wrongMalformedOrMissingCodes_areRefused() {
    Instant now = Instant.ofEpochSecond(59);
    assertThat(Totp.verify(SEED, null, now, Long.MIN_VALUE)).isEmpty();
    assertThat(Totp.verify(SEED, "", now, Long.MIN_VALUE)).isEmpty();
    assertThat(Totp.verify(SEED, "94287082", now, Long.MIN_VALUE)).isEmpty(); // 8 digits
    assertThat(Totp.verify(SEED, "28708", now, Long.MIN_VALUE)).isEmpty();
    assertThat(Totp.verify(SEED, "ü87082", now, Long.MIN_VALUE)).isEmpty();
    assertThat(Totp.verify(SEED, "287082", now, Long.MIN_VALUE)).isPresent();
    assertThat(Totp.verify("another secret of 20b".getBytes(StandardCharsets.US_ASCII),
        "287082", now, Long.MIN_VALUE)).isEmpty();
  }

  @Test
  void base32_matchesRfc4648Vectors() {
    String[][] vectors = {{"", ""}, {"f", "MY"}, {"fo", "MZXQ"}, {"foo", "MZXW6"},
        {"foob", "MZXW6YQ"}, {"fooba", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI"}};
    for (String[] v : vectors) {
      assertThat(Totp.base32(v[0].getBytes(StandardCharsets.US_ASCII))).isEqualTo(v[1]);
    }
  }

  @Test
  void uri_isTheOtpauthFormAuthenticatorsScan() {
    assertThat(Totp.uri("on call", SEED)).isEqualTo("otpauth://totp/Sentinel:on%20call?secret="
        + "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Sentinel&algorithm=SHA1&digits=6&period=30");
  }

  @Test
  void enrolment_neverShowsItsSecret() {
    TotpEnrolment e = TotpEnrolment.create("ann", Instant.EPOCH);
    String base32 = Totp.base32(e.secret());
    assertThat(e.toString()).doesNotContain(base32).contains("(hidden)");
    byte[] copy = e.secret();
    copy[0] ^= 1;
    assertThat(e.secret()).isNotEqualTo(copy);
  }
}
