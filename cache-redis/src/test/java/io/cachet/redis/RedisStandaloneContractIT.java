package io.cachet.redis;

import io.cachet.testkit.redis.RedisServerExtension;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The backend contract against a real Redis standalone deployment. */
final class RedisStandaloneContractIT extends AbstractRedisContractIT {

  @RegisterExtension static final RedisServerExtension REDIS = new RedisServerExtension();

  @Override
  protected String address() {
    return REDIS.server().uri();
  }
}
