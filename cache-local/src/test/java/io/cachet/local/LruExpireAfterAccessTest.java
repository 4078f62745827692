package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import io.cachet.RemovalCause;
import io.cachet.Ticker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code expireAfterAccess} on the exact LRU: idle entries expire, reads and writes restart the clock. */
final class LruExpireAfterAccessTest {

  private static final Duration IDLE = Duration.ofSeconds(10);

  private final FakeTicker fake = new FakeTicker();
  private final AtomicLong tickerReads = new AtomicLong();
  private final Ticker ticker = () -> {
    tickerReads.incrementAndGet();
    return fake.read();
  };
  private final CacheManager manager = CacheManager.create();
  private final List<String> removals = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    manager.close();
  }

  private LruCache<String, String> cache(Consumer<CacheConfig.Builder> options) {
    CacheConfig.Builder builder =
        CacheConfig.builder("lru-access")
            .evictionPolicy(EvictionPolicy.LRU)
            .ticker(ticker)
            .executor(Runnable::run)
            .removalListener((k, v, cause) -> removals.add(k + "=" + v + ":" + cause));
    options.accept(builder);
    return (LruCache<String, String>) manager.create(builder.build());
  }

  private LruCache<String, String> idleCache() {
    return cache(b -> b.expireAfterAccess(IDLE));
  }

  @Test
  void get_idleEntry_expiresOnceIdleForTheDuration() {
    Cache<String, String> cache = idleCache();
    cache.put("k", "v");
    cache.put("other", "o");
    fake.advance(IDLE.minusNanos(1));
    assertThat(cache.get("other")).isEqualTo("o");
    fake.advance(Duration.ofNanos(1));
    assertThat(cache.get("k")).isNull();
    assertThat(removals).containsExactly("k=v:" + RemovalCause.EXPIRED);
    assertThat(cache.stats().evictionCount()).isEqualTo(1);
  }

  @Test
  void get_hit_extendsLife() {
    Cache<String, String> cache = idleCache();
    cache.put("k", "v");
    for (int i = 0; i < 5; i++) {
      fake.advance(IDLE.minusSeconds(1));
      assertThat(cache.get("k")).as("read %d", i).isEqualTo("v");
    }
    fake.advance(IDLE);
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void put_write_extendsLife() {
    Cache<String, String> cache = idleCache();
    cache.put("k", "v1");
    fake.advance(IDLE.minusSeconds(1));
    cache.put("k", "v2");
    fake.advance(IDLE.minusSeconds(1));
    assertThat(cache.get("k")).isEqualTo("v2");
    fake.advance(IDLE);
    assertThat(cache.get("k")).isNull();
    assertThat(removals).containsExactly("k=v1:" + RemovalCause.REPLACED, "k=v2:" + RemovalCause.EXPIRED);
  }

  @Test
  void putIfAbsent_onALiveKey_readsItAndExtendsLife() {
    Cache<String, String> cache = idleCache();
    cache.put("k", "v");
    fake.advance(IDLE.minusSeconds(1));
    assertThat(cache.putIfAbsent("k", "other")).isFalse();
    fake.advance(IDLE.minusSeconds(1));
    assertThat(cache.get("k")).isEqualTo("v");
  }

  @Test
  void missesReplaceFailuresAndRemovesOfOtherKeys_doNotExtendLife() {
    Cache<String, String> cache = idleCache();
    cache.put("k", "v");
    fake.advance(IDLE.minusSeconds(1));
    assertThat(cache.get("absent")).isNull();
    assertThat(cache.replace("k", "not-v", "w")).isFalse();
    cache.remove("absent");
    fake.advance(Duration.ofSeconds(1));
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void withExpireAfterWrite_readsDoNotExtendPastTheWriteDeadline() {
    Cache<String, String> cache = cache(b -> b.expireAfterAccess(IDLE).expireAfterWrite(Duration.ofSeconds(15)));
    cache.put("k", "v");
    fake.advance(Duration.ofSeconds(6));
    assertThat(cache.get("k")).isEqualTo("v");
    fake.advance(Duration.ofSeconds(6)); // 12 s after the write; idle deadline now 22 s
    assertThat(cache.get("k")).isEqualTo("v");
    fake.advance(Duration.ofSeconds(3)); // 15 s: the write deadline comes first
    assertThat(cache.get("k")).isNull();
    assertThat(removals).containsExactly("k=v:" + RemovalCause.EXPIRED);
  }

  @Test
  void withExpireAfterWrite_theIdleDeadlineComesFirstWhenNotRead() {
    Cache<String, String> cache = cache(b -> b.expireAfterAccess(IDLE).expireAfterWrite(Duration.ofMinutes(1)));
    cache.put("k", "v");
    fake.advance(IDLE);
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void withExpireAfterWrite_aWriteRestartsBothClocks() {
    Cache<String, String> cache = cache(b -> b.expireAfterAccess(IDLE).expireAfterWrite(Duration.ofSeconds(15)));
    cache.put("k", "v1");
    fake.advance(Duration.ofSeconds(9));
    assertThat(cache.get("k")).isEqualTo("v1");
    fake.advance(Duration.ofSeconds(5)); // 14 s
    cache.put("k", "v2");
    fake.advance(Duration.ofSeconds(9)); // 23 s: past the first write deadline
    assertThat(cache.get("k")).isEqualTo("v2");
    fake.advance(Duration.ofSeconds(6)); // 15 s after the second write
    assertThat(cache.get("k")).isNull();
  }

  /**
   * Per-entry TTLs do not combine with an idle timeout (CacheConfig turns them off, as Caffeine
   * does): a put with a TTL or an expire is refused with a clear error and the entry is kept.
   */
  @Test
  void perEntryTtl_withExpireAfterAccess_isRefusedAndNothingIsLost() {
    Cache<String, String> cache = idleCache();
    cache.put("k", "v");
    assertThatThrownBy(() -> cache.put("k", "other", Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("perEntryTtl(false)");
    assertThatThrownBy(() -> cache.expire("k", Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("perEntryTtl(false)");
    assertThat(cache.get("k")).isEqualTo("v");
    fake.advance(IDLE.minusSeconds(1));
    assertThat(cache.get("k")).isEqualTo("v");
    assertThatThrownBy(
            () -> CacheConfig.builder("x").evictionPolicy(EvictionPolicy.LRU).perEntryTtl(true).expireAfterAccess(IDLE).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("expireAfterAccess does not combine with per-entry TTLs");
  }

  @Test
  void eviction_staysExactLruWithAccessExpiry() {
    LruCache<String, String> cache = cache(b -> b.maximumSize(3).expireAfterAccess(IDLE));
    cache.put("a", "1");
    fake.advance(Duration.ofSeconds(1));
    cache.put("b", "2");
    fake.advance(Duration.ofSeconds(1));
    cache.put("c", "3");
    fake.advance(Duration.ofSeconds(1));
    cache.get("a");
    assertThat(cache.keysInRecencyOrder()).containsExactly("b", "c", "a");
    cache.put("d", "4");
    assertThat(cache.keysInRecencyOrder()).containsExactly("c", "a", "d");
    cache.putIfAbsent("c", "x");
    cache.put("e", "5");
    assertThat(cache.keysInRecencyOrder()).containsExactly("d", "c", "e");
    assertThat(removals).containsExactly("b=2:" + RemovalCause.SIZE, "a=1:" + RemovalCause.SIZE);
  }

  @Test
  void write_removesIdleEntriesAtTheHeadWithoutReadingThem() {
    LruCache<String, String> cache = idleCache();
    cache.put("a", "1");
    cache.put("b", "2");
    fake.advance(Duration.ofSeconds(5));
    cache.put("c", "3");
    fake.advance(Duration.ofSeconds(5)); // a and b idle for 10 s, c for 5 s

    cache.put("d", "4");

    assertThat(cache.keysInRecencyOrder()).containsExactly("c", "d");
    assertThat(cache.estimatedSize()).isEqualTo(2);
    assertThat(removals).containsExactly("a=1:" + RemovalCause.EXPIRED, "b=2:" + RemovalCause.EXPIRED);
    assertThat(cache.stats().evictionCount()).isEqualTo(2);
  }

  @Test
  void write_whenFull_removesAnIdleHeadAsExpiredNotAsSize() {
    LruCache<String, String> cache = cache(b -> b.maximumSize(2).expireAfterAccess(IDLE));
    cache.put("a", "1");
    fake.advance(Duration.ofSeconds(5));
    cache.put("b", "2");
    fake.advance(Duration.ofSeconds(5));
    cache.put("c", "3");
    assertThat(cache.keysInRecencyOrder()).containsExactly("b", "c");
    assertThat(removals).containsExactly("a=1:" + RemovalCause.EXPIRED);
  }

  @Test
  void cleanUp_removesEveryIdleEntry() {
    LruCache<String, String> cache = idleCache();
    cache.put("a", "1");
    cache.put("b", "2");
    fake.advance(IDLE);
    cache.cleanUp();
    assertThat(cache.estimatedSize()).isZero();
    assertThat(removals).containsExactly("a=1:" + RemovalCause.EXPIRED, "b=2:" + RemovalCause.EXPIRED);
  }

  @Test
  void hit_readsTheTickerOnlyWhenExpiryIsConfigured() {
    LruCache<String, String> plain = cache(b -> {});
    plain.put("k", "v");
    tickerReads.set(0);
    plain.get("k");
    plain.put("k", "v2");
    assertThat(tickerReads).as("no expiry: no clock read").hasValue(0);

    manager.close();
    CacheManager other = CacheManager.create();
    try {
      LruCache<String, String> idle =
          (LruCache<String, String>)
              other.create(CacheConfig.builder("idle").evictionPolicy(EvictionPolicy.LRU).expireAfterAccess(IDLE).ticker(ticker).build());
      idle.put("k", "v");
      tickerReads.set(0);
      idle.get("k");
      assertThat(tickerReads).hasValue(1);
    } finally {
      other.close();
    }
  }

  @Test
  void refreshAfterWrite_withExpireAfterAccess_reloadsAndExpiresWhenIdle() {
    Cache<String, String> cache =
        cache(b -> b.expireAfterAccess(IDLE).refreshAfterWrite(Duration.ofSeconds(5)));
    cache.put("k", "old");
    fake.advance(Duration.ofSeconds(6));
    assertThat(cache.get("k", key -> "new")).isEqualTo("old"); // stale: reloads in the background
    assertThat(cache.get("k")).isEqualTo("new"); // the executor runs inline
    fake.advance(IDLE);
    assertThat(cache.get("k")).isNull();
  }

  /**
   * Contended hits on nodes of every node class are served by the lock holder (a request of a
   * node subclass used to be left unserved, its reader spinning forever), and idle expiry keeps
   * the list and the map in agreement.
   */
  @Test
  void contendedReadsAndWrites_finishAndKeepListAndMapInAgreement() throws Exception {
    int threads = 4;
    int keys = 32;
    int capacity = 12;
    LruCache<String, String> cache =
        cache(b -> b.maximumSize(capacity).expireAfterAccess(Duration.ofMillis(300)));
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<String> violations = new CopyOnWriteArrayList<>();
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        workers.add(pool.submit(() -> {
          start.await();
          SplittableRandom random = new SplittableRandom(thread * 31L + 7);
          for (int i = 0; i < 50_000; i++) {
            String key = "k" + random.nextInt(keys);
            int op = random.nextInt(100);
            if (op < 70) {
              String value = cache.get(key);
              if (value != null && !value.startsWith(key + ":")) {
                violations.add("read " + value + " for " + key);
              }
            } else if (op < 95) {
              cache.put(key, key + ":" + i);
            } else if (op < 98) {
              cache.remove(key);
            } else {
              fake.advance(Duration.ofMillis(random.nextInt(50)));
            }
            if (cache.estimatedSize() > capacity) {
              violations.add("size " + cache.estimatedSize());
            }
          }
          return null;
        }));
      }
      for (Future<?> worker : workers) {
        worker.get(120, TimeUnit.SECONDS); // a lost request fails here instead of hanging
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(violations).isEmpty();
    List<String> recency = cache.keysInRecencyOrder();
    assertThat(new HashSet<>(recency)).hasSize(recency.size());
    assertThat((long) recency.size()).isEqualTo(cache.estimatedSize());
  }
}
