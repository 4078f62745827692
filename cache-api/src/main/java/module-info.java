/**
 * Cachet's API: {@link io.cachet.Cache}, {@link io.cachet.CacheConfig},
 * {@link io.cachet.CacheManager}, the backend SPI, codecs and the Micrometer binder.
 *
 * <p>Backends are found through {@link io.cachet.spi.CacheBackendProvider} services.
 * {@code io.cachet.internal} is not API: it is exported only to Cachet's own modules.
 */
module io.cachet {
  requires transitive org.jspecify;
  requires org.slf4j;
  requires static micrometer.core;
  requires static com.fasterxml.jackson.databind;

  exports io.cachet;
  exports io.cachet.spi;
  exports io.cachet.codec;
  exports io.cachet.metrics;
  exports io.cachet.internal to
      io.cachet.local,
      io.cachet.redis,
      io.cachet.replicated,
      io.cachet.jcache,
      io.cachet.testkit;

  uses io.cachet.spi.CacheBackendProvider;
}
