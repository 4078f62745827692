package io.cachet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The exact-LRU scenarios a caching proxy relies on, for any backend that offers an LRU cache in
 * front of a source of truth.
 *
 * <p>The cache under test reads through from a source that the test can change behind the
 * cache's back (a map for a local cache's loader, a Redis server for the Redis backend). A read of
 * a key that is still cached returns the value cached earlier; a read of an evicted key fetches the
 * source's current value. So after changing every value in the source, which keys return new values
 * shows exactly which keys were evicted.
 */
public abstract class AbstractLruScenarioTest {

  /** The capacity the scenarios use. */
  protected static final int CAPACITY = 10;

  private Cache<String, String> cache;

  /** Creates an exact-LRU cache of {@code capacity} keys reading through from the source. */
  protected abstract Cache<String, String> createLruCache(int capacity);

  /** Sets {@code key} to {@code value} in the source, without going through the cache. */
  protected abstract void writeToSource(String key, String value);

  /** Reads {@code key} through {@code cache}: from the cache if present, else from the source. */
  protected abstract String readThrough(Cache<String, String> cache, String key);

  /** Releases what {@link #createLruCache} acquired; closes the cache by default. */
  protected void release(Cache<String, String> cache) {
    cache.close();
  }

  @AfterEach
  void releaseCache() {
    if (cache != null) {
      release(cache);
    }
  }

  @Test
  void lru_readElevenKeysOnce_evictsKey1Only() {
    cache = createLruCache(CAPACITY);
    for (int i = 1; i <= 11; i++) {
      writeToSource("key" + i, "old" + i);
    }
    for (int i = 1; i <= 11; i++) {
      assertThat(readThrough(cache, "key" + i)).isEqualTo("old" + i);
    }
    for (int i = 1; i <= 11; i++) {
      writeToSource("key" + i, "new" + i);
    }
    // Hits do not evict, so check the survivors first, then the evicted key.
    for (int i = 11; i >= 2; i--) {
      assertThat(readThrough(cache, "key" + i)).as("key%d stays cached", i).isEqualTo("old" + i);
    }
    assertThat(readThrough(cache, "key1")).as("key1 was evicted").isEqualTo("new1");
  }

  @Test
  void lru_key1ReadAgainBeforeKey11_evictsKey2Instead() {
    cache = createLruCache(CAPACITY);
    for (int i = 1; i <= 11; i++) {
      writeToSource("key" + i, "old" + i);
    }
    for (int i = 1; i <= 10; i++) {
      readThrough(cache, "key" + i);
    }
    assertThat(readThrough(cache, "key1")).isEqualTo("old1");
    assertThat(readThrough(cache, "key11")).isEqualTo("old11");
    for (int i = 1; i <= 11; i++) {
      writeToSource("key" + i, "new" + i);
    }
    for (int i = 11; i >= 3; i--) {
      assertThat(readThrough(cache, "key" + i)).as("key%d stays cached", i).isEqualTo("old" + i);
    }
    assertThat(readThrough(cache, "key1")).as("key1 stays cached").isEqualTo("old1");
    assertThat(readThrough(cache, "key2")).as("key2 was evicted").isEqualTo("new2");
  }
}
