package io.cachet.spi;

import io.cachet.Cache;
import java.util.function.Supplier;

/** What a {@link io.cachet.CacheManager} offers the backend creating one of its caches. Thread-safe. */
public interface BackendContext {

  /**
   * Returns the resource registered under {@code key}, creating it with {@code factory} on first
   * use. The manager closes every such resource when it closes, after its caches.
   */
  <R extends AutoCloseable> R sharedResource(Object key, Class<R> type, Supplier<R> factory);

  /** Tells the manager that {@code cache} was closed, so it forgets it. */
  void closed(Cache<?, ?> cache);
}
