package io.cachet.examples.modular;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.EvictionPolicy;
import io.cachet.redis.RedisOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.cache.Caching;
import javax.cache.spi.CachingProvider;

/**
 * Uses Cachet as a modular application does and prints what it found: the module it runs in, the
 * backends the manager found through the services the modules provide, whether Cachet's internal
 * package is hidden from it, the JCache provider, and a cache round trip; given a Redis address as
 * its argument, a round trip through the redis backend too.
 */
public final class ModularApp {

  private ModularApp() {}

  /** Prints one {@code name=value} line per finding. */
  public static void main(String[] args) {
    List<String> lines = new ArrayList<>();
    lines.add("module=" + ModularApp.class.getModule().getName());
    lines.add("apiModule=" + Cache.class.getModule().getName());
    Module api = Cache.class.getModule();
    lines.add("internalExportedToApp=" + api.isExported("io.cachet.internal", ModularApp.class.getModule()));
    lines.add("spiExported=" + api.isExported("io.cachet.spi"));
    Set<String> backends = new TreeSet<>();
    for (io.cachet.spi.CacheBackendProvider provider :
        java.util.ServiceLoader.load(io.cachet.spi.CacheBackendProvider.class)) {
      backends.add(provider.name());
    }
    lines.add("backends=" + backends);
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache =
          manager.create(CacheConfig.builder("modular").evictionPolicy(EvictionPolicy.LRU).build());
      cache.put("k", "v");
      lines.add("roundTrip=" + cache.get("k"));
    }
    // cache-redis is on this module path too: it carries Redisson, relocated and without
    // Redisson's JCache provider, so the one provider found is Cachet's.
    Module jcacheModule = io.cachet.jcache.spi.CachetCachingProvider.class.getModule();
    lines.add("jcacheProvides=" + jcacheModule.getDescriptor().provides());
    CachingProvider provider = Caching.getCachingProvider();
    lines.add("jcacheProvider=" + provider.getClass().getName());
    lines.add("jcacheModule=" + provider.getClass().getModule().getName());
    try (javax.cache.CacheManager jcache = provider.getCacheManager()) {
      javax.cache.Cache<String, String> cache =
          jcache.createCache("modular", new javax.cache.configuration.MutableConfiguration<String, String>());
      cache.put("k", "v");
      lines.add("jcacheRoundTrip=" + cache.get("k"));
    }
    lines.add("redissonModule=" + relocatedRedissonModule());
    if (args.length > 0) {
      lines.add("redisRoundTrip=" + redisRoundTrip(args[0]));
    }
    lines.forEach(System.out::println);
  }

  /** A put and a get through the redis backend (Redisson inside cache-redis's module). */
  private static String redisRoundTrip(String address) {
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = manager.create(CacheConfig.builder("modular-redis")
          .backend("redis")
          .backendOptions(RedisOptions.builder().address(address).keyPrefix("modular:").build())
          .build());
      cache.put("k", "v");
      return cache.get("k");
    }
  }

  /** The module holding the Redisson classes cache-redis uses (relocated, not exported). */
  private static String relocatedRedissonModule() {
    try {
      return Class.forName("io.cachet.redis.internal.redisson.Redisson").getModule().getName();
    } catch (ClassNotFoundException e) {
      return "none";
    }
  }
}
