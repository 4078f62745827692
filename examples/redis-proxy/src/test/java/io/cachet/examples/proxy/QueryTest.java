package io.cachet.examples.proxy;

import static org.assertj.core.api.Assertions.assertThat;

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
    assertThat(Query.key(uri).key()).isEqualTo(key);
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
    "/proxy?key=%FF%FE|key is not valid UTF-8",
    "/proxy?key=%C3%28|key is not valid UTF-8",
    "/proxy?key=%ED%A0%80|key is not valid UTF-8",
    "/proxy?key=a&key=b|query parameter 'key' given more than once",
  })
  void key_invalid(String uri, String problem) {
    Query.Key parsed = Query.key(uri);
    assertThat(parsed.key()).isNull();
    assertThat(parsed.problem()).startsWith(problem);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "/proxy?key=a|/proxy",
    "/health|/health",
    "/metrics#x|/metrics",
    "http://localhost:8080/proxy?key=a|/proxy",
    "http://localhost:8080|/",
  })
  void path(String uri, String path) {
    assertThat(Query.path(uri)).isEqualTo(path);
  }
}
