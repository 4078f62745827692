package io.cachet.redis;

import io.cachet.testkit.redis.RedisClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The backend contract against a real Redis cluster deployment. */
final class RedisClusterContractIT extends AbstractRedisContractIT {

  @RegisterExtension static final RedisClusterExtension REDIS = new RedisClusterExtension();

  @Override
  protected String address() {
    return REDIS.cluster().uri();
  }
}
