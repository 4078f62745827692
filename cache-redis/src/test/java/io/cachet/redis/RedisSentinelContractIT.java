package io.cachet.redis;

import io.cachet.testkit.redis.RedisSentinelExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The backend contract against a real Redis sentinel deployment. */
final class RedisSentinelContractIT extends AbstractRedisContractIT {

  @RegisterExtension static final RedisSentinelExtension REDIS = new RedisSentinelExtension();

  @Override
  protected String address() {
    return REDIS.sentinel().uri();
  }
}
