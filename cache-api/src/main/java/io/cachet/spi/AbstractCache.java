package io.cachet.spi;

import static java.util.Objects.requireNonNull;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheLoadException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The skeleton every backend's cache extends: configuration, statistics, the closed state, the
 * argument checks and the single-flight {@link #get(Object, Function) get(key, loader)}, written
 * once so that every backend behaves the same way.
 *
 * <p>A subclass implements the storage operations and three hooks of the load:
 * {@link #getCountingHits(Object)} (the lookup of {@code get(key, loader)}, which counts a hit and
 * leaves a miss to the load), {@link #getQuietly(Object)} (is there a value now, without counting a
 * hit or a miss) and {@link #storeLoaded(Object, Object)} (store a loaded value unless another
 * writer stored one meanwhile). It calls {@link #removing(Object)} at the start of every removal it is asked for, and
 * {@link #clearing()} at the start of {@code clear()}. Thread-safe if the subclass is.
 *
 * <h2>Single-flight loads</h2>
 *
 * A miss registers a load for its key in a concurrent map; a second miss on the key finds it and
 * waits for its outcome instead of calling its own loader. The owner looks once more for a value
 * (one may have been stored between its miss and its registration), runs the loader on its own
 * thread, stores the value through {@code storeLoaded}, and completes the load for the waiters
 * before removing it from the map. The outcomes for a {@code null}, an exception and an
 * {@link Error} are those documented on {@link Cache#get(Object, Function)}.
 *
 * <h2>Refresh</h2>
 *
 * With {@link CacheConfig#refreshAfterWrite()} set, {@code get(key, loader)} reads the entry with
 * its write time through {@link #getWritten(Object)}, a hook only backends that accept the option
 * implement; a stale entry is returned at once and reloaded by a {@link Refresher}, registered in
 * the same map of loads so that a load and a reload of a key never run together. The reloaded
 * value is stored through {@link #replaceReloaded}, a conditional replace.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public abstract class AbstractCache<K, V> implements Cache<K, V> {

  /** This cache's configuration. */
  protected final CacheConfig<K, V> config;
  /** This cache's counters; {@link StatsCounter#disabled()} when statistics are off. */
  protected final StatsCounter stats;
  private final Consumer<Cache<?, ?>> onClose;
  /** The single-flight loads in flight; package-private for tests. */
  final Loads<K, V> loads;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final @Nullable Refresher<K, V> refresher;

  /**
   * Creates the skeleton for {@code config}; {@code onClose} is told once when the cache closes
   * (pass {@link BackendContext#closed(Cache)}).
   */
  protected AbstractCache(CacheConfig<K, V> config, Consumer<Cache<?, ?>> onClose) {
    this.config = requireNonNull(config, "config");
    this.onClose = requireNonNull(onClose, "onClose");
    this.stats = config.recordStats() ? StatsCounter.concurrent() : StatsCounter.disabled();
    this.loads = new Loads<>(this);
    this.refresher = config.refreshAfterWrite().isPresent() ? new Refresher<>(this, loads) : null;
  }

  @Override
  public final String name() {
    return config.name();
  }

  @Override
  public final CacheConfig<K, V> config() {
    return config;
  }

  @Override
  public final boolean isClosed() {
    return closed.get();
  }

  /**
   * Closes the cache once: marks it closed, runs {@link #release()}, then tells the manager, whose
   * own close waits for that before it closes the resources the backends share.
   */
  @Override
  public final void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      release();
    } finally {
      onClose.accept(this);
    }
  }

  /** Releases the backend's resources; called once, by {@link #close()}, after it marked the cache closed. */
  protected abstract void release();

  @Override
  public final @Nullable V get(K key, Function<? super K, ? extends @Nullable V> loader) {
    requireNonNull(key, "key");
    requireNonNull(loader, "loader");
    checkOpen();
    Refresher<K, V> r = refresher;
    if (r == null) {
      V present = getCountingHits(key); // a miss is counted by the load, once it knows what it was
      return present != null ? present : loads.load(key, loader);
    }
    Written<V> written = getWritten(key);
    if (written == null) {
      return loads.load(key, loader);
    }
    r.refreshIfStale(key, written, loader);
    return written.value();
  }

  /**
   * A live value and the {@link CacheConfig#ticker() ticker} reading at which it was written (for
   * remote backends, derived from its remaining time to live), for refresh.
   *
   * @param <V> the value type
   * @param value the value
   * @param writeTime the ticker reading of its write; {@link Long#MAX_VALUE} when unknown (never stale)
   */
  protected record Written<V>(V value, long writeTime) {
    /** Creates the pair; public so that backends in other packages can make one. */
    public Written {
      requireNonNull(value, "value");
    }
  }

  /**
   * Returns the live value of {@code key} with its write time, counting a hit as
   * {@link #getCountingHits} does (and no miss), or {@code null}. Called instead of that by
   * {@code get(key, loader)} when {@link CacheConfig#refreshAfterWrite()} is set; a backend whose
   * provider accepts that option implements it.
   *
   * @throws UnsupportedOperationException by default
   */
  protected @Nullable Written<V> getWritten(K key) {
    throw new UnsupportedOperationException(
        "cache '" + name() + "' on backend '" + config.backend() + "' cannot tell when an entry was written");
  }

  /**
   * Stores a reloaded {@code value} for {@code key} only if the entry is still the one the reload
   * started from ({@code read}), counting a put if it does; returns whether it did. By default a
   * compare-and-set on the value ({@link #replace(Object, Object, Object)}); a backend that keeps
   * write times may also compare them, so that an equal value written meanwhile is not overwritten.
   */
  protected boolean replaceReloaded(K key, Written<V> read, V value) {
    return replace(key, read.value(), value);
  }

  /**
   * Returns the live value for {@code key} without counting a hit or a miss, or {@code null}; the
   * load's second look before it calls the loader.
   */
  protected abstract @Nullable V getQuietly(K key);

  /**
   * Looks {@code key} up as {@link #get(Object)} does (a use of the key for the eviction policy),
   * counting a hit if it finds a live value and nothing if not: {@code get(key, loader)} looks up
   * with it, and the load that follows a miss counts it, once it knows whether the caller ran the
   * loader (a miss) or took another caller's value (a hit), as Caffeine counts
   * {@code get(key, mappingFunction)}.
   */
  protected abstract @Nullable V getCountingHits(K key);

  /**
   * Whether every removal of a key from this cache goes through this object (a local backend), so
   * that an entry that left without one was evicted or expired. A remote backend returns
   * {@code false}: there another process may have removed it. Decides whether a reload whose
   * entry left meanwhile stores its value (see {@link Refresher}).
   */
  protected boolean removalsAreLocal() {
    return false;
  }

  /**
   * Stores a loaded {@code value} for {@code key} unless a live value is there, and returns the
   * value the cache now holds for the key (the other one, if it won). A value stored counts as a
   * put in the statistics.
   */
  protected abstract V storeLoaded(K key, V value);

  /**
   * Tells a load of {@code key} in flight, if any, that the key is being removed, so that the value
   * it loaded before the removal is not left in the cache after it (a loader that read a database
   * row before an update whose writer then removed the key). A backend calls this at the start of
   * every operation that removes a key on request: {@code remove}, and {@code expire} to zero.
   */
  protected final void removing(K key) {
    loads.removing(key);
  }

  /**
   * Tells a load of {@code key} in flight, if any, that the key is being written: the written value
   * wins over the loaded one, which was read before the write, and should the written value be
   * gone again when the load ends (evicted, expired), the loaded value must not take its place. A
   * backend calls this at the start of every write on request: {@code put}, {@code putIfAbsent},
   * both {@code replace}s and each key of {@code putAll}; never from {@link #storeLoaded} or
   * {@link #replaceReloaded}, which are the load's own writes.
   */
  protected final void writing(K key) {
    loads.writing(key);
  }

  /** {@link #removing} for every load in flight; a backend calls it at the start of {@code clear()}. */
  protected final void clearing() {
    loads.clearing();
  }

  /**
   * Wraps a loader failure in a {@link CacheLoadException} naming the key and the cache, keeping
   * one that already is.
   */
  protected final CacheLoadException loadFailure(K key, Throwable cause) {
    if (cause instanceof CacheLoadException e) {
      return e;
    }
    return new CacheLoadException(
        "loading key '" + Load.describe(key) + "' into cache '" + name() + "' failed: " + cause, cause);
  }

  @Override
  public final Map<K, V> getAll(
      Iterable<? extends K> keys,
      Function<? super Set<? extends K>, ? extends @Nullable Map<? extends K, ? extends V>> bulkLoader) {
    requireNonNull(keys, "keys");
    requireNonNull(bulkLoader, "bulkLoader");
    checkOpen();
    Set<K> wanted = new LinkedHashSet<>();
    for (K key : keys) {
      wanted.add(requireNonNull(key, "keys contains null"));
    }
    // A copy: loadMissing adds to it, and a backend's getAll may return a map it cannot change.
    return loads.loadMissing(wanted, new LinkedHashMap<>(getAll(wanted)), bulkLoader);
  }

  /**
   * Returns the present values for {@code keys}, one {@link #get(Object)} for each distinct key (so
   * a key named twice counts one hit or miss, as in Caffeine); backends may batch.
   */
  @Override
  public Map<K, V> getAll(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    checkOpen();
    Set<K> distinct = new LinkedHashSet<>();
    for (K key : keys) {
      distinct.add(requireNonNull(key, "keys contains null"));
    }
    Map<K, V> result = new LinkedHashMap<>();
    for (K key : distinct) {
      V value = get(key);
      if (value != null) {
        result.put(key, value);
      }
    }
    return result;
  }

  /** Checks every entry, then stores each one as by {@link #put(Object, Object)}; backends may batch. */
  @Override
  public void putAll(Map<? extends K, ? extends V> entries) {
    requireNonNull(entries, "entries");
    checkOpen();
    entries.forEach(
        (key, value) -> {
          requireNonNull(key, "entries contains a null key");
          requireNonNull(value, "entries contains a null value");
        });
    entries.forEach(this::put);
  }

  @Override
  public final <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    Object delegate = delegate();
    if (delegate != null && type.isInstance(delegate)) {
      return type.cast(delegate);
    }
    throw new IllegalArgumentException("cache '" + name() + "' cannot be unwrapped to " + type.getName());
  }

  /** Returns the implementation object {@link #unwrap} also offers, if any. */
  protected @Nullable Object delegate() {
    return null;
  }

  /** Throws {@link IllegalStateException} naming the cache if it is closed. */
  protected final void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("cache '" + name() + "' is closed");
    }
  }

  /** Throws {@link IllegalStateException} naming the cache if it forbids per-entry time to live. */
  protected final void checkPerEntryTtl() {
    if (!config.perEntryTtl()) {
      throw new IllegalStateException("cache '" + name() + "' was configured with perEntryTtl(false)");
    }
  }
}
