/** A JCache (JSR-107) provider over Cachet caches on any backend. */
module io.cachet.jcache {
  requires transitive io.cachet;
  requires transitive cache.api;
  requires java.management;
  requires org.slf4j;

  exports io.cachet.jcache;
  exports io.cachet.jcache.spi;

  uses io.cachet.spi.CacheBackendProvider;

  provides javax.cache.spi.CachingProvider with
      io.cachet.jcache.spi.CachetCachingProvider;
}
