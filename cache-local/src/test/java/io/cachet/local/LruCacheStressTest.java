package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Many threads, random operations on a small key space, then invariants.
 *
 * <p>Each key is written (put, putIfAbsent, replace, compare-and-set) only by its owner thread,
 * with values {@code key:sequence} where the sequence grows with each write, so "the last value
 * written" is well defined; every thread reads, removes and expires every key. Checked: no
 * operation ever sees more than {@code capacity} entries; every value read belongs to its key; a
 * thread never reads an older write of a key after a newer one; once quiet, every present key
 * holds its owner's last write and the recency list matches the map; and everything finishes
 * within a deadline (no deadlock, no livelock).
 */
final class LruCacheStressTest {

  private static final int THREADS = 4;
  private static final int KEYS = 48;
  private static final int CAPACITY = 16;
  private static final int OPS_PER_THREAD = 200_000;

  @Test
  void randomOperations_keepEveryInvariant() throws Exception {
    FakeTicker ticker = new FakeTicker();
    LruCache<String, String> cache =
        (LruCache<String, String>)
            LocalCacheProvider.<String, String>createStandalone(
                CacheConfig.builder("stress")
                    .evictionPolicy(EvictionPolicy.LRU)
                    .maximumSize(CAPACITY)
                    .expireAfterWrite(Duration.ofSeconds(30))
                    .ticker(ticker)
                    .executor(Runnable::run)
                    .build());
    long[][] lastWritten = new long[THREADS][KEYS];
    ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    AtomicBoolean oversize = new AtomicBoolean();
    CyclicBarrier start = new CyclicBarrier(THREADS);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int thread = t;
        workers.add(pool.submit(() -> {
          start.await();
          run(cache, ticker, thread, lastWritten[thread], violations, oversize);
          return null;
        }));
      }
      for (Future<?> worker : workers) {
        worker.get(120, TimeUnit.SECONDS); // a deadlock fails here instead of hanging the build
      }
    } finally {
      pool.shutdownNow();
    }

    assertThat(violations).isEmpty();
    assertThat(oversize).isFalse();
    assertThat(cache.estimatedSize()).isLessThanOrEqualTo(CAPACITY);

    // Quiet now: the list and the map agree, and present keys hold their owner's last write.
    List<String> recency = cache.keysInRecencyOrder();
    assertThat(new HashSet<>(recency)).hasSize(recency.size());
    assertThat((long) recency.size()).isEqualTo(cache.estimatedSize());
    Set<String> present = new HashSet<>();
    for (int k = 0; k < KEYS; k++) {
      String key = "k" + k;
      String value = cache.get(key);
      if (value != null) {
        present.add(key);
        int owner = k % THREADS;
        assertThat(value).as("value of %s", key).isEqualTo(key + ":" + lastWritten[owner][k]);
      }
    }
    assertThat(present).isEqualTo(new HashSet<>(recency));
  }

  private static void run(
      Cache<String, String> cache,
      FakeTicker ticker,
      int thread,
      long[] lastWritten,
      ConcurrentLinkedQueue<String> violations,
      AtomicBoolean oversize) {
    SplittableRandom random = new SplittableRandom(thread * 7919L + 17);
    long[] lastSeen = new long[KEYS];
    long sequence = 0;
    for (int i = 0; i < OPS_PER_THREAD; i++) {
      int k = random.nextInt(KEYS);
      String key = "k" + k;
      boolean owner = k % THREADS == thread;
      int op = random.nextInt(100);
      if (op < 60) {
        String value = cache.get(key);
        if (value != null) {
          if (!value.startsWith(key + ":")) {
            violations.add("read " + value + " for " + key);
          } else {
            long seq = Long.parseLong(value.substring(key.length() + 1));
            if (seq < lastSeen[k]) {
              violations.add("thread " + thread + " read " + key + " seq " + seq + " after " + lastSeen[k]);
            }
            lastSeen[k] = seq;
          }
        }
      } else if (op < 85 && owner) {
        long next = ++sequence;
        String value = key + ":" + next;
        switch (random.nextInt(4)) {
          case 0 -> {
            cache.put(key, value);
            lastWritten[k] = next;
          }
          case 1 -> {
            if (cache.putIfAbsent(key, value)) {
              lastWritten[k] = next;
            }
          }
          case 2 -> {
            if (cache.replace(key, value)) {
              lastWritten[k] = next;
            }
          }
          default -> {
            if (cache.replace(key, key + ":" + lastWritten[k], value)) {
              lastWritten[k] = next;
            }
          }
        }
      } else if (op < 92) {
        cache.remove(key);
      } else if (op < 97) {
        cache.expire(key, Duration.ofSeconds(1 + random.nextInt(20)));
      } else {
        ticker.advance(Duration.ofMillis(random.nextInt(200)));
      }
      if (cache.estimatedSize() > CAPACITY) {
        oversize.set(true);
      }
    }
  }
}
