package io.cachet.local;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.spi.BackendContext;
import io.cachet.spi.CacheBackendProvider;

/** The provider of the {@code local} backend, registered for {@link java.util.ServiceLoader}. */
public final class LocalCacheProvider implements CacheBackendProvider {

  /** The backend name: {@value}. */
  public static final String NAME = "local";

  /** Creates the provider; called by {@link java.util.ServiceLoader}. */
  public LocalCacheProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  /**
   * Accepts every option: both {@code TINY_LFU} and {@code LRU} offer {@code expireAfterAccess}
   * (an entry expires once it has not been read or written for that long; with {@code
   * expireAfterWrite} too, at whichever deadline comes first) and {@code refreshAfterWrite}.
   */
  @Override
  public void checkSupported(CacheConfig<?, ?> config) {}

  @Override
  public <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context) {
    return switch (config.evictionPolicy()) {
      case LRU -> new LruCache<>(config, context::closed, true);
      case TINY_LFU -> new TinyLfuCache<>(config, context::closed, true);
    };
  }

  /**
   * Creates a local cache outside any manager, for backends that keep a local store in front of a
   * remote one (a near cache). The caller owns it and must close it.
   */
  public static <K, V> Cache<K, V> createStandalone(CacheConfig<K, V> config) {
    return switch (config.evictionPolicy()) {
      case LRU -> new LruCache<>(config, cache -> {}, true);
      case TINY_LFU -> new TinyLfuCache<>(config, cache -> {}, true);
    };
  }

  /**
   * Creates a local cache outside any manager, as {@link #createStandalone}, for a near cache whose
   * owner counts the reads it serves itself (a value found in the store may be stale, so the
   * store's hits are not the owner's): its {@link Cache#stats()} count puts and evictions, never
   * hits or misses, so a read pays for no counter here.
   */
  public static <K, V> Cache<K, V> createNearStore(CacheConfig<K, V> config) {
    return switch (config.evictionPolicy()) {
      case LRU -> new LruCache<>(config, cache -> {}, false);
      case TINY_LFU -> new TinyLfuCache<>(config, cache -> {}, false);
    };
  }
}
