package io.cachet.local;

import static java.util.Objects.requireNonNull;

import io.cachet.CacheConfig;
import io.cachet.CacheStats;
import io.cachet.RemovalCause;
import io.cachet.spi.Checks;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The {@code LRU} local store: exact least-recently-used eviction with a hard bound.
 *
 * <h2>Guarantees</h2>
 *
 * When an insertion would make the store exceed its capacity, the key least recently read or
 * written is evicted, and the store never holds more than {@code maximumSize} entries once an
 * operation returns. "Least recently" is with respect to the linearization order of the
 * operations. Hits and overwrites are O(1); an insert that evicts is O(log n) amortized over the
 * uses since (see {@link RecencyHeap}).
 *
 * <h2>Structure</h2>
 *
 * This class is the SPI's face: argument checks, statistics and removal notifications, which run
 * after the lock is released, on the calling thread's side. The data structure, its lock and why
 * every operation is one linearizable step are {@link LruStore}'s.
 *
 * <p>{@code get(key, loader)} is the SPI's single-flight load; a loaded value is stored only if
 * the key is still absent.
 */
final class LruCache<K, V> extends AbstractLocalCache<K, V> {

  /** The map, recency order and lock; every operation on them is one linearizable step. */
  final LruStore<K, V> store;
  /** Whether reads count as hits and misses; not in a near cache's store, whose owner counts them. */
  private final boolean countReads;

  LruCache(CacheConfig<K, V> config, Consumer<io.cachet.Cache<?, ?>> onClose, boolean countReads) {
    super(config, onClose);
    this.countReads = countReads;
    this.store = new LruStore<>(config, Written::new);
  }

  // ---------------------------------------------------------------- reads

  @Override
  public @Nullable V get(K key) {
    requireNonNull(key, "key");
    checkOpen();
    V value = read(key);
    if (countReads) {
      if (value == null) {
        stats.recordMisses(1);
      } else {
        stats.recordHits(1);
      }
    }
    return value;
  }

  @Override
  protected @Nullable V getCountingHits(K key) {
    V value = read(key);
    if (countReads && value != null) {
      stats.recordHits(1);
    }
    return value;
  }

  @Override
  @SuppressWarnings("unchecked") // a cache with refreshAfterWrite answers reads with a Written<V>
  protected @Nullable Written<V> getWritten(K key) {
    Object response = readResponse(key);
    if (countReads && response != null) {
      stats.recordHits(1);
    }
    return (Written<V>) response;
  }

  @SuppressWarnings("unchecked")
  private @Nullable V read(K key) {
    Object response = readResponse(key);
    return response instanceof Written<?> written ? (V) written.value() : (V) response;
  }

  /**
   * Returns the value read, as a {@link Written} for a cache that keeps write times, or null; an
   * entry this read found expired is counted and reported as it leaves.
   */
  @SuppressWarnings("unchecked")
  private @Nullable Object readResponse(K key) {
    Object response = store.read(key);
    if (response instanceof LruStore.Expired<?, ?> expired) {
      stats.recordEvictions(1);
      notifyRemoval((K) expired.key(), (V) expired.value(), RemovalCause.EXPIRED);
      return null;
    }
    return response;
  }

  @Override
  protected @Nullable V getQuietly(K key) {
    return read(key);
  }

  @Override
  protected V storeLoaded(K key, V value) {
    // A value written while the loader ran is newer than the loaded one: keep it.
    V existing = storeIfAbsent(key, value);
    return existing != null ? existing : value;
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void put(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    writing(key);
    write(key, value, expireAfterWriteNanos);
  }

  @Override
  public void put(K key, V value, Duration ttl) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    Checks.requirePositiveTtl(ttl);
    checkOpen();
    checkPerEntryTtl();
    writing(key);
    write(key, value, ttlNanos(ttl));
  }

  private void write(K key, V value, long ttl) {
    Removals<K, V> removals = new Removals<>(this);
    try {
      store.write(key, value, ttl, removals);
      stats.recordPuts(1);
    } finally {
      removals.publish(); // what left before a failure left for good: it is counted and reported
    }
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    writing(key);
    return storeIfAbsent(key, value) == null;
  }

  /** Stores {@code value} unless a live value exists; returns that live value, or null if stored. */
  private @Nullable V storeIfAbsent(K key, V value) {
    Removals<K, V> removals = new Removals<>(this);
    try {
      V existing = store.storeIfAbsent(key, value, expireAfterWriteNanos, removals);
      if (existing == null) {
        stats.recordPuts(1);
      }
      return existing;
    } finally {
      removals.publish();
    }
  }

  @Override
  public boolean replace(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    writing(key);
    return replaceIf(key, null, LruStore.NO_WRITE_TIME, value);
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    requireNonNull(key, "key");
    requireNonNull(oldValue, "oldValue");
    requireNonNull(newValue, "newValue");
    checkOpen();
    writing(key);
    return replaceIf(key, oldValue, LruStore.NO_WRITE_TIME, newValue);
  }

  /** Replaces only the very entry the reload read: the same value instance, written at the same time. */
  @Override
  protected boolean replaceReloaded(K key, Written<V> read, V value) {
    return replaceIf(key, read.value(), read.writeTime(), value);
  }

  private boolean replaceIf(K key, @Nullable V expected, long expectedWriteTime, V value) {
    Removals<K, V> removals = new Removals<>(this);
    try {
      boolean replaced =
          store.replaceIf(key, expected, expectedWriteTime, value, expireAfterWriteNanos, removals);
      if (replaced) {
        stats.recordPuts(1);
      }
      return replaced;
    } finally {
      removals.publish();
    }
  }

  @Override
  public boolean remove(K key) {
    requireNonNull(key, "key");
    checkOpen();
    removing(key);
    return removeIf(key, null);
  }

  @Override
  public boolean remove(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    removing(key);
    return removeIf(key, value);
  }

  private boolean removeIf(K key, @Nullable V expected) {
    Removals<K, V> removals = new Removals<>(this);
    try {
      return store.removeIf(key, expected, removals);
    } finally {
      removals.publish();
    }
  }

  @Override
  public boolean expire(K key, Duration ttl) {
    requireNonNull(key, "key");
    Checks.requireNonNegativeTtl(ttl);
    checkOpen();
    checkPerEntryTtl(); // so an expireAfterAccess cache never gets a per-entry deadline
    if (ttl.isZero()) {
      removing(key);
    }
    Removals<K, V> removals = new Removals<>(this);
    try {
      return store.expire(key, ttl, removals);
    } finally {
      removals.publish();
    }
  }

  @Override
  public void clear() {
    checkOpen();
    clearing();
    Removals<K, V> removals = new Removals<>(this);
    try {
      store.clear(removals);
    } finally {
      removals.publish();
    }
  }

  /** Removes every expired entry now; O(size). */
  void cleanUp() {
    Removals<K, V> removals = new Removals<>(this);
    try {
      store.cleanUp(removals);
    } finally {
      removals.publish();
    }
  }

  @Override
  public long estimatedSize() {
    checkOpen();
    return store.size();
  }

  @Override
  public CacheStats stats() {
    checkOpen();
    return stats.snapshot();
  }

  @Override
  protected void release() {
    store.release();
  }

  /** Returns the keys from least to most recently used; for tests. O(size). */
  List<K> keysInRecencyOrder() {
    return store.keysInRecencyOrder();
  }
}
