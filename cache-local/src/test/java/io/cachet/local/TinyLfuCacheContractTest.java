package io.cachet.local;

import io.cachet.CacheConfig;
import io.cachet.EvictionPolicy;
import io.cachet.testkit.AbstractCacheContractTest;

final class TinyLfuCacheContractTest extends AbstractCacheContractTest {

  @Override
  protected void configure(CacheConfig.Builder builder) {
    builder.backend("local").evictionPolicy(EvictionPolicy.TINY_LFU);
  }
}
