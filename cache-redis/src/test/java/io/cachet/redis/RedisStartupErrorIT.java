package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.BackendUnavailableException;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.testkit.redis.RedisSentinel;
import io.cachet.testkit.redis.RedisSentinelExtension;
import io.cachet.testkit.redis.RedisServerExtension;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A deployment that is not what the address says fails at start-up, naming it, within the connect timeout. */
@Tag("redis")
final class RedisStartupErrorIT {

  @RegisterExtension static final RedisServerExtension PLAIN = new RedisServerExtension();
  @RegisterExtension static final RedisSentinelExtension SENTINEL = new RedisSentinelExtension();

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** The connect timeout plus one command timeout (the bound), plus slack for a loaded machine. */
  private static final Duration WITHIN = Duration.ofSeconds(2 + 2 + 5);

  private static void create(String address) {
    try (CacheManager manager = CacheManager.create()) {
      manager.create(CacheConfig.builder("c").backend("redis")
          .backendOptions(RedisOptions.builder().address(address).connectTimeout(CONNECT_TIMEOUT).build()).build());
    }
  }

  @Test
  void sentinel_unknownMasterName_namesIt() {
    String address = "redis-sentinel://" + String.join(",", SENTINEL.sentinel().sentinelAddresses()) + "#no-such-master";
    long start = System.nanoTime();
    assertThatThrownBy(() -> create(address))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("know no master named 'no-such-master'")
        .hasMessageContaining(SENTINEL.sentinel().sentinelAddresses().get(0));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(WITHIN);
  }

  @Test
  void cluster_seedThatIsNotAClusterNode_saysSo() {
    String address = "redis-cluster://" + PLAIN.server().address();
    long start = System.nanoTime();
    assertThatThrownBy(() -> create(address))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining(PLAIN.server().address())
        .hasMessageContaining("not a Redis Cluster node");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(WITHIN);
  }

  @Test
  void standalone_nothingListening_failsWithinTheConnectTimeout() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    long start = System.nanoTime();
    assertThatThrownBy(() -> create("redis://127.0.0.1:" + port))
        .isInstanceOf(BackendUnavailableException.class)
        .hasMessageContaining("127.0.0.1:" + port);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(WITHIN);
  }

  @Test
  void unparseableAddress_isAnIllegalArgumentNamingIt() {
    assertThatThrownBy(() -> create("redis-sentinel://" + RedisSentinel.MASTER_NAME))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("was 'redis-sentinel://cachet'");
  }
}
