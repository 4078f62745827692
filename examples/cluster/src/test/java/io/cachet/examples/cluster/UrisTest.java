package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Strict percent-decoding, and the escaping the balancer forwards raw bytes with. */
final class UrisTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "/api/cache/k|/api/cache/k",
    "/api/cache/\u00c0\u00af|/api/cache/%C0%AF",
    "/api/cache/a\u00ff?ttl=1|/api/cache/a%FF?ttl=1",
    "/api/cache/%C3%A9|/api/cache/%C3%A9",
  })
  void escapeNonAscii_keepsTheBytesTheClientSent(String uri, String forwarded) {
    assertThat(Uris.escapeNonAscii(uri)).isEqualTo(forwarded);
  }

  @ParameterizedTest
  @ValueSource(strings = {"%C0%AF", "a%E0%80%AFb", "%ED%A0%80", "%F4%90%80%80", "\u00c0\u00af", "%C3"})
  void decode_rejectsWhatIsNotStrictUtf8(String raw) {
    assertThatThrownBy(() -> Uris.decode(raw)).isInstanceOf(Uris.BadUri.class)
        .hasMessageContaining("UTF-8");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"%C3%A9|\u00e9", "%E2%82%AC|\u20ac", "a+b|a+b", "%2F|/"})
  void decode_acceptsUtf8(String raw, String decoded) throws Uris.BadUri {
    assertThat(Uris.decode(raw)).isEqualTo(decoded);
  }
}
