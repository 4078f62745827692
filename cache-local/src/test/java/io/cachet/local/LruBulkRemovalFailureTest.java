package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A bulk removal ({@code clear}, {@code cleanUp}) marks the entries it will remove before removing
 * them, and a hit on a marked entry waits. When the removal fails part way with an {@code Error}
 * (running out of memory; here a key whose {@code hashCode} throws), the entries it did not remove
 * must be unmarked, or every later hit on them would wait forever.
 */
final class LruBulkRemovalFailureTest {

  private static final Duration DEADLINE = Duration.ofSeconds(10);

  private final FakeTicker ticker = new FakeTicker();
  private final List<String> events = new CopyOnWriteArrayList<>();

  @Test
  void clearFailingPartWay_leavesTheRestReadable() {
    LruCache<Key, String> cache = lru(null);
    Key a = new Key("a");
    Key b = new Key("b");
    Key c = new Key("c");
    cache.put(a, "A");
    cache.put(b, "B");
    cache.put(c, "C");
    b.armed = true;
    assertThatThrownBy(cache::clear).isInstanceOf(OutOfMemoryError.class);
    b.armed = false;
    assertTimeoutPreemptively(DEADLINE, () -> {
      assertThat(cache.get(c)).isEqualTo("C");
      assertThat(cache.get(b)).isEqualTo("B");
      assertThat(cache.get(a)).as("removed before the failure").isNull();
    });
    cache.clear();
    assertThat(cache.estimatedSize()).isZero();
    assertThat(cache.get(c)).isNull();
  }

  @Test
  void cleanUpFailingPartWay_leavesTheRestReadable() {
    LruCache<Key, String> cache = lru(Duration.ofSeconds(10));
    Key a = new Key("a");
    Key b = new Key("b");
    Key c = new Key("c");
    cache.put(a, "A");
    cache.put(b, "B");
    ticker.advance(Duration.ofSeconds(5));
    cache.put(c, "C");
    ticker.advance(Duration.ofSeconds(6)); // a and b expired, c not
    b.armed = true;
    assertThatThrownBy(cache::cleanUp).isInstanceOf(OutOfMemoryError.class);
    b.armed = false;
    assertTimeoutPreemptively(DEADLINE, () -> {
      assertThat(cache.get(c)).isEqualTo("C");
      assertThat(cache.get(b)).as("expired").isNull();
    });
    cache.cleanUp();
    assertThat(cache.estimatedSize()).isEqualTo(1);
  }

  /**
   * An insert whose eviction fails (the victim's key throws) and whose own removal from the map
   * fails too (its key throws from then on) leaves its node in the map marked removed. A later write
   * of that key takes it out and inserts afresh; before, it waited for the node under the lock for
   * ever, and every other operation needing the lock with it.
   */
  @Test
  void anInsertWhoseEvictionAndUndoBothFail_leavesTheKeyWritable() {
    LruCache<Key, String> cache = lru(null, 1);
    Key a = new Key("a");
    Key b = new Key("b");
    cache.put(a, "A");
    cache.store.table.beforeVictimCheck = () -> { // b is in the map by now
      a.armed = true;
      b.armed = true;
    };
    assertThatThrownBy(() -> cache.put(b, "B")).isInstanceOf(OutOfMemoryError.class);
    cache.store.table.beforeVictimCheck = null;
    a.armed = false;
    b.armed = false;
    assertTimeoutPreemptively(DEADLINE, () -> {
      cache.put(b, "B2");
      assertThat(cache.get(b)).isEqualTo("B2");
      assertThat(cache.get(a)).as("evicted by B2").isNull();
    });
    assertThat(cache.estimatedSize()).isEqualTo(1);
  }

  /**
   * What a failing operation removed before it failed is gone for good: it is reported to the
   * listener (and counted), as if the operation had succeeded that far.
   */
  @Test
  void clearFailingPartWay_reportsWhatItRemoved() {
    LruCache<Key, String> cache = lru(null);
    Key a = new Key("a");
    Key b = new Key("b");
    cache.put(a, "A");
    cache.put(b, "B");
    b.armed = true;
    assertThatThrownBy(cache::clear).isInstanceOf(OutOfMemoryError.class);
    b.armed = false;
    assertThat(cache.get(a)).isNull();
    assertThat(events).containsExactly("a=A:EXPLICIT");
    assertThat(cache.get(b)).as("not removed, not reported").isEqualTo("B");
  }

  @Test
  void putWhoseExpiryOfAnotherEntryFails_reportsTheEvictionItMade() {
    LruCache<Key, String> cache = lru(null, 2);
    Key a = new Key("a");
    Key b = new Key("b");
    Key c = new Key("c");
    cache.put(a, "A");
    cache.put(b, "B", Duration.ofSeconds(1));
    ticker.advance(Duration.ofSeconds(2)); // b expired; a the least recent
    b.armed = true; // removing b, after c's insert evicted a, fails
    assertThatThrownBy(() -> cache.put(c, "C")).isInstanceOf(OutOfMemoryError.class);
    b.armed = false;
    assertThat(events).containsExactly("a=A:SIZE");
    assertThat(cache.stats().evictionCount()).isEqualTo(1);
    assertThat(cache.get(c)).isEqualTo("C");
    assertThat(cache.get(a)).isNull();
  }

  /** A key whose {@code hashCode} throws while armed, as an allocation could run out of memory. */
  private static final class Key {
    private final String name;
    volatile boolean armed;

    Key(String name) {
      this.name = name;
    }

    @Override
    public int hashCode() {
      if (armed) {
        throw new OutOfMemoryError("test: " + name);
      }
      return name.hashCode();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof Key key && key.name.equals(name);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private LruCache<Key, String> lru(Duration expireAfterWrite) {
    return lru(expireAfterWrite, 10);
  }

  @SuppressWarnings("unchecked")
  private LruCache<Key, String> lru(Duration expireAfterWrite, int maximumSize) {
    CacheConfig.Builder<Key, String> config = CacheConfig.builder("bulk-failure")
        .keyType(Key.class)
        .valueType(String.class)
        .evictionPolicy(EvictionPolicy.LRU)
        .maximumSize(maximumSize)
        .ticker(ticker)
        .executor(Runnable::run)
        .removalListener((key, value, cause) -> events.add(key + "=" + value + ":" + cause));
    if (expireAfterWrite != null) {
      config.expireAfterWrite(expireAfterWrite);
    }
    return (LruCache<Key, String>) LocalCacheProvider.createStandalone(config.build());
  }
}
