package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.codec.Codecs;
import java.time.Duration;
import org.junit.jupiter.api.Test;

final class RedisCacheProviderTest {

  @Test
  void create_byteArrayKeyCodec_rejectedNamingKeyCodec() {
    try (CacheManager manager = CacheManager.create()) {
      // Rejected before any connection is attempted: nothing listens on port 1.
      CacheConfig config = CacheConfig.builder("bytes").backend("redis").keyCodec(Codecs.bytes())
          .backendOptions(RedisOptions.builder().address("127.0.0.1:1").build())
          .build();
      assertThatThrownBy(() -> manager.create(config))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("keyCodec")
          .hasMessageContaining(Codecs.bytes().toString());
    }
  }

  @Test
  void sharingKey_differsInEveryConnectionOption() {
    RedisOptions base = RedisOptions.builder().address("h:1").username("u").password("p").build();
    assertThat(RedisCacheProvider.sharingKey(base))
        .isEqualTo(RedisCacheProvider.sharingKey(RedisOptions.builder().address("h:1").username("u").password("p")
            .keyPrefix("other:").coherence(Coherence.EXPIRY).build()));
    for (RedisOptions other : new RedisOptions[] {
        RedisOptions.builder().address("h:2").username("u").password("p").build(),
        RedisOptions.builder().address("h:1").username("u").password("p").database(1).build(),
        RedisOptions.builder().address("h:1").username("v").password("p").build(),
        RedisOptions.builder().address("h:1").username("u").password("q").build(),
        RedisOptions.builder().address("h:1").password("p").build(),
        RedisOptions.builder().address("h:1").username("u").password("p").commandTimeout(Duration.ofSeconds(9)).build(),
        RedisOptions.builder().address("h:1").username("u").password("p").connectTimeout(Duration.ofSeconds(9)).build()}) {
      assertThat(RedisCacheProvider.sharingKey(other)).as(other.toString()).isNotEqualTo(RedisCacheProvider.sharingKey(base));
    }
    // Messages about a shared client show its key: no password, nor its digest.
    String sha256OfP = "148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940";
    assertThat(RedisCacheProvider.sharingKey(base).toString()).isEqualTo("Redis client of redis://h:1")
        .doesNotContain(sha256OfP);
    assertThat(RedisCacheProvider.sharingKey(RedisOptions.builder().address("redis://u:p@h:1").build()).toString())
        .isEqualTo("Redis client of redis://h:1");
    // One database named two ways is one client.
    assertThat(RedisCacheProvider.sharingKey(RedisOptions.builder().address("redis://h:1/5").build()))
        .isEqualTo(RedisCacheProvider.sharingKey(RedisOptions.builder().address("redis://h:1").database(5).build()));
  }
}
