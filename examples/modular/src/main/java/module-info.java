/** An application that uses Cachet from the module path. */
module io.cachet.examples.modular {
  requires io.cachet.local;
  requires io.cachet.jcache;
  requires io.cachet.redis;
  requires io.cachet.replicated;

  uses io.cachet.spi.CacheBackendProvider;
}
