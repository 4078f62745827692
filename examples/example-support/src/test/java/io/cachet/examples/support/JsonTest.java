package io.cachet.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** JSON escaping and error bodies. */
final class JsonTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "plain|\"plain\"",
    "q\"b\\\\|\"q\\\"b\\\\\\\\\"",
  })
  void quote(String in, String out) {
    assertThat(Json.quote(in)).isEqualTo(out);
  }

  @Test
  void quote_escapesControlCharactersAndLoneSurrogates() {
    assertThat(Json.quote("a\nb\u0001\ud800")).isEqualTo("\"a\\nb\\u0001\\ud800\"");
    assertThat(Json.error("NotFound", "key 'k' does not exist"))
        .isEqualTo("{\"error\":\"NotFound\",\"message\":\"key 'k' does not exist\"}");
  }
}
