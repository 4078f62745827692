package io.cachet.benchmarks;

import com.github.benmanes.caffeine.cache.Caffeine;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.EvictionPolicy;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What does the Cachet API cost on top of Caffeine, and how does Cachet's exact LRU compare? Get
 * and put throughput of one shared local cache under a Zipf-distributed key stream.
 *
 * <h2>Implementations ({@code impl})</h2>
 *
 * <ul>
 *   <li>{@code CACHET_TINY_LFU}: a Cachet {@code local} cache with the defaults a user gets:
 *       {@code TINY_LFU}, statistics on, per-entry TTLs allowed (so Caffeine runs with variable
 *       expiry, {@code expireAfter(...)}), the common-pool executor.
 *   <li>{@code CACHET_TINY_LFU_NO_TTL}: the same with {@code perEntryTtl(false)}, so the Caffeine
 *       cache underneath has only a maximum size and statistics.
 *   <li>{@code CACHET_LRU}: Cachet's exact-LRU store ({@code EvictionPolicy.LRU}), user defaults.
 *   <li>{@code CAFFEINE}: raw {@code Caffeine.newBuilder().maximumSize(N).recordStats()}.
 *   <li>{@code CAFFEINE_VAR_EXPIRY}: the same plus {@code expireAfter(...)} with entries that never
 *       expire unless given a TTL, which is how Cachet configures Caffeine by default.
 *   <li>{@code SYNC_LINKED_HASH_MAP}: the exact LRU a user would otherwise write:
 *       {@code Collections.synchronizedMap(new LinkedHashMap<>(n, 0.75f, true))} with {@code
 *       removeEldestEntry} bounding it to the capacity; no statistics, no expiry.
 *   <li>{@code CONCURRENT_HASH_MAP}: an unbounded map without statistics; the ceiling, not a cache.
 * </ul>
 *
 * <h2>Which pairs are like for like</h2>
 *
 * <ul>
 *   <li><b>API overhead:</b> {@code CACHET_TINY_LFU_NO_TTL / CAFFEINE}. Same Caffeine
 *       configuration (maximum size, statistics, common-pool executor); the difference is Cachet's
 *       layer: argument and closed checks, its statistics counter (which also counts puts), and one
 *       more call.
 *   <li><b>API overhead with the default configuration:</b> {@code CACHET_TINY_LFU /
 *       CAFFEINE_VAR_EXPIRY}: raw Caffeine with the same variable expiry Cachet uses when per-entry
 *       TTLs are allowed.
 *   <li><b>Cost of allowing per-entry TTLs:</b> {@code CACHET_TINY_LFU / CACHET_TINY_LFU_NO_TTL}
 *       (Caffeine's variable expiry reads the ticker and maintains the timer wheel).
 *       {@code CACHET_TINY_LFU / CAFFEINE} is what a user with default settings pays, not a
 *       like-for-like comparison.
 *   <li><b>Exact LRU:</b> {@code CACHET_LRU / CACHET_TINY_LFU}, both Cachet with user defaults
 *       (both allow per-entry TTLs), so only the store differs.
 *   <li><b>Exact LRU against the naive one:</b> {@code CACHET_LRU / SYNC_LINKED_HASH_MAP}: both
 *       evict exactly the least recently used key; Cachet's also keeps statistics and allows
 *       per-entry TTLs, so the pair favours the baseline.
 *   <li>{@code CONCURRENT_HASH_MAP} bounds what any map-based cache can reach; it never evicts (on
 *       {@code write_only} it grows to every key) and keeps no statistics.
 * </ul>
 *
 * <h2>Workload</h2>
 *
 * Capacity {@value #CAPACITY} entries; {@value #ITEMS} distinct {@code Integer} keys drawn with
 * Zipf exponent {@value #ZIPF_EXPONENT} (as Caffeine's {@code GetPutBenchmark}), pre-generated and
 * pre-boxed into an array of {@value #SAMPLES} samples from a fixed seed, so every implementation
 * sees the same stream. Before measuring, the {@value #CAPACITY} hottest keys are put, coldest
 * first, so about 93% of gets hit; a get that misses does not insert. Each thread walks the shared
 * sample array from its own random offset with its own index.
 *
 * <ul>
 *   <li>{@code read_only}: every operation is a get.
 *   <li>{@code readwrite}: every fourth operation of a thread is a put, the rest gets (75/25), so it
 *       works with any thread count.
 *   <li>{@code write_only}: every operation puts {@code (key, key)}; most are updates, the rest
 *       insert a cold key and make the bounded caches evict.
 * </ul>
 *
 * <h2>Running</h2>
 *
 * The annotations default to 2 forks, each with 2 warm-up iterations of 2 s and 3 measured
 * iterations of 2 s (about 5.5 minutes per thread count for every implementation and benchmark);
 * the thread count comes from the command line, one run per count:
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar LocalCacheBenchmark \
 *     -f 2 -wi 2 -w 2s -i 3 -r 2s -t 1 -rf csv -rff local-t1.csv
 * java -jar benchmarks/target/benchmarks.jar LocalCacheBenchmark \
 *     -f 2 -wi 2 -w 2s -i 3 -r 2s -t 2 -rf csv -rff local-t2.csv
 * java -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.Ratios local-t1.csv local-t2.csv
 * </pre>
 *
 * Select one benchmark with a regular expression ({@code 'LocalCacheBenchmark.read_only'}) and
 * some implementations with {@code -p impl=CAFFEINE,CACHET_TINY_LFU_NO_TTL}. Keep at least one
 * fork: each fork then loads a single facade class, so the facade call stays monomorphic.
 *
 * <h2>Reading the ratio</h2>
 *
 * {@link Ratios} divides each implementation's ops/s by {@code CAFFEINE}'s (and by
 * {@code CONCURRENT_HASH_MAP}'s) for the same benchmark and thread count in the same results file.
 * A ratio of 0.90 for {@code CACHET_TINY_LFU_NO_TTL} means the Cachet API costs 10% of raw
 * Caffeine's throughput on that workload; 1.00 means no measurable cost. Compare ratios, not raw
 * ops/s, across machines and runs, and treat a difference smaller than the error column as noise.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(2)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class LocalCacheBenchmark {

  /** The bound of every cache, in entries. */
  static final int CAPACITY = 1 << 14;
  /** Distinct keys: twice the capacity, so the Zipf hot set fits and the tail misses. */
  static final int ITEMS = 2 * CAPACITY;
  /** YCSB's Zipf constant, also used by Caffeine's {@code GetPutBenchmark}. */
  static final double ZIPF_EXPONENT = 0.99;
  /** Length of the pre-generated key stream; a power of two, indexed with {@link #MASK}. */
  static final int SAMPLES = 1 << 20;

  static final int MASK = SAMPLES - 1;
  private static final long SEED = 0x5EED_CAC4E7L;

  /** The implementation under test. */
  @Param Impl impl;

  private @Nullable CacheManager manager;
  private CacheFacade cache;
  private Integer[] keys;

  /** The implementations compared; each builds its cache behind a {@link CacheFacade}. */
  public enum Impl {
    /** Cachet {@code TINY_LFU} with a user's defaults (statistics, per-entry TTLs allowed). */
    CACHET_TINY_LFU {
      @Override
      CacheFacade create(CacheManager manager, int capacity) {
        return cachet(manager, cachetConfig(capacity, EvictionPolicy.TINY_LFU).build());
      }
    },
    /** Cachet {@code TINY_LFU} without per-entry TTLs: like for like with {@link #CAFFEINE}. */
    CACHET_TINY_LFU_NO_TTL {
      @Override
      CacheFacade create(CacheManager manager, int capacity) {
        return cachet(
            manager, cachetConfig(capacity, EvictionPolicy.TINY_LFU).perEntryTtl(false).build());
      }
    },
    /** Cachet's exact LRU with a user's defaults. */
    CACHET_LRU {
      @Override
      CacheFacade create(CacheManager manager, int capacity) {
        return cachet(manager, cachetConfig(capacity, EvictionPolicy.LRU).build());
      }
    },
    /** Raw Caffeine with a maximum size and statistics. */
    CAFFEINE {
      @Override
      CacheFacade create(CacheManager manager, int capacity) {
        return new CaffeineFacade(
            Caffeine.newBuilder().maximumSize(capacity).recordStats().<Integer, Integer>build());
      }
    },
    /**
     * Raw Caffeine configured as Cachet's default {@code TINY_LFU} configures it: maximum size,
     * statistics and variable expiry whose entries never expire unless given a TTL. Like for like
     * with {@link #CACHET_TINY_LFU}.
     */
    CAFFEINE_VAR_EXPIRY {
      @Override
      CacheFacade create(CacheManager manager, int capacity) {
        return new CaffeineFacade(
            Caffeine.newBuilder()
                .maximumSize(capacity)
                .recordStats()
                .expireAfter(new NeverExpiry())
                .<Integer, Integer>build());
      }
    },
    /** The naive exact LRU: a synchronized access-ordered {@link LinkedHashMap}. */
    SYNC_LINKED_HASH_MAP {
      @Override
      CacheFacade create(CacheManager manager, int capacity) {
        return new MapFacade(synchronizedLru(capacity));
      }
    },
    /** An unbounded {@link ConcurrentHashMap}: no eviction, no statistics. */
    CONCURRENT_HASH_MAP {
      @Override
      CacheFacade create(CacheManager manager, int capacity) {
        return new MapFacade(new ConcurrentHashMap<>(capacity));
      }
    };

    abstract CacheFacade create(CacheManager manager, int capacity);
  }

  /** A thread's position in the shared key stream; threads never share a counter. */
  @State(Scope.Thread)
  public static class ThreadState {
    int index = ThreadLocalRandom.current().nextInt();
  }

  /** Builds the cache and fills it with the hottest keys. */
  @Setup(Level.Trial)
  public void setUp() {
    ZipfKeys zipf = new ZipfKeys(ITEMS, ZIPF_EXPONENT, SAMPLES, SEED);
    keys = zipf.samples();
    CacheManager m = CacheManager.create();
    manager = m;
    cache = impl.create(m, CAPACITY);
    // Coldest first, so an LRU's order matches the keys' popularity when measuring starts.
    for (int rank = CAPACITY - 1; rank >= 0; rank--) {
      Integer key = zipf.keyOfRank(rank);
      cache.put(key, key);
    }
    cache.cleanUp();
    if (cache.get(zipf.keyOfRank(0)) == null) {
      throw new IllegalStateException(impl + " lost the hottest key while being filled");
    }
  }

  /** Runs pending maintenance so one iteration's backlog does not spill into the next. */
  @TearDown(Level.Iteration)
  public void cleanUp() {
    cache.cleanUp();
  }

  /** Closes the manager and with it the Cachet caches. */
  @TearDown(Level.Trial)
  public void tearDown() {
    CacheManager m = manager;
    if (m != null) {
      m.close();
    }
  }

  /** 100% gets. */
  @Benchmark
  public @Nullable Integer read_only(ThreadState thread) {
    return cache.get(keys[thread.index++ & MASK]);
  }

  /** 75% gets, 25% puts: every fourth operation of each thread writes. */
  @Benchmark
  public @Nullable Integer readwrite(ThreadState thread) {
    int i = thread.index++;
    Integer key = keys[i & MASK];
    if ((i & 3) == 0) {
      cache.put(key, key);
      return key;
    }
    return cache.get(key);
  }

  /** 100% puts. */
  @Benchmark
  public void write_only(ThreadState thread) {
    Integer key = keys[thread.index++ & MASK];
    cache.put(key, key);
  }

  static CacheConfig.Builder<Integer, Integer> cachetConfig(int capacity, EvictionPolicy policy) {
    return CacheConfig.builder("bench")
        .keyType(Integer.class)
        .valueType(Integer.class)
        .maximumSize(capacity)
        .evictionPolicy(policy);
  }

  static CacheFacade cachet(CacheManager manager, CacheConfig<Integer, Integer> config) {
    Cache<Integer, Integer> cache = manager.create(config);
    if (config.evictionPolicy() == EvictionPolicy.TINY_LFU) {
      // Only to drain maintenance between iterations, as the CAFFEINE baseline does.
      com.github.benmanes.caffeine.cache.Cache<?, ?> caffeine =
          cache.unwrap(com.github.benmanes.caffeine.cache.Cache.class);
      return new CachetFacade(cache, caffeine::cleanUp);
    }
    return new CachetFacade(cache, () -> {});
  }

  /** The two operations measured, over every implementation. */
  interface CacheFacade {

    @Nullable Integer get(Integer key);

    void put(Integer key, Integer value);

    /** Runs pending maintenance, where the implementation has any; not measured. */
    void cleanUp();
  }

  /** A Cachet cache, used through the public API only. */
  record CachetFacade(Cache<Integer, Integer> cache, Runnable maintenance) implements CacheFacade {

    @Override
    public @Nullable Integer get(Integer key) {
      return cache.get(key);
    }

    @Override
    public void put(Integer key, Integer value) {
      cache.put(key, value);
    }

    @Override
    public void cleanUp() {
      maintenance.run();
    }
  }

  /** A raw Caffeine cache. */
  record CaffeineFacade(com.github.benmanes.caffeine.cache.Cache<Integer, Integer> cache)
      implements CacheFacade {

    @Override
    public @Nullable Integer get(Integer key) {
      return cache.getIfPresent(key);
    }

    @Override
    public void put(Integer key, Integer value) {
      cache.put(key, value);
    }

    @Override
    public void cleanUp() {
      cache.cleanUp();
    }
  }

  /** A map used as a cache: a plain concurrent map, or the synchronized LRU map. */
  record MapFacade(Map<Integer, Integer> map) implements CacheFacade {

    @Override
    public @Nullable Integer get(Integer key) {
      return map.get(key);
    }

    @Override
    public void put(Integer key, Integer value) {
      map.put(key, value);
    }

    @Override
    public void cleanUp() {}
  }

  /**
   * Returns {@code Collections.synchronizedMap(new LinkedHashMap<>(n, 0.75f, true))} evicting its
   * eldest entry beyond {@code capacity}: the exact LRU in a few lines.
   */
  static <K, V> Map<K, V> synchronizedLru(int capacity) {
    return Collections.synchronizedMap(
        new LinkedHashMap<K, V>(capacity, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > capacity;
          }
        });
  }

  /** Variable expiry in which nothing expires: the cost of the mechanism alone. */
  static final class NeverExpiry implements com.github.benmanes.caffeine.cache.Expiry<Object, Object> {
    @Override
    public long expireAfterCreate(Object key, Object value, long currentTime) {
      return Long.MAX_VALUE;
    }

    @Override
    public long expireAfterUpdate(Object key, Object value, long currentTime, long currentDuration) {
      return Long.MAX_VALUE;
    }

    @Override
    public long expireAfterRead(Object key, Object value, long currentTime, long currentDuration) {
      return currentDuration;
    }
  }
}
