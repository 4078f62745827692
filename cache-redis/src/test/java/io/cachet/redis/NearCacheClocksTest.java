package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.CacheConfig;
import io.cachet.FakeTicker;
import io.cachet.codec.Codecs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A near cache reads two clocks: its stores' (maximum ages; a CoarseTicker in production) and the
 * cache's own (deadlines from a key's TTL in Redis). Each deadline must follow its own clock.
 */
final class NearCacheClocksTest {

  private final FakeTicker cacheTicker = new FakeTicker();
  private final FakeTicker storeTicker = new FakeTicker();
  private final NearCache<String, String> near = new NearCache<>(
      CacheConfig.builder("clocks").maximumSize(100).ticker(cacheTicker).build(),
      RedisOptions.builder().address("redis://127.0.0.1:1")
          .nearCacheMaxAge(Duration.ofSeconds(10)).negativeCacheMaxAge(Duration.ofSeconds(10)).build(),
      Codecs.utf8(), "p:".getBytes(StandardCharsets.UTF_8), true, storeTicker);

  @Test
  void maxAges_followTheStoresClock_redisTtls_followTheCachesClock() {
    near.listener().up();
    store("plain", null);
    store("ttl", 5_000L);
    NearLoad<String> absentLoad = near.newLoad();
    near.storeAbsent("gone", absentLoad, cacheTicker.read());

    cacheTicker.advance(Duration.ofHours(1));
    assertThat(near.lookup("plain")).as("max age runs on the stores' clock").isNotNull();
    assertThat(near.lookupAbsent("gone")).as("negative max age too").isTrue();
    assertThat(near.lookup("ttl")).as("past its Redis TTL on the cache's clock").isNull();

    storeTicker.advance(Duration.ofSeconds(10));
    assertThat(near.lookup("plain")).isNull();
    assertThat(near.lookupAbsent("gone")).isFalse();
  }

  @Test
  void aRedisTtl_doesNotFollowTheStoresClock() {
    near.listener().up();
    store("ttl", 5_000L);
    storeTicker.advance(Duration.ofSeconds(9));
    assertThat(near.lookup("ttl")).as("within max age, within TTL on the cache's clock").isNotNull();
    cacheTicker.advance(Duration.ofSeconds(5));
    assertThat(near.lookup("ttl")).isNull();
  }

  /**
   * The maximum age counts from when the read was sent, not from when its reply was stored: a
   * reply that took 2 s (a batch waiting for a slow node, up to the command timeout) does not make
   * a value read 11 s ago fresh under a 10 s maximum age. Such an entry's bound is a deadline on
   * the cache's clock, as a TTL's is.
   */
  @Test
  void maxAge_countsFromTheReadsStart_notFromItsStore() {
    near.listener().up();
    NearLoad<String> load = near.newLoad();
    assertThat(near.register("slow", load)).isNull();
    NearLoad<String> absentLoad = near.newLoad();
    assertThat(near.register("slow-absent", absentLoad)).isNull();
    long start = cacheTicker.read();
    cacheTicker.advance(Duration.ofSeconds(2));
    storeTicker.advance(Duration.ofSeconds(2));
    near.storeValue("slow", load, "v", null, start);
    near.deregister("slow", load);
    near.storeAbsent("slow-absent", absentLoad, start);
    near.deregister("slow-absent", absentLoad);

    cacheTicker.advance(Duration.ofSeconds(7)); // 9 s after the reads were sent
    storeTicker.advance(Duration.ofSeconds(7));
    assertThat(near.lookup("slow")).isNotNull();
    assertThat(near.lookupAbsent("slow-absent")).isTrue();
    cacheTicker.advance(Duration.ofSeconds(1)); // 10 s after, 8 s after the store
    storeTicker.advance(Duration.ofSeconds(1));
    assertThat(near.lookup("slow")).isNull();
    assertThat(near.lookupAbsent("slow-absent")).isFalse();
  }

  /**
   * A slow read's deadline may be its maximum age, not its key's TTL: a caller that derives the
   * key's write time from the deadline (refreshAfterWrite) must not get that entry, or a key written
   * a minute ago would look fifty minutes old.
   */
  @Test
  void slowReadsAgeBoundedEntry_isNotAnsweredToAReadThatNeedsItsTtl() {
    near.listener().up();
    NearLoad<String> slow = near.newLoad();
    assertThat(near.register("slow", slow)).isNull();
    long start = cacheTicker.read();
    cacheTicker.advance(Duration.ofMillis(5));
    near.storeValue("slow", slow, "v", Duration.ofHours(1).toMillis(), start); // TTL: 1 h; max age: 10 s
    near.deregister("slow", slow);
    store("fast", Duration.ofHours(1).toMillis());

    assertThat(near.lookup("slow")).as("served while younger than its max age").isNotNull();
    assertThat(near.lookupWithTtl("slow")).as("but not to a read that needs its TTL").isNull();
    NearEntry<String> fast = near.lookupWithTtl("fast");
    assertThat(fast).isNotNull();
    assertThat(fast.deadline() - cacheTicker.read()).as("a TTL's deadline").isGreaterThan(Duration.ofMinutes(59).toNanos());
  }

  /** A fast read's entry gets no deadline of its own: its hits read no clock but the store's. */
  @Test
  void fastRead_getsNoDeadlineOfItsOwn() {
    near.listener().up();
    store("fast", null);
    NearEntry<String> stamped = near.lookup("fast");
    assertThat(stamped).isNotNull();
    assertThat(stamped.deadline()).isEqualTo(Long.MAX_VALUE);
  }

  private void store(String key, Long pttl) {
    NearLoad<String> load = near.newLoad();
    assertThat(near.register(key, load)).isNull();
    near.storeValue(key, load, "v-" + key, pttl, cacheTicker.read());
    near.deregister(key, load);
  }
}
