package io.cachet.examples.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.redis.Coherence;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Command-line parsing and validation. Environment variables are read through picocli's
 * {@code ${env:...}} defaults, which the system tests exercise on the real jar; here the same
 * validation runs on command-line values.
 */
final class ProxyOptionsTest {

  @Test
  void defaults() {
    ProxyConfig config = RedisProxy.parse();
    assertThat(config.embeddedRedis()).isEqualTo(System.getenv("REDIS_ADDRESS") == null);
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.coherence()).isEqualTo(Coherence.TRACKING);
    assertThat(config.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.idleTimeout()).as("RESP, as Redis's timeout 0").isZero();
    assertThat(config.httpIdleTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.parallelism()).as("no limit").isZero();
    assertThat(config.maxPendingRequests()).isEqualTo(1024);
    assertThat(config.maxQueuedReplyBytes()).isEqualTo(64 * 1024);
    assertThat(config.replyStallTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void everyOption() {
    ProxyConfig config = RedisProxy.parse(
        "--redis-address", "10.1.2.3:6400", "--global-cache-expiry", "0.25", "--cache-capacity", "10",
        "--proxy-host", "0.0.0.0", "--proxy-port", "9000", "--resp-port", "0", "--max-clients", "5",
        "--parallelism", "1", "--coherence", "EXPIRY", "--max-request-bytes", "1_000_000",
        "--redis-timeout", "1.5", "--request-timeout", "3", "--idle-timeout", "60", "--http-idle-timeout", "0", "--threads", "4",
        "--max-pending-requests", "16", "--max-queued-reply-bytes", "1_048_576", "--reply-stall-timeout", "0");
    // Kept as written (validated), so that credentials in it reach the Redis client.
    assertThat(config.redisAddress()).contains("10.1.2.3:6400");
    assertThat(config.globalExpiry()).isEqualTo(Duration.ofMillis(250));
    assertThat(config.capacity()).isEqualTo(10);
    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.httpPort()).isEqualTo(9000);
    assertThat(config.respPort()).isZero();
    assertThat(config.maxClients()).isEqualTo(5);
    assertThat(config.parallelism()).isEqualTo(1);
    assertThat(config.coherence()).isEqualTo(Coherence.EXPIRY);
    assertThat(config.maxRequestBytes()).isEqualTo(1_000_000);
    assertThat(config.redisTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(config.requestTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(config.idleTimeout()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.httpIdleTimeout()).isZero();
    assertThat(config.threads()).isEqualTo(4);
    assertThat(config.maxPendingRequests()).isEqualTo(16);
    assertThat(config.maxQueuedReplyBytes()).isEqualTo(1_048_576);
    assertThat(config.replyStallTimeout()).isZero();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "--cache-capacity|0|--cache-capacity (CACHE_CAPACITY) must be a whole number from 1",
    "--cache-capacity|ten|--cache-capacity (CACHE_CAPACITY) must be a whole number",
    "--global-cache-expiry|0|--global-cache-expiry (GLOBAL_CACHE_EXPIRY) must be a number of seconds > 0",
    "--global-cache-expiry|-1|--global-cache-expiry (GLOBAL_CACHE_EXPIRY) must be a number of seconds > 0",
    "--global-cache-expiry|5m|--global-cache-expiry (GLOBAL_CACHE_EXPIRY) must be a number of seconds > 0",
    "--proxy-port|0|--proxy-port (PROXY_PORT) must be a whole number from 1 to 65535",
    "--proxy-port|70000|--proxy-port (PROXY_PORT) must be a whole number from 1 to 65535",
    "--resp-port|-1|--resp-port (RESP_PORT) must be a whole number from 0 to 65535",
    "--max-clients|0|--max-clients (MAX_CLIENTS) must be a whole number from 1",
    "--parallelism|-1|--parallelism (PARALLELISM) must be a whole number from 0",
    "--parallelism|1.5|--parallelism (PARALLELISM) must be a whole number from 0",
    "--coherence|lazy|--coherence (COHERENCE) must be tracking or expiry, was 'lazy'",
    "--redis-address|nohost|--redis-address (REDIS_ADDRESS) must be host:port",
    "--redis-address|http://x:1|--redis-address (REDIS_ADDRESS) must be host:port",
    "--proxy-host|a b|--proxy-host (PROXY_HOST) must be a host name or IP address",
    "--seed|-3|--seed (SEED) must be a whole number from 0",
    "--max-request-bytes|10|--max-request-bytes (MAX_REQUEST_BYTES) must be a whole number from 64",
    "--redis-timeout|0|--redis-timeout (REDIS_TIMEOUT) must be a number of seconds > 0",
    "--redis-timeout|86401|--redis-timeout (REDIS_TIMEOUT) must be a number of seconds > 0 and at most 86400",
    "--request-timeout|x|--request-timeout (REQUEST_TIMEOUT) must be a number of seconds > 0",
    "--idle-timeout|-5|--idle-timeout (IDLE_TIMEOUT) must be a number of seconds >= 0",
    "--http-idle-timeout|soon|--http-idle-timeout (HTTP_IDLE_TIMEOUT) must be a number of seconds >= 0",
    "--threads|0|--threads (THREADS) must be a whole number from 1",
    "--max-pending-requests|0|--max-pending-requests (MAX_PENDING_REQUESTS) must be a whole number from 1",
    "--max-queued-reply-bytes|100|--max-queued-reply-bytes (MAX_QUEUED_REPLY_BYTES) must be a whole number from 1024",
  })
  void invalidValue_isRejectedNamingTheOptionAndItsVariable(String option, String value, String message) {
    assertThatThrownBy(() -> RedisProxy.parse(option, value))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message)
        .hasMessageContaining("was '" + value + "'");
  }

  @Test
  void seed_withAnExternalRedis_isRejected() {
    assertThatThrownBy(() -> RedisProxy.parse("--redis-address", "127.0.0.1:6379", "--seed", "3"))
        .hasMessageContaining("--seed (SEED) only applies to the embedded Redis");
  }

  @Test
  void samePortTwice_isRejected() {
    assertThatThrownBy(() -> RedisProxy.parse("--proxy-port", "7000", "--resp-port", "7000"))
        .hasMessageContaining("--resp-port (RESP_PORT) must differ from --proxy-port (PROXY_PORT)");
  }

  @Test
  void run_invalidOption_exitsWith2() {
    assertThat(RedisProxy.run("--cache-capacity", "-1")).isEqualTo(2);
  }

  @Test
  void run_help_exitsWith0() {
    assertThat(RedisProxy.run("--help")).isZero();
  }

  @Test
  void redisAddress_everyTopologyWithCredentials_keptAsWritten() {
    for (String address : java.util.List.of(
        "redis://user:secret@10.1.2.3:6400/2",
        "rediss-sentinel://user:secret@10.0.0.1:26379,10.0.0.2:26379#mymaster",
        "redis-cluster://10.0.0.1:7000,10.0.0.2:7001")) {
      assertThat(ProxyConfig.builder().redisAddress(address).build().redisAddress()).contains(address);
    }
  }
}
