package io.cachet.benchmarks;

import io.cachet.Cache;
import io.cachet.spi.BackendMetric;
import io.cachet.spi.MetricsSource;
import io.cachet.testkit.redis.RedisServer;
import io.cachet.testkit.redis.RespConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;

/**
 * What the Redis benchmarks share: the key and value strings, loading keys into Redis, a Redisson
 * client configured as Cachet's own, and reading Cachet's near-cache counters. Not measured.
 */
final class RedisFixtures {

  /** Length of every value, in characters (and UTF-8 bytes: all ASCII). */
  static final int VALUE_LENGTH = 100;
  /** Keys sent to Redis per {@code MSET} while loading. */
  private static final int MSET_BATCH = 512;

  private RedisFixtures() {}

  /**
   * Returns the key string of every {@link ZipfKeys} key, indexed by the key's integer value.
   *
   * @param zipf the key stream
   * @return {@code "key:<n>"} for every n in {@code [0, items)}
   */
  static String[] keyNames(ZipfKeys zipf) {
    String[] names = new String[zipf.items()];
    for (int n = 0; n < names.length; n++) {
      names[n] = "key:" + n;
    }
    return names;
  }

  /**
   * Maps the Zipf sample stream onto key strings, sharing one {@code String} instance per key (so
   * its hash code is computed once, as for keys an application holds on to).
   */
  static String[] samples(ZipfKeys zipf, String[] names) {
    Integer[] ints = zipf.samples();
    String[] samples = new String[ints.length];
    for (int i = 0; i < ints.length; i++) {
      samples[i] = names[ints[i]];
    }
    return samples;
  }

  /** Returns the {@value #VALUE_LENGTH}-character value stored under {@code key}. */
  static String valueOf(String key) {
    StringBuilder value = new StringBuilder(VALUE_LENGTH).append("value-of-").append(key).append('-');
    while (value.length() < VALUE_LENGTH) {
      value.append((char) ('a' + value.length() % 26));
    }
    value.setLength(VALUE_LENGTH);
    return value.toString();
  }

  /** Stores {@code prefix + key -> valueOf(key)} for every key, as plain Redis strings. */
  static void load(RedisServer server, String prefix, String[] keys) {
    try (RespConnection connection = server.connect()) {
      List<String> args = new ArrayList<>();
      for (int i = 0; i < keys.length; i++) {
        if (args.isEmpty()) {
          args.add("MSET");
        }
        args.add(prefix + keys[i]);
        args.add(valueOf(keys[i]));
        if (args.size() > 2 * MSET_BATCH || i == keys.length - 1) {
          connection.command(args.toArray(String[]::new));
          args.clear();
        }
      }
      Object size = connection.command("DBSIZE");
      if (!(size instanceof Long n) || n < keys.length) {
        throw new IllegalStateException("Redis holds " + size + " keys after loading " + keys.length);
      }
    }
  }

  /**
   * Creates a Redisson client set up as Cachet's Redis backend sets up its own (event-loop
   * threads, pool, timeouts, script cache), so the baselines differ from Cachet only in the code
   * on top of the client.
   */
  static RedissonClient redisson(String uri) {
    Config config = new Config();
    config.setNettyThreads(Math.max(2, Runtime.getRuntime().availableProcessors()));
    config.setUseScriptCache(true);
    config
        .useSingleServer()
        .setAddress(uri)
        .setTimeout(2_000)
        .setConnectTimeout(5_000)
        .setRetryAttempts(1)
        .setRetryDelay(new ConstantDelay(Duration.ofMillis(100)))
        .setConnectionMinimumIdleSize(2)
        .setConnectionPoolSize(32)
        .setSubscriptionConnectionMinimumIdleSize(1)
        .setSubscriptionConnectionPoolSize(1)
        .setPingConnectionInterval(1_000);
    return Redisson.create(config);
  }

  /** Reads one of a Cachet Redis cache's backend metrics, such as {@code cache.near.hits}. */
  static long metric(Cache<?, ?> cache, String name) {
    for (BackendMetric metric : cache.unwrap(MetricsSource.class).backendMetrics()) {
      if (metric.name().equals(name)) {
        return (long) metric.value().getAsDouble();
      }
    }
    throw new IllegalArgumentException("cache '" + cache.name() + "' has no metric " + name);
  }

  /** Waits until a {@code TRACKING} cache receives invalidations, so that its reads are cached. */
  static void awaitTracking(Cache<?, ?> cache, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (metric(cache, "cache.near.tracking") != 1) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("cache '" + cache.name() + "' is not tracking after " + timeout);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  /** Closes {@code resources} newest first and forgets them; failures are added to {@code failure}. */
  static void closeQuietly(List<AutoCloseable> resources, Throwable failure) {
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        failure.addSuppressed(e);
      }
    }
    resources.clear();
  }

  /** Closes {@code resources} newest first and forgets them; throws the first failure, others suppressed. */
  static void closeAll(List<AutoCloseable> resources) throws Exception {
    Exception failure = null;
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    resources.clear();
    if (failure != null) {
      throw failure;
    }
  }
}
