package io.cachet.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import io.cachet.spring.CachetCache;
import io.cachet.spring.CachetCacheManager;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.cache.Cache;
import org.springframework.cache.CacheManager;

/** {@code @Cacheable}, {@code @CachePut} and {@code @CacheEvict} on local Cachet caches declared in properties. */
@SpringBootTest(
    classes = TestApp.class,
    properties = {
      "cachet.caches.books.maximum-size=100",
      "cachet.caches.books.expire-after-write=10m",
      "cachet.caches.books.refresh-after-write=1m",
      "cachet.caches.books.expire-after-access=5m",
      "cachet.caches.counts.eviction-policy=lru",
      "cachet.caches.counts.maximumSize=3",
    })
final class LocalCachingTest {

  @Autowired BookService books;
  @Autowired CacheManager cacheManager;
  @Autowired io.cachet.CacheManager cachet;

  @BeforeEach
  void clear() {
    cacheManager.getCacheNames().forEach(name -> cacheManager.getCache(name).clear());
    books.reset();
  }

  @Test
  void cacheManager_isCachetsWithTheDeclaredOptions() {
    assertThat(cacheManager).isInstanceOf(CachetCacheManager.class);
    assertThat(cacheManager.getCacheNames()).containsExactly("books", "counts");
    CacheConfig<?, ?> books = cachet.getCache("books").config();
    assertThat(books.maximumSize()).isEqualTo(100);
    assertThat(books.expireAfterWrite()).contains(Duration.ofMinutes(10));
    assertThat(books.refreshAfterWrite()).contains(Duration.ofMinutes(1));
    assertThat(books.expireAfterAccess()).contains(Duration.ofMinutes(5));
    CacheConfig<?, ?> counts = cachet.getCache("counts").config();
    assertThat(counts.evictionPolicy()).isEqualTo(EvictionPolicy.LRU);
    assertThat(counts.maximumSize()).isEqualTo(3);
    assertThat(cacheManager.getCache("books").getNativeCache()).isSameAs(cachet.getCache("books"));
    assertThat(cacheManager.getCache("undeclared")).isNull();
  }

  @Test
  void cacheable_runsTheMethodOncePerKey() {
    Book first = books.find("1");

    assertThat(books.find("1")).isEqualTo(first);
    assertThat(books.find("2")).isNotEqualTo(first);
    assertThat(books.calls()).isEqualTo(2);
  }

  @Test
  void cacheable_cachesANullResult() {
    assertThat(books.find("missing")).isNull();
    assertThat(books.find("missing")).isNull();

    assertThat(books.calls()).isEqualTo(1);
    assertThat(cacheManager.getCache("books").get("missing")).isNotNull().extracting(Cache.ValueWrapper::get).isNull();
  }

  @Test
  void cachePut_replaces_andCacheEvict_removes() {
    books.find("1");
    books.save(new Book("1", "Saved"));

    assertThat(books.find("1").title()).isEqualTo("Saved");

    books.remove("1");
    assertThat(books.find("1").title()).startsWith("Title 1");
    assertThat(books.calls()).isEqualTo(2);
  }

  @Test
  void syncCacheable_goesThroughTheSingleFlightLoad() {
    Book first = books.findSync("7");

    assertThat(books.findSync("7")).isEqualTo(first);
    assertThat(books.calls()).isEqualTo(1);
  }

  @Test
  void completableFutureCacheable_goesThroughRetrieve() throws Exception {
    Book first = books.findAsync("9").get();

    assertThat(books.findAsync("9").get()).isEqualTo(first);
    assertThat(books.calls()).isEqualTo(1);
  }

  @Test
  void longKeys_workOnLocalCaches() {
    assertThat(books.square(4L)).isEqualTo(16L);
    assertThat(books.square(4L)).isEqualTo(16L);
    assertThat(books.calls()).isEqualTo(1);
  }

  @Test
  void getWithLoader_wrapsTheLoadersExceptionAndCachesNothing() {
    Cache cache = cacheManager.getCache("books");

    assertThatThrownBy(() -> cache.get("k", () -> { throw new IOException("disk"); }))
        .isInstanceOf(Cache.ValueRetrievalException.class)
        .hasCauseInstanceOf(IOException.class)
        .cause().hasMessage("disk");
    assertThat(cache.get("k")).isNull();
    assertThat(cache.get("k", () -> new Book("k", "loaded"))).isEqualTo(new Book("k", "loaded"));
  }

  @Test
  void putIfAbsent_returnsTheExistingValue() {
    Cache cache = cacheManager.getCache("books");

    assertThat(cache.putIfAbsent("p", new Book("p", "first"))).isNull();
    assertThat(cache.putIfAbsent("p", new Book("p", "second")).get()).isEqualTo(new Book("p", "first"));
    assertThat(cache.evictIfPresent("p")).isTrue();
    assertThat(cache.evictIfPresent("p")).isFalse();
    cache.put("q", null);
    assertThat(cache.invalidate()).isTrue();
    assertThat(cache.get("q")).isNull();
  }

  @Test
  void retrieve_answersAHitAMissAndANull() throws Exception {
    CachetCache cache = (CachetCache) cacheManager.getCache("books");
    cache.put("a", new Book("a", "A"));
    cache.put("n", null);

    assertThat(((Cache.ValueWrapper) cache.retrieve("a").get()).get()).isEqualTo(new Book("a", "A"));
    assertThat(((Cache.ValueWrapper) cache.retrieve("n").get()).get()).isNull();
    assertThat(cache.retrieve("none").get()).isNull();
  }
}
