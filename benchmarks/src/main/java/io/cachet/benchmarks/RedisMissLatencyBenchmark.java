package io.cachet.benchmarks;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.redis.Coherence;
import io.cachet.redis.RedisOptions;
import io.cachet.testkit.redis.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * What does a near-cache miss cost over reading Redis directly? Latency of one get that misses the
 * near cache and goes to Redis, against a plain Redisson {@code RBucket.get} of the same key from
 * the same server in the same run.
 *
 * <p>Target (issue): {@code CACHET_REDIS_MISS / REDISSON_BUCKET_GET <= 1.1} (mean time per get).
 *
 * <h2>Implementations ({@code impl})</h2>
 *
 * <ul>
 *   <li>{@code CACHET_REDIS_MISS}: a Cachet cache with backend {@code redis}, coherence {@code
 *       EXPIRY} and {@code nearCacheMaxAge} of 1 ns. Every get is then a genuine near miss: the
 *       near cache is consulted and its copy (if any) has expired, so Cachet registers a
 *       single-flight load, sends {@code GET} and {@code PTTL} together (one round trip of
 *       waiting), decodes the value and stores it in the near cache, where it expires at once. That is the whole miss path of a default {@code TRACKING} cache as well; tracking
 *       adds nothing per read (broadcast mode keeps no per-key state in Redis), and a tiny
 *       maximum age is the only configuration that makes every read a miss for certain
 *       ({@code maximumSize(0)} evicts asynchronously, so a read could still hit). The
 *       {@code cache.near.hits} counter is checked after every iteration; a single near hit fails
 *       the run.
 *   <li>{@code REDISSON_BUCKET_GET}: {@code redisson.getBucket(key, StringCodec.INSTANCE).get()}:
 *       one {@code GET}, the baseline.
 *   <li>{@code REDISSON_SCRIPT_GET_PTTL}: the same client sending a {@code GET}+{@code PTTL} Lua
 *       script (Cachet's read before it sent the two commands together) by {@code EVALSHA}, with no
 *       Cachet code around it. It splits the gap:
 *       {@code REDISSON_SCRIPT_GET_PTTL / REDISSON_BUCKET_GET} is the cost of the script (Lua
 *       call and a second reply element) on the server and the wire, {@code CACHET_REDIS_MISS /
 *       REDISSON_SCRIPT_GET_PTTL} the cost of Cachet's own code (futures, load registry, codec,
 *       near-cache put, statistics).
 * </ul>
 *
 * All three use a Redisson 3.52 client configured alike (see {@link RedisFixtures#redisson}), one
 * per trial, against a {@code redis-server} on 127.0.0.1 started per trial (from the PATH, else
 * the one embedded-redis bundles).
 *
 * <h2>Workload</h2>
 *
 * {@value #ITEMS} {@code String} keys, all stored in Redis before measuring as plain strings with
 * {@value RedisFixtures#VALUE_LENGTH}-byte ASCII values, read round-robin in a fixed random order
 * (the scrambled ranks of {@link ZipfKeys}), so consecutive gets never ask for the same key. Not a
 * Zipf stream: there a key often repeats back to back, and Cachet's single-flight then lets the
 * repeated get join the previous get's load, which has answered but is still registered until the
 * event-loop thread removes it, and returns without a round trip (a sub-microsecond "miss" that
 * the near-hit counter does not see). One thread: this measures latency, not the server's
 * throughput.
 *
 * <h2>Running</h2>
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar RedisMissLatencyBenchmark \
 *     -f 2 -wi 2 -w 2s -i 3 -r 2s -t 1 -rf csv -rff miss-t1.csv
 * java -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.Ratios miss-t1.csv
 * </pre>
 *
 * The mode is {@code SampleTime} in microseconds: the score is the mean, and JMH also prints the
 * percentiles (p50, p90, p99, ...); they are in the CSV as secondary rows, which {@link Ratios}
 * skips.
 *
 * <h2>Reading the ratio</h2>
 *
 * {@link Ratios} divides each implementation's mean time per get by {@code REDISSON_BUCKET_GET}'s
 * from the same file; <b>lower is better</b>. 1.10 for {@code CACHET_REDIS_MISS} means a Cachet
 * near miss takes 10% longer than a plain {@code GET}. Loopback round trips are much shorter than
 * real network ones, so this ratio is an upper bound on what the same code costs over a network:
 * the fixed overhead is divided by a larger round trip there.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(2)
@Threads(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class RedisMissLatencyBenchmark {

  /** Distinct keys, all present in Redis; a power of two, indexed with {@link #MASK}. */
  static final int ITEMS = 1 << 14;

  static final int MASK = ITEMS - 1;
  /** The Redis key prefix; Cachet adds it, the baselines read the prefixed names. */
  static final String PREFIX = "miss:";
  /** The script Cachet's Redis backend runs on a near miss (copied from {@code RedisCache}). */
  static final String GET_WITH_TTL = "return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}";

  private static final long SEED = 0x5EED_CAC4E7L;

  /** The implementation under test. */
  @Param Impl impl;

  private final List<AutoCloseable> resources = new ArrayList<>();
  private Reader cache;
  private String[] keys;

  /** The implementations compared; each reads Redis behind a {@link Reader}. */
  public enum Impl {
    /** A Cachet Redis cache whose every get misses the near cache. */
    CACHET_REDIS_MISS {
      @Override
      Reader create(RedisServer server, CacheManager manager, List<AutoCloseable> resources) {
        Cache<String, String> cache =
            manager.create(
                CacheConfig.builder("miss")
                    .backend("redis")
                    .backendOptions(
                        RedisOptions.builder()
                            .address(server.uri())
                            .keyPrefix(PREFIX)
                            .coherence(Coherence.EXPIRY)
                            .nearCacheMaxAge(Duration.ofNanos(1))
                            .build())
                    .build());
        return new CachetFacade(cache, RedisFixtures.metric(cache, "cache.near.hits"));
      }
    },
    /** A plain {@code RBucket.get}: one {@code GET}. */
    REDISSON_BUCKET_GET {
      @Override
      Reader create(RedisServer server, CacheManager manager, List<AutoCloseable> resources) {
        RedissonClient redisson = RedisFixtures.redisson(server.uri());
        resources.add(redisson::shutdown);
        return new BucketFacade(redisson);
      }
    },
    /** Cachet's read script through Redisson's {@code RScript.evalSha}, without Cachet. */
    REDISSON_SCRIPT_GET_PTTL {
      @Override
      Reader create(RedisServer server, CacheManager manager, List<AutoCloseable> resources) {
        RedissonClient redisson = RedisFixtures.redisson(server.uri());
        resources.add(redisson::shutdown);
        RScript script = redisson.getScript(StringCodec.INSTANCE);
        return new ScriptFacade(script, script.scriptLoad(GET_WITH_TTL));
      }
    };

    abstract Reader create(RedisServer server, CacheManager manager, List<AutoCloseable> resources);
  }

  /** A thread's position in the key order. */
  @State(Scope.Thread)
  public static class ThreadState {
    int index = ThreadLocalRandom.current().nextInt();
  }

  /** Starts Redis, stores every key, builds the reader and checks it reads every key. */
  @Setup(Level.Trial)
  public void setUp() {
    ZipfKeys zipf = new ZipfKeys(ITEMS, RedisNearCacheBenchmark.ZIPF_EXPONENT, 1, SEED);
    String[] names = RedisFixtures.keyNames(zipf);
    keys = new String[ITEMS];
    for (int rank = 0; rank < ITEMS; rank++) {
      keys[rank] = names[zipf.keyOfRank(rank)];
    }
    try {
      RedisServer server = RedisServer.create().start();
      resources.add(server);
      RedisFixtures.load(server, PREFIX, names);
      CacheManager manager = CacheManager.create();
      resources.add(manager);
      cache = impl.create(server, manager, resources);
      for (String name : names) {
        if (!RedisFixtures.valueOf(name).equals(cache.get(name))) {
          throw new IllegalStateException(impl + " does not read " + name + " from Redis");
        }
      }
      cache.checkAllMissed();
    } catch (RuntimeException | Error e) {
      closeQuietly(e); // no redis-server or client threads outlive a failed setup
      throw e;
    }
  }

  /** Fails the run if a Cachet get was answered by the near cache. */
  @TearDown(Level.Iteration)
  public void checkMisses() {
    cache.checkAllMissed();
  }

  private void closeQuietly(Throwable failure) {
    RedisFixtures.closeQuietly(resources, failure);
  }

  /** Closes the clients, then stops Redis. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    RedisFixtures.closeAll(resources);
  }

  /** One get of a key present in Redis, never answered locally. */
  @Benchmark
  public @Nullable String get(ThreadState thread) {
    return cache.get(keys[thread.index++ & MASK]);
  }

  /** The one operation measured, over every implementation. */
  interface Reader {

    @Nullable String get(String key);

    /** Throws if a get was answered without Redis; not measured. */
    default void checkAllMissed() {}
  }

  /** A Cachet Redis cache, used through the public API only. */
  record CachetFacade(Cache<String, String> cache, long nearHitsAtStart) implements Reader {

    @Override
    public @Nullable String get(String key) {
      return cache.get(key);
    }

    @Override
    public void checkAllMissed() {
      long hits = RedisFixtures.metric(cache, "cache.near.hits") - nearHitsAtStart;
      if (hits != 0) {
        throw new IllegalStateException(hits + " near-cache hits: the run would not measure misses only");
      }
    }
  }

  /** A plain Redisson bucket read, as an application would write it. */
  record BucketFacade(RedissonClient redisson) implements Reader {

    @Override
    public @Nullable String get(String key) {
      return redisson.<String>getBucket(PREFIX + key, StringCodec.INSTANCE).get();
    }
  }

  /** Cachet's read script sent through Redisson. */
  record ScriptFacade(RScript script, String sha) implements Reader {

    @Override
    public @Nullable String get(String key) {
      String redisKey = PREFIX + key;
      List<Object> reply =
          script.evalSha(redisKey, RScript.Mode.READ_ONLY, sha, RScript.ReturnType.MULTI, List.of(redisKey));
      return reply.isEmpty() ? null : (String) reply.get(0);
    }
  }
}
