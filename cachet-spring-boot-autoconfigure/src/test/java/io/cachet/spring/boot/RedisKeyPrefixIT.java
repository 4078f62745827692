package io.cachet.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.testkit.redis.RedisServerExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.cache.Cache;
import org.springframework.cache.CacheManager;

/** Redis caches declared without a key prefix get their own keys, on a real Redis. */
@Tag("redis")
final class RedisKeyPrefixIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(CachetAutoConfiguration.class));

  @Test
  void twoCachesWithoutAPrefix_keepApartAKeyTheyShare_andEvictingAllOfOneLeavesTheOther() {
    runner.withPropertyValues(
            "cachet.caches.books.backend=redis",
            "cachet.caches.books.redis.address=" + REDIS.server().uri(),
            "cachet.caches.authors.backend=redis",
            "cachet.caches.authors.redis.address=" + REDIS.server().uri())
        .run(context -> {
          assertThat(context).hasNotFailed();
          CacheManager spring = context.getBean(CacheManager.class);
          Cache books = spring.getCache("books");
          Cache authors = spring.getCache("authors");
          REDIS.server().command("SET", "unrelated", "kept");

          books.put("1", "Dune");
          authors.put("1", "Frank Herbert");

          assertThat(books.get("1", String.class)).isEqualTo("Dune");
          assertThat(authors.get("1", String.class)).isEqualTo("Frank Herbert");
          assertThat(REDIS.server().command("GET", "books::1")).asString().isEqualTo("Dune");

          books.clear();

          assertThat(books.get("1")).isNull();
          assertThat(authors.get("1", String.class)).isEqualTo("Frank Herbert");
          assertThat(REDIS.server().command("EXISTS", "authors::1")).isEqualTo(1L);
          assertThat(REDIS.server().command("EXISTS", "unrelated")).isEqualTo(1L);
        });
  }
}
