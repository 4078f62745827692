package io.cachet.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The path of a request target, in origin and absolute form. */
final class RequestTargetsTest {

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "/proxy?key=a|/proxy",
    "/health|/health",
    "/metrics#x|/metrics",
    "http://localhost:8080/proxy?key=a|/proxy",
    "http://localhost:8080|/",
    "http://localhost:8080?key=a/proxy|/",
    "http://h#/proxy|/",
    "HTTPS://h/health?key=a/proxy|/health",
    "/a?b://c/proxy|/a",
    "/proxy?key=http://h/metrics|/proxy",
  })
  void path(String uri, String path) {
    assertThat(RequestTargets.path(uri)).isEqualTo(path);
  }
}
