package io.cachet.examples.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The jar's command line: {@code --help}, options from environment variables rejected at start-up
 * with a message naming the option, and the first run without a Redis (embedded Redis, demo keys).
 */
final class ProxyCommandLineIT {

  @Test
  void help_listsEveryOptionAndItsEnvironmentVariable() {
    ProxyProcess.Run run = ProxyProcess.run(Map.of(), "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.output()).contains("Usage: redis-proxy");
    for (String variable : new String[] {"REDIS_ADDRESS", "GLOBAL_CACHE_EXPIRY", "CACHE_CAPACITY", "PROXY_HOST",
        "PROXY_PORT", "RESP_PORT", "MAX_CLIENTS", "PARALLELISM", "COHERENCE", "SEED"}) {
      assertThat(run.output()).contains("env " + variable);
    }
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "CACHE_CAPACITY|lots|--cache-capacity (CACHE_CAPACITY) must be a whole number",
    "GLOBAL_CACHE_EXPIRY|-5|--global-cache-expiry (GLOBAL_CACHE_EXPIRY) must be a number of seconds > 0",
    "PROXY_PORT|99999|--proxy-port (PROXY_PORT) must be a whole number from 1 to 65535",
    "RESP_PORT|x|--resp-port (RESP_PORT) must be a whole number from 0 to 65535",
    "MAX_CLIENTS|0|--max-clients (MAX_CLIENTS) must be a whole number from 1",
    "PARALLELISM|-1|--parallelism (PARALLELISM) must be a whole number from 0",
    "COHERENCE|sometimes|--coherence (COHERENCE) must be tracking or expiry",
    "REDIS_ADDRESS|not an address|--redis-address (REDIS_ADDRESS) must be host:port",
  })
  void invalidEnvironmentValue_isRejectedAtStartUp_namingTheOption(String variable, String value, String message) {
    ProxyProcess.Run run = ProxyProcess.run(Map.of(variable, value));
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.output()).contains("redis-proxy: invalid option: " + message).contains("was '" + value + "'");
  }

  @Test
  void unreachableRedis_failsStartUpWithAClearMessage() {
    int port = ProxyProcess.freePort(); // nothing listens there
    ProxyProcess.Run run = ProxyProcess.run(Map.of(
        "REDIS_ADDRESS", "127.0.0.1:" + port, "PROXY_PORT", Integer.toString(ProxyProcess.freePort()), "RESP_PORT", "0"));
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.output()).contains("redis-proxy could not start").contains("127.0.0.1:" + port)
        .contains("REDIS_ADDRESS");
  }

  /** The README's first run: no REDIS_ADDRESS, so an embedded Redis, seeded with demo keys. */
  @Test
  void withoutRedisAddress_startsAnEmbeddedRedis_seedsDemoKeys_andStopsItOnShutdown() {
    int redisPort;
    try (ProxyProcess proxy = ProxyProcess.start(Map.of("SEED", "3"))) {
      assertThat(proxy.body("/proxy?key=seeded_key1")).isEqualTo("seeded_value1");
      assertThat(proxy.get("/proxy?key=seeded_key4").statusCode()).isEqualTo(404);
      try (RespClient client = proxy.resp()) {
        assertThat(client.string("GET", "seeded_key3")).isEqualTo("seeded_value3");
      }
      Matcher ready = Pattern.compile("Embedded Redis \\(pid \\d+\\) ready on 127\\.0\\.0\\.1:(\\d+)").matcher(proxy.log());
      assertThat(ready.find()).as("the embedded Redis's address in the log").isTrue();
      redisPort = Integer.parseInt(ready.group(1));
      assertThat(accepts(redisPort)).isTrue();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> !accepts(redisPort));
  }

  private static boolean accepts(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
