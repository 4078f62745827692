package io.cachet.redis;

import io.cachet.CacheConfig;
import io.cachet.testkit.AbstractCacheContractTest;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Tag;

/**
 * The backend contract against real Redis, on each topology (subclasses say where Redis is).
 *
 * <p>Expiry here is decided by the Redis server's clock, which a test cannot move: {@link #elapse}
 * lets real time pass (expiry tests use 500 ms units, so a
 * scheduling stall on a loaded machine does not outlast a unit) and advances the fake ticker by the same
 * amount, so near-cache deadlines and Redis TTLs agree.
 */
@Tag("redis")
abstract class AbstractRedisContractIT extends AbstractCacheContractTest {

  /** The address of the Redis under test, as {@link RedisOptions.Builder#address} takes it. */
  protected abstract String address();

  @Override
  protected void configure(CacheConfig.Builder builder) {
    builder
        .backend("redis")
        .backendOptions(
            RedisOptions.builder()
                .address(address())
                .keyPrefix("contract-" + UUID.randomUUID() + ":")
                .build());
  }

  @Override
  protected Duration ttlUnit() {
    return Duration.ofMillis(500);
  }

  /**
   * Real time passes a few milliseconds more than {@code duration}: Redis compares expiry times in
   * whole milliseconds against a clock it reads once per command, so a key set with {@code PX 500}
   * can still be there exactly 500 ms later.
   */
  @Override
  protected void elapse(Duration duration) {
    long until = System.nanoTime() + duration.plusMillis(5).toNanos();
    org.awaitility.Awaitility.await().pollInterval(Duration.ofMillis(10)).atMost(duration.plusSeconds(10)).until(() -> System.nanoTime() - until >= 0);
    ticker.advance(duration);
  }
}
