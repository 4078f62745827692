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
    assertThatThrownBy(() -> RedisOptions.builder().connectTimeout(Duration.ofDays(30)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("connectTimeout must be at most PT24H, was PT720H");
    assertThatThrownBy(() -> RedisOptions.builder().commandTimeout(Duration.ofDays(30)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("commandTimeout must be at most PT24H, was PT720H");
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
  void parse_keepsTheSpacesOfAKeyPrefixAndCredentials_andTrimsTheRest() {
    RedisOptions o = RedisOptions.parse(Map.of(
        "address", " 127.0.0.1:7000 ",
        "keyPrefix", "app ",
        "username", "me ",
        "password", " pass word ",
        "commandTimeout", " 250ms"));
    assertThat(o.keyPrefix()).as("another keyspace than 'app'").isEqualTo("app ");
    assertThat(o.username()).contains("me ");
    assertThat(o.password()).contains(" pass word ");
    assertThat(o.address()).isEqualTo("redis://127.0.0.1:7000");
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

  @Test
  void address_topologiesAndCredentials_reachTheOptions() {
    RedisOptions o = RedisOptions.builder().address("redis-sentinel://app:pw@s1:26379,s2:26379/4#orders").build();
    assertThat(o.address()).isEqualTo("redis-sentinel://s1:26379,s2:26379/4#orders");
    assertThat(o.username()).contains("app");
    assertThat(o.password()).contains("pw");
    assertThat(o.database()).isEqualTo(4);
    assertThat(o.toString()).doesNotContain("pw,").contains("password=****");
    assertThat(RedisOptions.parse(Map.of("address", "redis-cluster://n1:7000,n2:7000")).address())
        .isEqualTo("redis-cluster://n1:7000,n2:7000");
  }

  @Test
  void build_contradictions_rejectedNamingBoth() {
    assertThatThrownBy(() -> RedisOptions.builder().address("redis://u:p@h:1").password("q").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("password is set both in address and by password(...)");
    assertThatThrownBy(() -> RedisOptions.builder().address("redis://h:1/2").database(3).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("database is 2 in address redis://h:1/2 but 3 by database(...)");
    assertThatThrownBy(() -> RedisOptions.builder().address("redis-cluster://h:1").database(3).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("database must be 0 for a Redis Cluster, was 3");
    assertThatThrownBy(() -> RedisOptions.builder().address("redis://h:1").username("app").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("username app is set without a password");
    assertThat(RedisOptions.builder().address("redis://h:1").username("app").password("p").build().username())
        .hasValue("app");
  }

  @Test
  void toBuilder_takesWhatTheAddressBroughtAsSetOnItsOwn_replacedBySettingItOrANewAddress() {
    RedisOptions original = RedisOptions.builder().address("redis://u:p@h:1/3").keyPrefix("a:").build();

    RedisOptions newPassword = original.toBuilder().password("q").build();
    assertThat(newPassword.password()).contains("q");
    assertThat(newPassword.username()).contains("u");
    assertThat(newPassword.database()).isEqualTo(3);
    assertThat(original.toBuilder().database(5).build().database()).isEqualTo(5);

    RedisOptions moved = original.toBuilder().address("redis://h2:2").build();
    assertThat(moved.username()).as("the old address's, gone with it").isEmpty();
    assertThat(moved.password()).isEmpty();
    assertThat(moved.database()).isZero();
    assertThat(moved.keyPrefix()).isEqualTo("a:");
    RedisOptions movedWithItsOwn = original.toBuilder().address("redis://v:w@h2:2/4").build();
    assertThat(movedWithItsOwn.username()).contains("v");
    assertThat(movedWithItsOwn.password()).contains("w");
    assertThat(movedWithItsOwn.database()).isEqualTo(4);

    RedisOptions copied = original.toBuilder().build();
    assertThat(copied.password()).contains("p");
    assertThat(copied.address()).isEqualTo(original.address());
    assertThat(copied.toBuilder().address("redis://h3:3").build().password()).as("still the address's").isEmpty();

    RedisOptions own = RedisOptions.builder().address("redis://h:1").username("x").password("y").build();
    RedisOptions ownMoved = own.toBuilder().address("redis://h2:2").build();
    assertThat(ownMoved.username()).as("set on its own: kept").contains("x");
    assertThat(ownMoved.password()).contains("y");
  }

  @Test
  void tlsStores_needATlsAddressAndAReadableFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path store = java.nio.file.Files.createFile(dir.resolve("trust.p12"));
    assertThatThrownBy(() -> RedisOptions.builder().address("redis://h:1").trustStore(store).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("trustStore is set but address redis://h:1 does not use TLS (rediss://, rediss-sentinel:// or rediss-cluster://)");
    assertThatThrownBy(() -> RedisOptions.builder().keyStore(dir.resolve("missing.p12")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keyStore must be a readable file, was " + dir.resolve("missing.p12"));
    RedisOptions o = RedisOptions.parse(Map.of("address", "rediss://h:1", "trustStore", store.toString(), "trustStorePassword", "x"));
    assertThat(o.trustStore()).contains(store);
    assertThat(o.toString()).doesNotContain("=x");
  }

  @Test
  void negativeCacheMaxAge_defaultZeroAndNegative() {
    assertThat(RedisOptions.defaults().negativeCacheMaxAge()).isEqualTo(RedisOptions.DEFAULT_NEGATIVE_CACHE_MAX_AGE);
    assertThat(RedisOptions.parse(Map.of("negativeCacheMaxAge", "0s")).negativeCacheMaxAge()).isZero();
    assertThatThrownBy(() -> RedisOptions.builder().negativeCacheMaxAge(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("negativeCacheMaxAge must be >= 0, was PT-1S");
  }
}
