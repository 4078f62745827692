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

  /**
   * Tells the manager that {@code cache} was closed and has released what it held, so it forgets
   * it. Call it once, at the end of the cache's close ({@link AbstractCache} does): the manager's
   * own close waits for it, up to a minute, before it closes the shared resources.
   */
  void closed(Cache<?, ?> cache);
}
