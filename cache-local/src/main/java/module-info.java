/** Cachet's {@code local} backend: Caffeine's W-TinyLFU and an exact LRU. */
module io.cachet.local {
  requires transitive io.cachet;
  requires com.github.benmanes.caffeine;
  requires org.slf4j;

  exports io.cachet.local;

  provides io.cachet.spi.CacheBackendProvider with
      io.cachet.local.LocalCacheProvider;
}
