package io.cachet;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A named map from keys to values that may forget entries: by expiry, by eviction when full, or
 * because another writer changed the backing store.
 *
 * <p>Caches are thread-safe. Null keys and values are rejected with {@link NullPointerException}.
 * After {@link #close()} every operation but {@code close}, {@code name}, {@code config},
 * {@code isClosed} and {@code unwrap} (for diagnostics) throws {@link IllegalStateException}.
 *
 * <p>Expiry: an entry written by {@link #put(Object, Object)} lives for the configuration's
 * {@link CacheConfig#expireAfterWrite()}; one written with an explicit time to live lives for that
 * long instead; {@link #expire(Object, Duration)} changes a live entry's remaining time.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public interface Cache<K, V> extends AutoCloseable {

  /** Returns the name this cache was configured with. */
  String name();

  /** Returns the configuration this cache was built from. */
  CacheConfig<K, V> config();

  /** Returns the value for {@code key}, or {@code null} when there is none (or it expired). */
  @Nullable V get(K key);

  /**
   * Returns the value for {@code key}, calling {@code loader} to compute and store it on a miss.
   *
   * <p>Concurrent misses on one key in this process call the loader once; the other callers wait
   * for its outcome and share it. A value stored by another writer while the loader ran wins over
   * the loaded one, which is then returned to nobody; should that value be gone again when the
   * load ends (evicted, expired), a write in this process still keeps the loaded value out of the
   * cache, as a removal does. A removal of the key or a {@link #clear()}
   * in this process while the loader ran leaves the loaded value out of the cache (its callers
   * still get it): the loader may have read its source before the change that the removal
   * announces. Removals by other processes sharing a remote backend are not seen by the load; the
   * loaded value is stored unless a value is there. Every backend follows the same rules:
   *
   * <ul>
   *   <li>A loader that returns {@code null} stores nothing; every caller waiting for it gets
   *       {@code null}, the load counts as a failure in {@link #stats()}, and the next call loads
   *       again.
   *   <li>A loader that throws an exception stores nothing; the caller that ran it gets a
   *       {@link CacheLoadException} with the exception as its cause (or the exception itself if it
   *       is a {@code CacheLoadException}), and so does every caller waiting for it.
   *   <li>A loader that throws an {@link Error} stores nothing; the caller that ran it gets the
   *       error itself, unwrapped, and every caller waiting for it a {@link CacheLoadException}
   *       whose cause is that error.
   *   <li>A loader that calls {@code get(key, loader)} for the same key on the same cache gets an
   *       {@link IllegalStateException}: the load would wait for itself. Unless the loader catches
   *       it, its caller then gets a {@link CacheLoadException} with it as the cause.
   *   <li>A caller interrupted while it waits for another's load gets a {@link CacheLoadException}
   *       whose cause is an {@link InterruptedException}, with its interrupt flag set again; the
   *       load goes on for the others.
   *   <li>A failure of the backend itself (such as a {@link BackendUnavailableException} while
   *       storing the loaded value) reaches every caller as it is.
   * </ul>
   *
   * <p>Each call counts one read in {@link #stats()}, as Caffeine counts its {@code get(key,
   * mappingFunction)}: a hit when it returns a value it did not load itself (one the cache held,
   * or the value of another caller's load it waited for), a miss when it ran the loader or the
   * load it waited for found nothing or failed. A caller interrupted while it waits counts
   * nothing.
   *
   * <p>With {@link CacheConfig#refreshAfterWrite()} set, a value written longer ago than that is
   * returned at once while {@code loader} reloads it on the configuration's executor; that
   * reload is the key's one load in flight, so a miss meanwhile waits for it. See
   * {@link CacheConfig.Builder#refreshAfterWrite(Duration)}. {@link #get(Object)} never refreshes.
   *
   * <p>Only a recursive load on the same thread is detected: loaders that wait for each other's
   * keys on two threads (A's loader asks for B while B's asks for A), or hand a load of their own
   * key to another thread and wait for it, wait forever, as with any lock.
   *
   * @throws CacheLoadException if the loader throws an exception, or the wait for another caller's
   *     load is interrupted
   */
  @Nullable V get(K key, Function<? super K, ? extends @Nullable V> loader);

  /** Returns the present values for {@code keys}; absent keys are not in the returned map. */
  Map<K, V> getAll(Iterable<? extends K> keys);

  /**
   * Returns the values for {@code keys}, loading the missing ones with one call of
   * {@code bulkLoader} and storing what it returns.
   *
   * <p>The loader receives the keys that are neither present nor being loaded by another caller;
   * keys another caller is loading (by {@link #get(Object, Function)} or by this method) are
   * waited for instead, so each key is loaded once at a time, as with {@code get(key, loader)}.
   * Keys the loader leaves out of its map stay absent and are left out of the result; entries it
   * returns for keys not asked for are stored too, unless a removal or clear of this cache began
   * while the loader ran (it may have been of that key, read before it). A value stored by
   * another writer while the loader ran wins over the loaded one. A loader that throws, returns
   * {@code null}, or returns a map holding a {@code null} key or value stores nothing and fails
   * every key it was loading, as {@code get(key, loader)} describes; the whole call then fails.
   * The returned map follows the order of {@code keys}.
   *
   * @throws CacheLoadException if the loader throws an exception, returns {@code null} or a map
   *     with a {@code null} key or value, or a wait for another caller's load is interrupted
   */
  Map<K, V> getAll(
      Iterable<? extends K> keys,
      Function<? super Set<? extends K>, ? extends @Nullable Map<? extends K, ? extends V>> bulkLoader);

  /** Stores {@code value} under {@code key}, living for the configured {@code expireAfterWrite}. */
  void put(K key, V value);

  /**
   * Stores {@code value} under {@code key}, living for {@code ttl} instead of the configured expiry.
   *
   * @throws IllegalArgumentException if {@code ttl} is zero or negative
   * @throws IllegalStateException if the cache was configured with {@code perEntryTtl(false)}
   */
  void put(K key, V value, Duration ttl);

  /** Stores every entry of {@code entries}, as by {@link #put(Object, Object)}. */
  void putAll(Map<? extends K, ? extends V> entries);

  /** Stores {@code value} only if {@code key} has no live value; returns whether it was stored. */
  boolean putIfAbsent(K key, V value);

  /** Replaces the value of {@code key} only if it has a live one; returns whether it was replaced. */
  boolean replace(K key, V value);

  /**
   * Replaces the value of {@code key} with {@code newValue} only if it currently equals
   * {@code oldValue} (compare-and-set); returns whether it was replaced.
   */
  boolean replace(K key, V oldValue, V newValue);

  /** Removes the entry for {@code key}; returns whether a live one was there. */
  boolean remove(K key);

  /** Removes the entry for {@code key} only if its value equals {@code value}; returns whether it did. */
  boolean remove(K key, V value);

  /**
   * Sets the remaining time to live of a live entry; returns whether there was one.
   *
   * <p>{@link Duration#ZERO} expires the entry now.
   *
   * @throws IllegalArgumentException if {@code ttl} is negative
   * @throws IllegalStateException if the cache was configured with {@code perEntryTtl(false)}
   */
  boolean expire(K key, Duration ttl);

  /** Removes every entry. */
  void clear();

  /**
   * Returns the approximate number of entries.
   *
   * <p>Entries that expired but were not yet cleaned up may be counted; remote backends may
   * return the size of their local part only.
   */
  long estimatedSize();

  /** Returns a snapshot of the counters, all zero when statistics are disabled. */
  CacheStats stats();

  /**
   * Returns a non-blocking view of this cache, for callers such as network servers that must not
   * block their threads. Local caches complete the stages before returning. The Redis backend
   * completes a near-cache hit (or known absence) before returning, a reply on Redisson's I/O
   * threads, and a failure or time-out on its completion threads; the replicated backend completes
   * every stage on the cache's executor. Callers that block in a callback should hand it to their
   * own executor.
   */
  AsyncCache<K, V> async();

  /**
   * Returns this cache, or the backend's implementation object, as an instance of {@code type}.
   *
   * @throws IllegalArgumentException if neither is an instance of {@code type}
   */
  <T> T unwrap(Class<T> type);

  /** Returns whether {@link #close()} was called on this cache or its manager. */
  boolean isClosed();

  /**
   * Releases this cache's resources and removes it from its manager. Idempotent. Entries held in
   * a remote backend are kept there.
   */
  @Override
  void close();
}
