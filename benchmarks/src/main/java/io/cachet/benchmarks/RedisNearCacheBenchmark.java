package io.cachet.benchmarks;

import com.github.benmanes.caffeine.cache.Caffeine;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.EvictionPolicy;
import io.cachet.redis.RedisOptions;
import io.cachet.testkit.redis.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
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
import org.redisson.api.RLocalCachedMap;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.LocalCachedMapOptions;
import org.redisson.client.codec.StringCodec;

/**
 * How close does a Redis-backed Cachet cache come to a local cache when every read is a near-cache
 * hit? Get throughput of one shared cache whose whole key set is in the near cache, against raw
 * Caffeine and against Redisson's own near cache, {@code RLocalCachedMap}.
 *
 * <p>Target (issue): {@code CACHET_REDIS_NEAR / CAFFEINE >= 0.8}.
 *
 * <h2>Implementations ({@code impl})</h2>
 *
 * <ul>
 *   <li>{@code CACHET_REDIS_NEAR}: a Cachet cache with backend {@code redis} and a user's defaults
 *       ({@code TINY_LFU} near cache of {@value #CAPACITY} entries, statistics on, coherence
 *       {@code TRACKING}, {@code nearCacheMaxAge} 10 minutes), every key read once after tracking
 *       is up, so every measured get is a near hit.
 *   <li>{@code CACHET_REDIS_NEAR_LRU}: the same with {@code EvictionPolicy.LRU} (Cachet's exact-LRU
 *       store as the near cache).
 *   <li>{@code CAFFEINE}: raw {@code Caffeine.newBuilder().maximumSize(N).recordStats()}, the
 *       issue's baseline.
 *   <li>{@code CAFFEINE_EXPIRE_AFTER_WRITE}: the same plus {@code expireAfterWrite(10 min)}, which
 *       is how Cachet configures the Caffeine under a {@code TINY_LFU} near cache (its
 *       {@code nearCacheMaxAge}). {@code CACHET_REDIS_NEAR / CAFFEINE_EXPIRE_AFTER_WRITE} is the
 *       cost of Cachet's layers alone; {@code CAFFEINE_EXPIRE_AFTER_WRITE / CAFFEINE} is the cost
 *       of the maximum age (a ticker read per get).
 *   <li>{@code CAFFEINE_EXPIRE_AFTER_WRITE_COARSE}: the same with a ticker that reads a field a
 *       thread refreshes every millisecond, as the stores under a Cachet near cache do; {@code
 *       CACHET_REDIS_NEAR} against it is the cost of Cachet's layers with the same clock.
 *   <li>{@code REDISSON_LOCAL_CACHED_MAP}: Redisson 3.52 {@code RLocalCachedMap} (string codec,
 *       {@code LRU} local cache of {@value #CAPACITY} entries, default {@code INVALIDATE} sync), every
 *       key put and read before measuring, so every get is answered locally.
 * </ul>
 *
 * <h2>Workload</h2>
 *
 * {@value #ITEMS} distinct {@code String} keys ({@code "key:<n>"}) with {@value
 * RedisFixtures#VALUE_LENGTH}-character ASCII {@code String} values, drawn with Zipf exponent
 * {@value #ZIPF_EXPONENT} from a pre-generated stream of {@value #SAMPLES} samples (fixed seed, so
 * every implementation sees the same keys). The key space is half the capacity, so no
 * implementation evicts and every get hits. Each thread walks the shared stream from its own random
 * offset. A {@code redis-server} (from the PATH, else the one embedded-redis bundles) is started
 * per trial for every implementation, so the machine is in the same state for all; Caffeine simply
 * does not use it. After each iteration the Cachet caches' {@code cache.near.misses} counter is
 * checked: a single near miss during measurement fails the run rather than mixing network reads
 * into the hit numbers.
 *
 * <h2>Running</h2>
 *
 * The annotations default to 2 forks, 2 x 2 s warm-up and 3 x 2 s measured iterations (about 2
 * minutes per thread count); the thread count comes from the command line:
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar RedisNearCacheBenchmark \
 *     -f 2 -wi 2 -w 2s -i 3 -r 2s -t 1 -rf csv -rff near-t1.csv
 * java -jar benchmarks/target/benchmarks.jar RedisNearCacheBenchmark \
 *     -f 2 -wi 2 -w 2s -i 3 -r 2s -t 2 -rf csv -rff near-t2.csv
 * java -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.Ratios near-t1.csv near-t2.csv
 * </pre>
 *
 * Keep at least one fork, so that each fork loads a single facade class and the call stays
 * monomorphic. Add {@code -prof gc} for the allocation per get.
 *
 * <h2>Reading the ratio</h2>
 *
 * {@link Ratios} divides each implementation's ops/s by {@code CAFFEINE}'s and by {@code
 * REDISSON_LOCAL_CACHED_MAP}'s for the same thread count in the same file; higher is better. 0.80
 * in the {@code vs CAFFEINE} column for {@code CACHET_REDIS_NEAR} means a near hit costs 25% more
 * time than a Caffeine hit (1 / 0.8); above 1.00 in the {@code vs REDISSON_LOCAL_CACHED_MAP}
 * column means Cachet's near hit is faster than Redisson's. Treat differences within the error
 * column as noise.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(2)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class RedisNearCacheBenchmark {

  /** The bound of every near cache, in entries. */
  static final int CAPACITY = 1 << 14;
  /** Distinct keys: half the capacity, so every key fits and every get hits. */
  static final int ITEMS = CAPACITY / 2;
  /** YCSB's Zipf constant, as in {@link LocalCacheBenchmark}. */
  static final double ZIPF_EXPONENT = 0.99;
  /** Length of the pre-generated key stream; a power of two, indexed with {@link #MASK}. */
  static final int SAMPLES = 1 << 20;

  static final int MASK = SAMPLES - 1;
  /** The Redis key prefix of the Cachet caches. */
  static final String PREFIX = "near:";
  /** The Redis hash behind {@code RLocalCachedMap}. */
  static final String MAP_NAME = "near-map";
  /** The default {@code nearCacheMaxAge}, as the Caffeine under a Cachet near cache expires. */
  static final Duration NEAR_MAX_AGE = RedisOptions.DEFAULT_NEAR_CACHE_MAX_AGE;

  private static final long SEED = 0x5EED_CAC4E7L;
  private static final Duration TRACKING_TIMEOUT = Duration.ofSeconds(30);

  /** The implementation under test. */
  @Param Impl impl;

  private final List<AutoCloseable> resources = new ArrayList<>();
  private Reader cache;
  private String[] keys;

  /** The implementations compared; each builds its cache behind a {@link Reader}. */
  public enum Impl {
    /** Cachet, backend {@code redis}, a user's defaults ({@code TINY_LFU} near cache). */
    CACHET_REDIS_NEAR {
      @Override
      Reader create(Context context) {
        return cachet(context, EvictionPolicy.TINY_LFU);
      }
    },
    /** Cachet, backend {@code redis}, {@code EvictionPolicy.LRU} near cache. */
    CACHET_REDIS_NEAR_LRU {
      @Override
      Reader create(Context context) {
        return cachet(context, EvictionPolicy.LRU);
      }
    },
    /** Raw Caffeine with a maximum size and statistics. */
    CAFFEINE {
      @Override
      Reader create(Context context) {
        return caffeine(Caffeine.newBuilder().maximumSize(CAPACITY).recordStats(), context);
      }
    },
    /** Raw Caffeine configured as the Caffeine under a Cachet {@code TINY_LFU} near cache. */
    CAFFEINE_EXPIRE_AFTER_WRITE {
      @Override
      Reader create(Context context) {
        return caffeine(
            Caffeine.newBuilder().maximumSize(CAPACITY).recordStats().expireAfterWrite(NEAR_MAX_AGE),
            context);
      }
    },
    /**
     * {@code CAFFEINE_EXPIRE_AFTER_WRITE} reading a clock sampled every millisecond by a thread,
     * as a Cachet near cache's stores do, instead of {@code System.nanoTime()}.
     */
    CAFFEINE_EXPIRE_AFTER_WRITE_COARSE {
      @Override
      Reader create(Context context) {
        SampledClock clock = new SampledClock();
        context.resources().add(clock);
        return caffeine(
            Caffeine.newBuilder().maximumSize(CAPACITY).recordStats().expireAfterWrite(NEAR_MAX_AGE).ticker(clock),
            context);
      }
    },
    /** Redisson's {@code RLocalCachedMap}, every key in its local cache. */
    REDISSON_LOCAL_CACHED_MAP {
      @Override
      Reader create(Context context) {
        RedissonClient redisson = RedisFixtures.redisson(context.server().uri());
        context.resources().add(redisson::shutdown);
        RLocalCachedMap<String, String> map =
            redisson.getLocalCachedMap(
                LocalCachedMapOptions.<String, String>name(MAP_NAME)
                    .codec(StringCodec.INSTANCE)
                    .cacheSize(CAPACITY)
                    .evictionPolicy(LocalCachedMapOptions.EvictionPolicy.LRU));
        Map<String, String> all = new HashMap<>();
        for (String key : context.keys()) {
          all.put(key, RedisFixtures.valueOf(key));
        }
        map.putAll(all);
        for (String key : context.keys()) {
          map.get(key); // fills the local cache should putAll not have
        }
        RedissonFacade facade = new RedissonFacade(map);
        facade.checkAllHit(context.keys().length);
        return facade;
      }
    };

    abstract Reader create(Context context);
  }

  /** {@code System.nanoTime()} sampled every millisecond by a daemon thread, for Caffeine. */
  static final class SampledClock implements com.github.benmanes.caffeine.cache.Ticker, AutoCloseable {
    private volatile long now = System.nanoTime();
    private volatile boolean closed;
    private final Thread thread = new Thread(() -> {
      while (!closed) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        now = System.nanoTime();
      }
    }, "sampled-clock");

    SampledClock() {
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public long read() {
      return now;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** What an implementation needs to build its cache; it registers what must be closed. */
  record Context(RedisServer server, CacheManager manager, String[] keys, List<AutoCloseable> resources) {}

  /** A thread's position in the shared key stream; threads never share a counter. */
  @State(Scope.Thread)
  public static class ThreadState {
    int index = ThreadLocalRandom.current().nextInt();
  }

  /** Starts Redis, builds the cache and puts every key in its near (local) cache. */
  @Setup(Level.Trial)
  public void setUp() {
    ZipfKeys zipf = new ZipfKeys(ITEMS, ZIPF_EXPONENT, SAMPLES, SEED);
    String[] names = RedisFixtures.keyNames(zipf);
    keys = RedisFixtures.samples(zipf, names);
    try {
      RedisServer server = RedisServer.create().start();
      resources.add(server);
      CacheManager manager = CacheManager.create();
      resources.add(manager);
      cache = impl.create(new Context(server, manager, names, resources));
      for (String name : names) {
        if (!RedisFixtures.valueOf(name).equals(cache.get(name))) {
          throw new IllegalStateException(impl + " does not hold " + name + " after warming");
        }
      }
      cache.checkAllHit(names.length);
    } catch (RuntimeException | Error e) {
      closeQuietly(e); // no redis-server or client threads outlive a failed setup
      throw e;
    }
  }

  /** Fails the run if anything was read from Redis instead of the near cache. */
  @TearDown(Level.Iteration)
  public void checkHits() {
    cache.checkAllHit(ITEMS);
  }

  private void closeQuietly(Throwable failure) {
    RedisFixtures.closeQuietly(resources, failure);
  }

  /** Closes the clients, then stops Redis. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    RedisFixtures.closeAll(resources);
  }

  /** 100% gets, all hits. */
  @Benchmark
  public @Nullable String get(ThreadState thread) {
    return cache.get(keys[thread.index++ & MASK]);
  }

  static Reader cachet(Context context, EvictionPolicy policy) {
    RedisFixtures.load(context.server(), PREFIX, context.keys());
    Cache<String, String> cache =
        context.manager().create(
            CacheConfig.builder("near-" + policy)
                .backend("redis")
                .maximumSize(CAPACITY)
                .evictionPolicy(policy)
                .backendOptions(
                    RedisOptions.builder().address(context.server().uri()).keyPrefix(PREFIX).build())
                .build());
    RedisFixtures.awaitTracking(cache, TRACKING_TIMEOUT);
    for (String key : context.keys()) {
      cache.get(key);
    }
    return new CachetFacade(cache, RedisFixtures.metric(cache, "cache.near.misses"));
  }

  static Reader caffeine(Caffeine<Object, Object> builder, Context context) {
    com.github.benmanes.caffeine.cache.Cache<String, String> cache = builder.build();
    for (String key : context.keys()) {
      cache.put(key, RedisFixtures.valueOf(key));
    }
    cache.cleanUp();
    return new CaffeineFacade(cache);
  }

  /** The one operation measured, over every implementation. */
  interface Reader {

    @Nullable String get(String key);

    /** Throws if a get since warming was not answered locally; not measured. */
    void checkAllHit(int items);
  }

  /** A Cachet Redis cache, used through the public API only. */
  record CachetFacade(Cache<String, String> cache, long missesAfterWarming) implements Reader {

    @Override
    public @Nullable String get(String key) {
      return cache.get(key);
    }

    @Override
    public void checkAllHit(int items) {
      long misses = RedisFixtures.metric(cache, "cache.near.misses") - missesAfterWarming;
      if (misses != 0) {
        throw new IllegalStateException(
            misses + " near-cache misses since warming (flushes: "
                + RedisFixtures.metric(cache, "cache.near.flushes") + ", invalidations: "
                + RedisFixtures.metric(cache, "cache.near.invalidations")
                + "): the run would measure Redis reads, not near hits");
      }
    }
  }

  /** A raw Caffeine cache. */
  record CaffeineFacade(com.github.benmanes.caffeine.cache.Cache<String, String> cache)
      implements Reader {

    @Override
    public @Nullable String get(String key) {
      return cache.getIfPresent(key);
    }

    @Override
    public void checkAllHit(int items) {
      if (cache.stats().missCount() != 0) {
        throw new IllegalStateException(cache.stats().missCount() + " Caffeine misses");
      }
    }
  }

  /** Redisson's near cache. */
  record RedissonFacade(RLocalCachedMap<String, String> map) implements Reader {

    @Override
    public @Nullable String get(String key) {
      return map.get(key);
    }

    @Override
    public void checkAllHit(int items) {
      // Redisson counts no local hits; a key missing locally would be read from Redis.
      int cached = map.getCachedMap().size();
      if (cached != items) {
        throw new IllegalStateException("RLocalCachedMap holds " + cached + " of " + items + " keys locally");
      }
    }
  }
}
