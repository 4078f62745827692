package io.cachet.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.CacheConfig;
import io.cachet.redis.RedisOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** How bound {@code cachet.caches} properties become cache configurations. */
final class CacheDeclarationsTest {

  @Test
  void redisCacheWithoutAKeyPrefix_isPrefixedWithItsName() {
    CacheConfig<?, ?> books = declare(Map.of("cachet.caches.books.backend", "redis")).get(0).config();

    assertThat(books.backendOptions(RedisOptions.class)).get().extracting(RedisOptions::keyPrefix).isEqualTo("books::");
  }

  @Test
  void redisCacheWithAKeyPrefix_keepsIt() {
    List<CacheDeclarations.Declared> declared = declare(Map.of(
        "cachet.caches.books.backend", "redis",
        "cachet.caches.books.redis.key-prefix", "shelf:",
        "cachet.caches.flat.backend", "redis",
        "cachet.caches.flat.redis.key-prefix", ""));

    assertThat(declared).extracting(d -> d.config().name() + "=" + d.config().backendOptions(RedisOptions.class).orElseThrow().keyPrefix())
        .containsExactlyInAnyOrder("books=shelf:", "flat=");
  }

  @Test
  void redisCacheWithOtherOptions_isPrefixedWithItsName() {
    CacheConfig<?, ?> books = declare(Map.of(
        "cachet.caches.books.backend", "redis",
        "cachet.caches.books.redis.address", "redis://127.0.0.1:1")).get(0).config();

    RedisOptions options = books.backendOptions(RedisOptions.class).orElseThrow();
    assertThat(options.keyPrefix()).isEqualTo("books::");
    assertThat(options.address()).isEqualTo("redis://127.0.0.1:1");
  }

  private static List<CacheDeclarations.Declared> declare(Map<String, String> properties) {
    CachetProperties bound = new Binder(new MapConfigurationPropertySource(properties))
        .bind("cachet", CachetProperties.class).get();
    return new CacheDeclarations(CacheDeclarationsTest.class.getClassLoader()).declare(bound);
  }
}
