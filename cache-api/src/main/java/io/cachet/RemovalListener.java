package io.cachet;

/**
 * Notified when an entry leaves a cache, with the reason.
 *
 * <p>Listeners run on the cache's configured executor after the change is visible. A listener that
 * throws is logged at WARN and does not affect the cache.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
@FunctionalInterface
public interface RemovalListener<K, V> {

  /** Called once for each removed entry. */
  void onRemoval(K key, V value, RemovalCause cause);
}
