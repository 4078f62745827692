package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import io.cachet.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Only differences of ticker readings matter ({@link Ticker}): a reading may be anywhere in the
 * {@code long} range, and wrap past {@code Long.MAX_VALUE}. Deadlines wrap with it; only times to
 * live of about 146 years or more ({@link AbstractLocalCache#NEVER_NANOS}) mean never.
 */
final class LruTickerWrapTest {

  @Test
  void anEntryWrittenJustBeforeTheTickerWraps_expiresAfterIt() {
    AtomicLong now = new AtomicLong(Long.MAX_VALUE - Duration.ofSeconds(1).toNanos());
    Cache<String, String> cache = lru(now::get, null, null);
    cache.put("ttl", "v", Duration.ofSeconds(5));
    cache.put("live", "v", Duration.ofMinutes(5));
    now.addAndGet(Duration.ofSeconds(4).toNanos()); // past Long.MAX_VALUE: wrapped
    assertThat(cache.get("ttl")).as("4 s of 5").isEqualTo("v");
    now.addAndGet(Duration.ofSeconds(2).toNanos());
    assertThat(cache.get("ttl")).as("6 s of 5").isNull();
    assertThat(cache.get("live")).isEqualTo("v");
  }

  @Test
  void aGlobalExpiryAcrossTheWrap_expires() {
    AtomicLong now = new AtomicLong(Long.MAX_VALUE - 10);
    Cache<String, String> cache = lru(now::get, Duration.ofSeconds(1), null);
    cache.put("k", "v");
    now.addAndGet(Duration.ofSeconds(2).toNanos());
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void aTimeToLiveOfCenturies_neverExpires() {
    FakeTicker ticker = new FakeTicker();
    Cache<String, String> cache = lru(ticker, null, null);
    cache.put("k", "v", Duration.ofDays(365L * 200));
    ticker.advance(Duration.ofDays(365L * 150));
    assertThat(cache.get("k")).isEqualTo("v");
  }

  /**
   * An idle time of centuries never expires from the start: a read can never turn a deadline into
   * "never" behind the count of entries with deadlines (which left a write on an empty cache
   * looking for the least recent entry, and failing).
   */
  @Test
  void anIdleTimeOfCenturies_neverExpires_andWritesOnAnEmptyCacheWork() {
    FakeTicker ticker = new FakeTicker();
    Cache<String, String> cache = lru(ticker, null, Duration.ofNanos(Long.MAX_VALUE - 10));
    cache.put("a", "A");
    ticker.advanceNanos(100);
    assertThat(cache.get("a")).isEqualTo("A");
    assertThat(cache.remove("a")).isTrue();
    assertThat(cache.replace("x", "X")).isFalse();
    cache.put("b", "B");
    ticker.advance(Duration.ofDays(365L * 150));
    assertThat(cache.get("b")).isEqualTo("B");
  }

  private static Cache<String, String> lru(Ticker ticker, Duration expireAfterWrite, Duration expireAfterAccess) {
    CacheConfig.Builder<String, String> config = CacheConfig.builder("wrap")
        .keyType(String.class)
        .valueType(String.class)
        .evictionPolicy(EvictionPolicy.LRU)
        .maximumSize(10)
        .ticker(ticker)
        .executor(Runnable::run);
    if (expireAfterWrite != null) {
      config.expireAfterWrite(expireAfterWrite);
    }
    if (expireAfterAccess != null) {
      config.expireAfterAccess(expireAfterAccess);
    }
    return LocalCacheProvider.createStandalone(config.build());
  }
}
