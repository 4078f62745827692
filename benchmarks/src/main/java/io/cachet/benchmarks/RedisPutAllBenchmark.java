package io.cachet.benchmarks;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.redis.RedisOptions;
import io.cachet.testkit.redis.RedisServer;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * How fast does {@code Cache.putAll} write a large map to Redis? Cachet's {@code redis} backend
 * with its default options against a plain Redisson client doing the same by hand, one pipelined
 * {@link RBatch} of every {@code SET}, on the same local Redis in the same run.
 *
 * <h2>Workload</h2>
 *
 * {@code keys} entries of {@value RedisFixtures#VALUE_LENGTH}-character values, written whole by
 * each side in turn (Cachet under the prefix {@code c:}, the baseline under {@code b:}, so both
 * overwrite their own keys from the second round on). Two unmeasured rounds of each, then
 * {@code rounds} rounds alternating which goes first; the ratio is taken within each round.
 *
 * <h2>Running</h2>
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.cachet.benchmarks.RedisPutAllBenchmark keys=100000 rounds=5
 * </pre>
 */
public final class RedisPutAllBenchmark {

  private static final String USAGE = "RedisPutAllBenchmark [keys=100000] [rounds=5]";

  private RedisPutAllBenchmark() {}

  /**
   * Runs the benchmark and prints one line per round and the median ratio.
   *
   * @param args {@code name=value} pairs; see the class Javadoc
   */
  public static void main(String[] args) {
    Map<String, String> a = ReplicationFixtures.arguments(args, Map.of("keys", "100000", "rounds", "5"), USAGE);
    int keys = Integer.parseInt(a.get("keys"));
    int rounds = Integer.parseInt(a.get("rounds"));
    String loadBefore = ReplicationFixtures.load1();
    Map<String, String> entries = new LinkedHashMap<>();
    for (int i = 0; i < keys; i++) {
      String key = "key:" + i;
      entries.put(key, RedisFixtures.valueOf(key));
    }
    double[] ratios = new double[rounds];
    try (RedisServer server = RedisServer.create().start();
        CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.builder("putall").backend("redis")
          .backendOptions(RedisOptions.builder().address(server.uri()).keyPrefix("c:").build()).build());
      RedissonClient redisson = RedisFixtures.redisson(server.uri());
      try {
        for (int round = -2; round < rounds; round++) {
          boolean cachetFirst = round % 2 == 0;
          long cachet = 0;
          long plain = 0;
          for (int side = 0; side < 2; side++) {
            if ((side == 0) == cachetFirst) {
              long start = System.nanoTime();
              cache.putAll(entries);
              cachet = System.nanoTime() - start;
            } else {
              long start = System.nanoTime();
              RBatch batch = redisson.createBatch(BatchOptions.defaults());
              entries.forEach((k, v) -> batch.getBucket("b:" + k, StringCodec.INSTANCE).setAsync(v));
              batch.execute();
              plain = System.nanoTime() - start;
            }
          }
          if (round >= 0) {
            ratios[round] = (double) plain / cachet;
            System.out.printf(Locale.ROOT, "round %d (%s first): Cachet putAll %,.0f puts/s, Redisson RBatch %,.0f puts/s,"
                    + " Cachet / RBatch %.2f%n", round, cachetFirst ? "Cachet" : "RBatch", keys * 1e9 / cachet,
                keys * 1e9 / plain, ratios[round]);
          }
        }
      } finally {
        redisson.shutdown();
      }
    }
    System.out.printf(Locale.ROOT, "median Cachet / RBatch %.2f over %d rounds of %,d entries; load %s before, %s after%n",
        ReplicationFixtures.median(ratios), rounds, keys, loadBefore, ReplicationFixtures.load1());
  }
}
