package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.redis.RedisClusterExtension;
import io.cachet.testkit.redis.RedisServer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The backend contract against a real Redis cluster deployment. */
final class RedisClusterContractIT extends AbstractRedisContractIT {

  @RegisterExtension static final RedisClusterExtension REDIS = new RedisClusterExtension();

  @Override
  protected String address() {
    return REDIS.cluster().uri();
  }

  /**
   * More keys than one command's bound can write or walk: {@code putAll} sends its writes in
   * pipelined batches, each bounded from when it is sent, and {@code clear()} walks every primary's keyspace
   * in steps, each bounded like one command. Both succeed against a healthy cluster, on every
   * primary, and keys outside the prefix stay.
   */
  @Test
  void putAllAndClear_ofMoreKeysThanOneCommandsBoundCovers_succeedOnEveryPrimary() {
    RedisOptions options = RedisOptions.builder().address(address()).keyPrefix("walk:")
        .commandTimeout(Duration.ofMillis(50)).build();
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.builder("walk").backend("redis")
          .backendOptions(options).build());
      Map<String, String> entries = new HashMap<>();
      for (int i = 0; i < 30_000; i++) {
        entries.put("k" + i, "v");
      }
      cache.putAll(entries);
      assertThat(REDIS.cluster().primaryFor("walk:k29999").command("GET", "walk:k29999")).isEqualTo("v");
      for (int i = 0; i < 30; i++) {
        REDIS.cluster().primaryFor("other" + i).command("SET", "other" + i, "stays");
      }

      cache.clear();

      for (RedisServer primary : REDIS.cluster().primaries()) {
        List<?> page = (List<?>) primary.command("SCAN", "0", "MATCH", "walk:*", "COUNT", "1000000");
        assertThat((List<?>) page.get(1)).as("keys left on %s", primary).isEmpty();
      }
      for (int i = 0; i < 30; i++) {
        assertThat(REDIS.cluster().primaryFor("other" + i).command("GET", "other" + i)).isEqualTo("stays");
      }
    }
  }
}
