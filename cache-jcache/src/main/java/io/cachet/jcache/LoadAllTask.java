package io.cachet.jcache;

import java.util.Set;
import javax.cache.CacheException;
import javax.cache.integration.CacheLoaderException;
import javax.cache.integration.CompletionListener;
import org.jspecify.annotations.Nullable;

/**
 * One {@link javax.cache.Cache#loadAll} call, run on the cache's executor: loads the keys, then
 * tells the completion listener how it went. The listener hears of every outcome, whatever the
 * loader throws: a caller waiting on a {@link javax.cache.integration.CompletionListenerFuture}
 * would otherwise wait for ever. Used by one thread.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class LoadAllTask<K, V> implements Runnable {

  private final String cacheName;
  private final Entries<K, V> entries;
  private final Set<K> keys;
  private final boolean replaceExistingValues;
  private final CompletionListener listener;

  /** @param listener told of the outcome; null for none */
  LoadAllTask(
      String cacheName, Entries<K, V> entries, Set<K> keys, boolean replaceExistingValues,
      @Nullable CompletionListener listener) {
    this.cacheName = cacheName;
    this.entries = entries;
    this.keys = keys;
    this.replaceExistingValues = replaceExistingValues;
    this.listener = listener != null ? listener : NoCompletionListener.INSTANCE;
  }

  /** The listener that hears of the outcome. */
  CompletionListener listener() {
    return listener;
  }

  /**
   * Loads, then calls {@code onCompletion}, or {@code onException} with the failure: a loader's
   * as a {@link CacheLoaderException} (an {@link Error} included, wrapped), a synchronous
   * listener's as it is, or wrapped in a {@link CacheException} if it is not an exception. A
   * {@link VirtualMachineError} is reported too, then rethrown.
   */
  @Override
  public void run() {
    Throwable listenerFailure;
    try {
      listenerFailure = entries.loadAll(keys, replaceExistingValues);
    } catch (Throwable t) {
      try {
        listener.onException(
            t instanceof CacheException cacheException
                ? cacheException
                : new CacheLoaderException("loadAll of cache '" + cacheName + "' failed: " + t, t));
      } finally {
        if (t instanceof VirtualMachineError error) {
          throw error;
        }
      }
      return;
    }
    if (listenerFailure == null) {
      listener.onCompletion();
    } else {
      listener.onException(
          listenerFailure instanceof Exception exception
              ? exception
              : new CacheException("a synchronous cache entry listener failed: " + listenerFailure, listenerFailure));
    }
  }

  /** A completion listener that ignores the outcome, for {@code loadAll(keys, b, null)}. */
  private enum NoCompletionListener implements CompletionListener {
    INSTANCE;

    @Override
    public void onCompletion() {}

    @Override
    public void onException(Exception e) {}
  }
}
