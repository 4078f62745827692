/** Cachet's {@code redis} backend: read-through Redis with a coherent near cache. */
module io.cachet.redis {
  requires transitive io.cachet;
  requires io.cachet.local;
  requires redisson;
  requires org.slf4j;

  exports io.cachet.redis;

  provides io.cachet.spi.CacheBackendProvider with
      io.cachet.redis.RedisCacheProvider;
}
