package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import io.cachet.FakeTicker;
import io.cachet.RemovalCause;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hits run without the lock ({@link LruStore}: a ticket and a CAS on the node's stamp), many
 * readers at once, while a writer changes, removes and inserts keys. Checked: every read returns a
 * value of its key and never an older one than the same thread read before; no read waits forever
 * on a node left marked (the deadline catches it); the recency order holds every key once and
 * matches the map; and, once quiet, hits order the keys as they were made.
 */
final class LruLockFreeReadsTest {

  private static final int READERS = 3;
  private static final int KEYS = 64;
  private static final int READS_PER_THREAD = 300_000;

  private final ExecutorService pool = Executors.newFixedThreadPool(READERS + 1);

  @AfterEach
  void stopPool() {
    pool.shutdownNow();
  }

  @Test
  void concurrentHitsAndWrites_loseNoRead_andKeepTheOrder() throws Exception {
    LruCache<Integer, Long> cache = lru(KEYS);
    long[] written = new long[KEYS];
    for (int key = 0; key < KEYS; key++) {
      cache.put(key, encode(key, 0));
    }
    ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    race(
        seed -> {
          SplittableRandom random = new SplittableRandom(seed);
          long[] seen = new long[KEYS];
          for (int i = 0; i < READS_PER_THREAD; i++) {
            int key = random.nextInt(KEYS);
            Long value = cache.get(key);
            if (value == null) {
              continue; // removed by the writer for a moment
            }
            if (value / 1_000_000 != key || value % 1_000_000 < seen[key]) {
              violations.add("key " + key + " read " + value + " after " + seen[key]);
            }
            seen[key] = value % 1_000_000;
          }
        },
        random -> {
          int key = random.nextInt(KEYS);
          if (random.nextInt(8) == 0) {
            cache.remove(key);
          }
          cache.put(key, encode(key, ++written[key]));
        });

    assertThat(violations).isEmpty();
    List<Integer> order = new ArrayList<>();
    for (int key = 0; key < KEYS; key++) {
      order.add(key);
    }
    Collections.shuffle(order, new Random(7));
    for (int key : order) {
      assertThat(cache.get(key)).isEqualTo(encode(key, written[key]));
    }
    assertThat(cache.keysInRecencyOrder()).containsExactlyElementsOf(order);
  }

  @Test
  void concurrentHitsAndEvictions_keepTheBound_andTheListMatchesTheMap() throws Exception {
    int capacity = 16;
    LruCache<Integer, Long> cache = lru(capacity);
    ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    long[] version = new long[1];
    race(
        seed -> {
          SplittableRandom random = new SplittableRandom(seed);
          for (int i = 0; i < READS_PER_THREAD; i++) {
            int key = random.nextInt(KEYS);
            Long value = cache.get(key);
            if (value != null && value / 1_000_000 != key) {
              violations.add("key " + key + " read " + value);
            }
          }
        },
        random -> {
          int key = random.nextInt(KEYS);
          cache.put(key, encode(key, ++version[0] % 1_000_000));
        });

    assertThat(violations).isEmpty();
    List<Integer> recency = cache.keysInRecencyOrder();
    assertThat(recency).hasSize(capacity).doesNotHaveDuplicates();
    for (int key = 0; key < KEYS; key++) {
      assertThat(cache.getQuietly(key) != null)
          .as("key %d present", key)
          .isEqualTo(recency.contains(key));
    }
  }

  /**
   * Lock-free hits on entries with a deadline never return an expired value: the one writer moves
   * the (fake) ticker and stores values that are their own deadlines, with a per-entry TTL of a
   * few ticks, so entries expire all the time under the readers; a reader that read the ticker
   * before its get must never be given a value whose deadline had passed by then.
   */
  @Test
  void concurrentHitsAndExpiries_neverReturnAnExpiredValue() throws Exception {
    FakeTicker ticker = new FakeTicker();
    LruCache<Integer, Long> cache =
        (LruCache<Integer, Long>)
            LocalCacheProvider.<Integer, Long>createStandalone(
                CacheConfig.builder("buffered-expiry")
                    .keyType(Integer.class)
                    .valueType(Long.class)
                    .evictionPolicy(EvictionPolicy.LRU)
                    .maximumSize(KEYS / 2)
                    .ticker(ticker)
                    .executor(Runnable::run)
                    .build());
    ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    long[] hits = new long[READERS];
    race(
        seed -> {
          SplittableRandom random = new SplittableRandom(seed);
          for (int i = 0; i < READS_PER_THREAD; i++) {
            long before = ticker.read();
            Long deadline = cache.get(random.nextInt(KEYS));
            if (deadline != null) {
              hits[seed]++;
              if (deadline - before <= 0) {
                violations.add("read at " + before + " a value expiring at " + deadline);
              }
            }
          }
        },
        random -> {
          ticker.advanceNanos(1);
          long ttl = 1 + random.nextInt(8);
          cache.put(random.nextInt(KEYS), ticker.read() + ttl, Duration.ofNanos(ttl));
        });

    assertThat(violations).isEmpty();
    assertThat(Arrays.stream(hits).sum()).as("hits").isPositive();
  }

  /**
   * An insert takes effect at its victim's mark: a miss of the victim and then a hit on another
   * key, both while the insert still holds the lock, come after it, so the key hit is more recent
   * than the key inserted. A version that applied buffered hits between removing the victim and
   * linking the new key put the hit first, and the next eviction removed the key just read.
   */
  @Test
  void aHitAfterAnInsertRemovedItsVictim_isMoreRecentThanTheInsertedKey() throws Exception {
    LruCache<Integer, Long> cache = lru(2);
    cache.put(1, encode(1, 1));
    cache.put(2, encode(2, 1)); // 1 is the least recent
    CountDownLatch evicted = new CountDownLatch(1);
    CountDownLatch read = new CountDownLatch(1);
    cache.store.table.afterEviction = signalThenWait(evicted, read);
    Future<?> insert = pool.submit(() -> cache.put(3, encode(3, 1)));
    try {
      assertThat(evicted.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(cache.get(1)).isNull(); // the insert has taken effect
      assertThat(cache.get(2)).isEqualTo(encode(2, 1)); // so this hit follows it
    } finally {
      read.countDown();
    }
    insert.get(30, TimeUnit.SECONDS);
    cache.store.table.afterEviction = null;

    assertThat(cache.keysInRecencyOrder()).containsExactly(3, 2);
    cache.put(4, encode(4, 1));
    assertThat(cache.keysInRecencyOrder()).containsExactly(2, 4);
  }

  /**
   * A hit on the least recent key after an insert picked it as its victim, but before the insert
   * marks it, makes the mark fail: the key is no longer the least recent, and the insert evicts
   * the next one. The hit runs on another thread while the insert holds the lock, which a hit
   * does not need.
   */
  @Test
  void aVictimReadJustBeforeItsMark_isSpared() throws Exception {
    List<String> removals = Collections.synchronizedList(new ArrayList<>());
    LruCache<String, String> cache =
        (LruCache<String, String>)
            LocalCacheProvider.<String, String>createStandalone(
                CacheConfig.builder("spared-victim")
                    .evictionPolicy(EvictionPolicy.LRU)
                    .maximumSize(2)
                    .executor(Runnable::run)
                    .removalListener((String key, String value, RemovalCause cause) -> removals.add(key + ":" + cause))
                    .build());
    cache.put("a", "1");
    cache.put("b", "2"); // "a" is the least recent
    AtomicBoolean hooked = new AtomicBoolean();
    cache.store.table.beforeVictimCheck = () -> {
      if (hooked.compareAndSet(false, true)) {
        try {
          assertThat(pool.submit(() -> cache.get("a")).get(30, TimeUnit.SECONDS)).isEqualTo("1");
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      }
    };
    cache.put("c", "3");
    cache.store.table.beforeVictimCheck = null;

    assertThat(hooked).isTrue();
    assertThat(removals).containsExactly("b:SIZE");
    assertThat(cache.keysInRecencyOrder()).containsExactly("a", "c");
  }

  /**
   * A lock-free overwrite that marks a node just after a write under the lock stamped it, before
   * that write gives back a mark it no longer holds, keeps its mark: the write under the lock
   * leaves the stamp alone. A version that gave back any mark it found restored the node's old
   * stamp under the overwrite's feet: the key looked unused since it was placed, the next insert
   * evicted it instead of the least recent key, and the overwrite then wrote to a removed node
   * ({@code k} absent although {@code put(k, k2)} had returned, {@code j} kept).
   */
  @Test
  void aLockFreeOverwriteRightAfterAWriteUnderTheLock_keepsItsMark() throws Exception {
    LruCache<String, String> cache = twoEntryLru("marks");
    cache.put("k", "k0");
    cache.put("j", "j0"); // "k" is the least recent
    CountDownLatch overwriteMarked = new CountDownLatch(1);
    CountDownLatch overwriteGo = new CountDownLatch(1);
    cache.store.stamps.afterOverwriteMark = () -> {
      overwriteMarked.countDown();
      await(overwriteGo);
    };
    List<Future<?>> overwrite = new ArrayList<>();
    cache.store.beforeEndChange = () -> {
      cache.store.beforeEndChange = null;
      overwrite.add(pool.submit(() -> cache.put("k", "k2"))); // without the lock
      await(overwriteMarked);
    };
    assertThat(cache.putIfAbsent("k", "kX")).isFalse(); // reads "k": now "j" is the least recent
    cache.store.stamps.afterOverwriteMark = null;
    Future<?> insert = pool.submit(() -> cache.put("x", "x0")); // waits for the overwrite's mark
    overwriteGo.countDown();
    overwrite.get(0).get(30, TimeUnit.SECONDS);
    insert.get(30, TimeUnit.SECONDS);

    assertThat(cache.keysInRecencyOrder()).as("j, the least recent, evicted").containsExactly("k", "x");
    assertThat(cache.getQuietly("k")).isEqualTo("k2");
  }

  /**
   * An Error thrown while a lock-free overwrite holds its mark (a stack overflow, here from the
   * hook) gives the mark back: the node stayed marked for good before, every read of its key then
   * waited for ever, and so did every insert once it was the least recent.
   */
  @Test
  void anErrorDuringALockFreeOverwrite_givesItsMarkBack_andChangesNothing() {
    LruCache<String, String> cache = twoEntryLru("overwrite-error");
    cache.put("a", "1");
    cache.store.stamps.afterOverwriteMark = () -> {
      throw new StackOverflowError();
    };
    assertThatThrownBy(() -> cache.put("a", "2")).isInstanceOf(StackOverflowError.class);
    cache.store.stamps.afterOverwriteMark = null;

    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      assertThat(cache.get("a")).isEqualTo("1");
      cache.put("b", "1");
      cache.put("c", "1"); // evicts "a", the least recent
    });
    assertThat(cache.keysInRecencyOrder()).containsExactly("b", "c");
  }

  /** A standalone exact LRU of two entries, lock-free reads and writes, listeners on the caller. */
  private static LruCache<String, String> twoEntryLru(String name) {
    return (LruCache<String, String>) LocalCacheProvider.<String, String>createStandalone(
        CacheConfig.builder(name)
            .keyType(String.class)
            .valueType(String.class)
            .evictionPolicy(EvictionPolicy.LRU)
            .maximumSize(2)
            .executor(Runnable::run)
            .build());
  }

  private static void await(CountDownLatch latch) {
    try {
      assertThat(latch.await(30, TimeUnit.SECONDS)).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * An expired victim is evicted as expired even when a hit just before its mark moves it:
   * the hit read it before its deadline, the insert finds it past the deadline. A version that
   * spared every victim read just before its mark kept the expired key and evicted the live one
   * behind it ({@code "c"} gone, {@code "a"} kept, cause {@code SIZE}).
   */
  @Test
  void anExpiredVictimReadJustBeforeItsMark_isEvictedAsExpired_notSpared() throws Exception {
    FakeTicker ticker = new FakeTicker();
    List<String> removals = Collections.synchronizedList(new ArrayList<>());
    LruCache<String, String> cache =
        (LruCache<String, String>)
            LocalCacheProvider.<String, String>createStandalone(
                CacheConfig.builder("expired-victim")
                    .evictionPolicy(EvictionPolicy.LRU)
                    .maximumSize(2)
                    .expireAfterWrite(Duration.ofNanos(10))
                    .ticker(ticker)
                    .executor(Runnable::run)
                    .removalListener((String key, String value, RemovalCause cause) -> removals.add(key + ":" + cause))
                    .build());
    cache.put("a", "1"); // t=0, expires at 10
    ticker.advanceNanos(5);
    cache.put("c", "3"); // t=5, expires at 15; "a" is the least recent
    ticker.advanceNanos(4); // t=9
    AtomicBoolean hooked = new AtomicBoolean();
    cache.store.table.beforeVictimCheck = () -> {
      if (hooked.compareAndSet(false, true)) {
        try {
          // A hit on the victim after the insert picked it, at t=9: without the lock, still live.
          assertThat(pool.submit(() -> cache.get("a")).get(30, TimeUnit.SECONDS)).isEqualTo("1");
        } catch (Exception e) {
          throw new AssertionError(e);
        }
        ticker.advanceNanos(1); // t=10: the victim's deadline
      }
    };
    cache.put("b", "2");
    cache.store.table.beforeVictimCheck = null;

    assertThat(hooked).isTrue();
    assertThat(removals).containsExactly("a:EXPIRED");
    assertThat(cache.keysInRecencyOrder()).containsExactly("c", "b");
    assertThat(cache.get("c")).isEqualTo("3");
  }

  /**
   * Runs {@link #READERS} readers, each given its index, against one writer called over and over
   * (with its own random source) until every reader is done; fails if any thread fails or takes
   * more than a minute (a node left marked leaves its readers waiting forever).
   */
  private void race(IntConsumer reader, Consumer<SplittableRandom> writeOnce) throws Exception {
    CyclicBarrier start = new CyclicBarrier(READERS + 1);
    AtomicBoolean done = new AtomicBoolean();
    List<Future<?>> readers = new ArrayList<>();
    for (int t = 0; t < READERS; t++) {
      int index = t;
      readers.add(pool.submit(() -> {
        start.await();
        reader.accept(index);
        return null;
      }));
    }
    Future<?> writer = pool.submit(() -> {
      SplittableRandom random = new SplittableRandom(42);
      start.await();
      while (!done.get()) {
        writeOnce.accept(random);
        Thread.onSpinWait();
      }
      return null;
    });
    try {
      for (Future<?> r : readers) {
        r.get(60, TimeUnit.SECONDS);
      }
    } finally {
      done.set(true);
    }
    writer.get(60, TimeUnit.SECONDS);
  }

  /**
   * A hook that counts {@code signal} down and then waits for {@code release}, holding the lock.
   */
  private static Runnable signalThenWait(CountDownLatch signal, CountDownLatch release) {
    return () -> {
      signal.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }

  private static long encode(int key, long version) {
    return key * 1_000_000L + version;
  }

  private static LruCache<Integer, Long> lru(int capacity) {
    return (LruCache<Integer, Long>)
        LocalCacheProvider.<Integer, Long>createStandalone(
            CacheConfig.builder("buffered")
                .keyType(Integer.class)
                .valueType(Long.class)
                .evictionPolicy(EvictionPolicy.LRU)
                .maximumSize(capacity)
                .executor(Runnable::run)
                .build());
  }
}
