package io.cachet.local;

import io.cachet.RemovalCause;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The removals of one operation of an {@link LruCache}: collected under its lock, then counted
 * and reported to the removal listener after the lock is released, on the caller's side.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class Removals<K, V> {

  private final AbstractLocalCache<K, V> cache;
  private @Nullable List<Object[]> items;
  private int evictions;

  Removals(AbstractLocalCache<K, V> cache) {
    this.cache = cache;
  }

  /** Records that {@code key} left with {@code value} for {@code cause}; under the lock. */
  void add(K key, V value, RemovalCause cause) {
    if (cause.wasEvicted()) {
      evictions++;
    }
    if (cache.hasListener()) {
      if (items == null) {
        items = new ArrayList<>(2);
      }
      items.add(new Object[] {key, value, cause});
    }
  }

  /** Counts the evictions and notifies the listener; after the lock is released. */
  @SuppressWarnings("unchecked")
  void publish() {
    if (evictions > 0) {
      cache.recordEvictions(evictions);
    }
    if (items != null) {
      for (Object[] item : items) {
        cache.notifyRemoval((K) item[0], (V) item[1], (RemovalCause) item[2]);
      }
    }
  }
}
