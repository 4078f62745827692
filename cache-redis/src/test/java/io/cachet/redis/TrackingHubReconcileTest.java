package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The hub's periodic reading of the topology, without a Redis: the view is the test's. */
final class TrackingHubReconcileTest {

  /** A listener that ignores what it is told; for tests where nothing is told that matters. */
  static final TrackingHub.Listener IGNORING = new TrackingHub.Listener() {
    @Override
    public void up() {}

    @Override
    public void down(Throwable cause) {}

    @Override
    public void invalidate(byte[] redisKey) {}

    @Override
    public void invalidateAll() {}

    @Override
    public void unsupported(String reason) {}
  };

  /**
   * An {@link Error} from reading the topology (Redisson's {@code getRedisNodes} failing to link,
   * running out of memory) must not end the periodic reconcile: a failover without a connection
   * event would then never be followed.
   */
  @Test
  void errorInOneReconcile_doesNotStopTheNextOnes() {
    AtomicInteger calls = new AtomicInteger();
    RedisOptions options = RedisOptions.builder().address("redis://127.0.0.1:1").build();
    try (TrackingHub hub = new TrackingHub("reconcile", options, null, Duration.ofSeconds(1), Duration.ofMillis(20))) {
      hub.register(IGNORING, new byte[0]);
      hub.follow(() -> {
        if (calls.incrementAndGet() == 3) {
          throw new NoClassDefFoundError("as Redisson's getRedisNodes could");
        }
        return Set.of("127.0.0.1:1");
      });
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(calls.get()).isGreaterThan(6));
    }
  }
}
