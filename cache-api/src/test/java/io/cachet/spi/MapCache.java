package io.cachet.spi;

import io.cachet.AsyncCache;
import io.cachet.CacheConfig;
import io.cachet.CacheStats;
import io.cachet.Ticker;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * A backend over a {@link ConcurrentHashMap} for the skeleton's own tests: values with their write
 * times, every hook of {@link AbstractCache}, and switches that make it behave as a local or a
 * remote backend, or fail as one in an outage.
 *
 * @param <K> the key type
 */
final class MapCache<K> extends AbstractCache<K, String> {
  final ConcurrentHashMap<K, Written<String>> map = new ConcurrentHashMap<>();
  private final Ticker ticker;
  /** Runs after each store of a loaded value, before the load goes on (tests of what may happen there). */
  volatile @Nullable Runnable afterStoreLoaded;
  /** Whether this cache plays a local backend (every removal through it) or a remote one. */
  boolean local;

  @Override
  protected boolean removalsAreLocal() {
    return local;
  }

  MapCache(CacheConfig<K, String> config) {
    super(config, cache -> {});
    this.ticker = config.ticker();
  }

  @Override
  protected @Nullable Written<String> getWritten(K key) {
    return map.get(key);
  }

  @Override
  public @Nullable String get(K key) {
    checkOpen();
    Written<String> written = map.get(key);
    return written == null ? null : written.value();
  }

  @Override
  protected @Nullable String getQuietly(K key) {
    return get(key);
  }

  @Override
  protected @Nullable String getCountingHits(K key) {
    return get(key);
  }

  @Override
  protected String storeLoaded(K key, String value) {
    Written<String> existing = map.putIfAbsent(key, new Written<>(value, ticker.read()));
    Runnable hook = afterStoreLoaded;
    if (hook != null) {
      hook.run();
    }
    return existing == null ? value : existing.value();
  }

  @Override
  public void put(K key, String value) {
    checkOpen();
    writing(key);
    map.put(key, new Written<>(value, ticker.read()));
    stats.recordPuts(1);
  }

  @Override
  public void put(K key, String value, Duration ttl) {
    put(key, value);
  }

  @Override
  public boolean putIfAbsent(K key, String value) {
    checkOpen();
    writing(key);
    return map.putIfAbsent(key, new Written<>(value, ticker.read())) == null;
  }

  @Override
  public boolean replace(K key, String value) {
    checkOpen();
    writing(key);
    return map.replace(key, new Written<>(value, ticker.read())) != null;
  }

  @Override
  public boolean replace(K key, String oldValue, String newValue) {
    checkOpen();
    Written<String> current = map.get(key);
    boolean replaced = current != null && current.value().equals(oldValue)
        && map.replace(key, current, new Written<>(newValue, ticker.read()));
    if (replaced) {
      stats.recordPuts(1);
    }
    return replaced;
  }

  /** Makes {@code getAll(keys)} answer an unmodifiable map, as a backend may. */
  boolean unmodifiableGetAll;

  @Override
  public Map<K, String> getAll(Iterable<? extends K> keys) {
    Map<K, String> present = super.getAll(keys);
    return unmodifiableGetAll ? Collections.unmodifiableMap(present) : present;
  }

  /** Makes {@code remove(key, value)} fail, as a backend in an outage does. */
  volatile boolean removeIfEqualFails;

  @Override
  public boolean remove(K key) {
    removing(key);
    return map.remove(key) != null;
  }

  @Override
  public boolean remove(K key, String value) {
    removing(key);
    if (removeIfEqualFails) {
      throw new IllegalStateException("the backend is down");
    }
    Written<String> current = map.get(key);
    return current != null && current.value().equals(value) && map.remove(key, current);
  }

  @Override
  public boolean expire(K key, Duration ttl) {
    return false;
  }

  @Override
  public void clear() {
    clearing();
    map.clear();
  }

  @Override
  public long estimatedSize() {
    return map.size();
  }

  @Override
  public CacheStats stats() {
    return stats.snapshot();
  }

  @Override
  public AsyncCache<K, String> async() {
    return new CompletedAsyncCache<>(this);
  }

  /** Runs inside {@link #release()}, the backend's part of {@code close()}. */
  volatile @Nullable Runnable onRelease;

  @Override
  protected void release() {
    Runnable hook = onRelease;
    if (hook != null) {
      hook.run();
    }
  }
}
