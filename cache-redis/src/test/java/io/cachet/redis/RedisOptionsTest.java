package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

final class RedisOptionsTest {

  @Test
  void defaults() {
    RedisOptions o = RedisOptions.defaults();
    assertThat(o.address()).isEqualTo("redis://127.0.0.1:6379");
    assertThat(o.keyPrefix()).isEmpty();
    assertThat(o.coherence()).isEqualTo(Coherence.TRACKING);
    assertThat(o.commandTimeout()).isEqualTo(RedisOptions.DEFAULT_COMMAND_TIMEOUT);
    assertThat(o.nearCacheMaxAge()).isEqualTo(RedisOptions.DEFAULT_NEAR_CACHE_MAX_AGE);
    assertThat(o.serveStaleOnError()).isFalse();
  }

  @Test
  void address_acceptsHostPortAndUris() {
    assertThat(RedisOptions.builder().address("10.0.0.5:6380").build().address()).isEqualTo("redis://10.0.0.5:6380");
    assertThat(RedisOptions.builder().address("rediss://cache.example:6379").build().address())
        .isEqualTo("rediss://cache.example:6379");
  }

  @Test
  void invalidValues_rejectedNamingOptionAndValue() {
    assertThatThrownBy(() -> RedisOptions.builder().address("localhost"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("address must be host:port or redis://host:port, was 'localhost'");
    assertThatThrownBy(() -> RedisOptions.builder().commandTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("commandTimeout must be > 0, was PT0S");
    assertThatThrownBy(() -> RedisOptions.builder().database(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("database must be >= 0, was -1");
    assertThatThrownBy(() -> RedisOptions.builder().keyPrefix("a").keyPrefix("b"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("keyPrefix was already set to a");
  }

  @Test
  void parse_textForms() {
    RedisOptions o = RedisOptions.parse(Map.of(
        "address", "127.0.0.1:7000",
        "keyPrefix", "app:",
        "coherence", "expiry",
        "nearCacheMaxAge", "30s",
        "serveStaleOnError", "true",
        "commandTimeout", "250ms"));
    assertThat(o.address()).isEqualTo("redis://127.0.0.1:7000");
    assertThat(o.keyPrefix()).isEqualTo("app:");
    assertThat(o.coherence()).isEqualTo(Coherence.EXPIRY);
    assertThat(o.nearCacheMaxAge()).isEqualTo(Duration.ofSeconds(30));
    assertThat(o.serveStaleOnError()).isTrue();
    assertThat(o.commandTimeout()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void parse_unknownOrInvalid_namesIt() {
    assertThatThrownBy(() -> RedisOptions.parse(Map.of("adress", "x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("unknown redis option 'adress'");
    assertThatThrownBy(() -> RedisOptions.parse(Map.of("coherence", "eventual")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("coherence must be tracking or expiry, was 'eventual'");
  }

  @Test
  void propertiesFile_optionsReachTheCacheConfig() {
    Properties p = new Properties();
    p.setProperty("cache.sessions.backend", "redis");
    p.setProperty("cache.sessions.redis.address", "host:1");
    p.setProperty("cache.sessions.redis.adress", "typo");
    assertThatThrownBy(() -> CacheManager.fromProperties(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cache.sessions.redis")
        .hasMessageContaining("unknown redis option 'adress'");
    CacheConfig.Builder<String, String> builder = CacheConfig.builder("x");
    builder.backendOptions(RedisOptions.parse(Map.of("address", "host:1")));
    assertThat(builder.build().backendOptions(RedisOptions.class).orElseThrow().address()).isEqualTo("redis://host:1");
  }
}
