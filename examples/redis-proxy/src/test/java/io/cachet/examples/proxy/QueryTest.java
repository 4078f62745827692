package io.cachet.examples.proxy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parsing the {@code key} parameter and the path of request URIs. */
final class QueryTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "/proxy?key=abc|abc",
    "/proxy?key=a%20b|a b",
    "/proxy?key=a+b|a b",
    "/proxy?key=a%2Bb|a+b",
    "/proxy?x=1&key=k&y=2|k",
    "/proxy?key=%E2%82%AC|\u20ac",
    "/proxy?key=k#fragment|k",
    "/proxy?key=a=b|a=b",
    "/proxy?%6Bey=k|k",
  })
  void key_valid(String uri, String key) {
    assertThat(Query.key(uri).key()).isEqualTo(RedisKey.copyOf(key.getBytes(UTF_8)));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "/proxy?key=%FF%FE|FFFE",
    "/proxy?key=%C3%28|C328",
    "/proxy?key=%ED%A0%80|EDA080",
    "/proxy?key=%C0%AF|C0AF",
    "/proxy?key=%E0%80%AF|E080AF",
    "/proxy?key=%00k|006B",
  })
  void key_anyBytes_areTheKey(String uri, String hex) {
    assertThat(Query.key(uri).key()).isEqualTo(RedisKey.copyOf(HexFormat.of().parseHex(hex)));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "/proxy|missing query parameter 'key'",
    "/proxy?k=1|missing query parameter 'key'",
    "/proxy?key=|key must not be empty",
    "/proxy?key|key must not be empty",
    "/proxy?key=%|key has malformed percent-encoding",
    "/proxy?key=%G1|key has malformed percent-encoding",
    "/proxy?key=ab%2|key has malformed percent-encoding",
    "/proxy?key=a&key=b|query parameter 'key' given more than once",
  })
  void key_invalid(String uri, String problem) {
    Query.Key parsed = Query.key(uri);
    assertThat(parsed.key()).isNull();
    assertThat(parsed.problem()).startsWith(problem);
  }
}
