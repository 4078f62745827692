package io.cachet.redis;

import io.cachet.CacheConfig;
import io.cachet.testkit.AbstractCacheContractTest;
import io.cachet.testkit.redis.RedisServerExtension;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The backend contract against a real Redis server.
 *
 * <p>Expiry here is decided by the Redis server's clock, which a test cannot move: {@link #elapse}
 * lets real time pass (expiry tests use 500 ms units, so a
 * scheduling stall on a loaded machine does not outlast a unit) and advances the fake ticker by the same
 * amount, so near-cache deadlines and Redis TTLs agree.
 */
@Tag("redis")
final class RedisCacheContractIT extends AbstractCacheContractTest {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  @Override
  protected void configure(CacheConfig.Builder builder) {
    builder
        .backend("redis")
        .backendOptions(
            RedisOptions.builder()
                .address(REDIS.server().uri())
                .keyPrefix("contract-" + UUID.randomUUID() + ":")
                .build());
  }

  @Override
  protected Duration ttlUnit() {
    return Duration.ofMillis(500);
  }

  @Override
  protected void elapse(Duration duration) {
    long until = System.nanoTime() + duration.toNanos();
    org.awaitility.Awaitility.await().pollInterval(Duration.ofMillis(10)).atMost(duration.plusSeconds(10)).until(() -> System.nanoTime() - until >= 0);
    ticker.advance(duration);
  }
}
