package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import io.cachet.RemovalListener;
import io.cachet.Ticker;
import io.cachet.jcache.CachetStatistics.Timing;
import java.io.Closeable;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Configuration;
import javax.cache.integration.CacheWriterException;
import javax.cache.integration.CompletionListener;
import javax.cache.processor.EntryProcessor;
import javax.cache.processor.EntryProcessorException;
import javax.cache.processor.EntryProcessorResult;
import org.jspecify.annotations.Nullable;

/**
 * A JCache {@link Cache} whose entries live in a Cachet cache. Thread-safe.
 *
 * <p>Design notes. The backing Cachet cache maps each key (copied, for store-by-value) to an
 * {@link Expirable}: the value (copied likewise) and its JCache deadline. This class is the only
 * writer of its backing cache, and every operation on a key runs under that key's lock
 * ({@link KeyLocks}), which makes compound operations atomic per key: compare-and-set, read-through
 * (concurrent misses on one key load once), write-through (values are copied first, then the writer
 * runs, then the store changes, so a writer failure or a value that cannot be copied leaves both
 * as they were), and entry processors, which run under the lock. Multi-key operations take the
 * locks of all their keys (in {@link KeyLocks}' deadlock-free order) for the whole operation,
 * writer and loader calls included; they are atomic per key, not as a whole.
 *
 * <p>Expiry is checked when a key is touched: an entry past its deadline is removed, counted as an
 * eviction and reported as {@code EXPIRED}. Deadlines of new values are computed after the writer
 * or entry processor returns, so a slow one cannot make an entry expire at birth. Each entry is
 * also written to the backend with a time to live a grace period past its deadline, so the backend
 * drops entries nobody touches again.
 *
 * <p>The backend has no key iteration, so an index holds the keys the backing cache holds,
 * updated under the key's lock. For the local backend, which keeps the values in this JVM anyway
 * and reports every entry it drops, the index maps each key to the very holder stored; for other
 * backends to a marker, so that it never keeps values alive. The backend drops entries on its own
 * (size bound, grace period) and tells us later, on some thread. Its notices go straight to
 * the cache's notice executor, which handles them one at a time, in order, under the key's lock, on
 * a thread of the manager's (see {@link CachetCacheManager}); a notice counts only if
 * the index still holds the dropped holder. A key touched after the backend dropped it but before
 * its notice was handled is handled then and there (an eviction, and an {@code EXPIRED} event if
 * its deadline had passed), so the event comes before whatever the touching operation does. A
 * backend that never reports removals (Redis expiring keys) only loses the key from the index when
 * it is next touched.
 *
 * <p>Listener code never runs under a key lock: events are enqueued under the lock and delivered
 * after it is released (see {@link EventDispatcher}). Cache loaders, cache writers, expiry policies
 * and entry processors do run under it.
 *
 * <p>Structure: this class is the JCache API over {@link Entries} (the locks, the index, the
 * one-step changes to a key and the backend's notices) and {@link Integration} (the loader, the
 * writer and the expiry policy, with their failures mapped); {@link CacheControl} holds the
 * configuration, the MBeans and what the configuration's factories created; {@link
 * CachetStatistics} counts and times; {@link EntryIterator} iterates.
 */
final class CachetCache<K, V> implements Cache<K, V> {

  /**
   * How long past its JCache deadline the backend keeps an entry nobody touched. The deadline is
   * wall-clock time, the backend's time to live runs on its ticker (the monotonic clock, unless the
   * configured clock is a {@link Ticker} or a custom clock); the grace also absorbs wall-clock
   * adjustments smaller than itself.
   */
  static final java.time.Duration BACKEND_GRACE = java.time.Duration.ofMinutes(1);

  /** How many keys {@link #removeAll()} locks (and hands to the writer) at a time. */
  private static final int REMOVE_ALL_BATCH = 1024;

  private final String name;
  private final CachetCacheManager manager;
  private final Class<?> keyType;
  private final Class<?> valueType;
  private final CacheControl<K, V> control;
  private final Integration<K, V> integration;
  private final boolean readThrough;
  private final Copier copier;
  private final CachetStatistics statistics;
  private final InstantSource clock;
  private final Ticker timer;
  private final Executor executor;
  private final Entries<K, V> entries;
  private volatile boolean closed;

  /**
   * Creates the cache; closes whatever it created (backing store included) and unregisters its
   * MBeans if that fails.
   *
   * @param executor delivers asynchronous events and runs {@code loadAll}
   * @param notices runs the handling of the backend's removal notices; never runs tasks inline
   * @param storeFactory creates the backing store, given the listener for its removals
   */
  CachetCache(
      String name,
      CachetCacheManager manager,
      CachetConfiguration<K, V> configuration,
      InstantSource clock,
      Executor executor,
      Executor notices,
      Function<RemovalListener<Object, Expirable>, io.cachet.Cache<Object, Expirable>> storeFactory) {
    this.name = name;
    this.manager = manager;
    this.keyType = configuration.getKeyType();
    this.valueType = configuration.getValueType();
    this.clock = clock;
    this.timer = clock instanceof Ticker ticker ? ticker : Ticker.system();
    this.executor = executor;
    this.copier =
        configuration.isStoreByValue()
            ? Copier.serializing(name, manager.serializationCodec())
            : Copier.identity();
    this.statistics = new CachetStatistics(configuration.isStatisticsEnabled());
    this.control = CacheControl.create(name, configuration, statistics,
        new CacheMBeans(statistics, new CachetCacheMXBean(this), manager.getURI().toString(), name), executor);
    this.integration = control.integration();
    this.readThrough = control.readThrough();
    Entries<K, V> created = null;
    try {
      created = new Entries<>(this, clock, notices, copier, statistics, control.dispatcher(), integration, storeFactory);
      control.registerMBeans();
    } catch (RuntimeException | Error e) {
      closed = true;
      control.close();
      if (created != null) {
        try {
          created.store().close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      control.closeResources();
      throw e;
    }
    this.entries = created;
  }

  // ---------------------------------------------------------------- reads

  @Override
  public @Nullable V get(K key) {
    checkOpen();
    checkKey(key);
    return statistics.timed(timer, Timing.GET, () -> entries.atomically(key, (existing, now, pending) -> {
      if (statistics.counted(existing) != null) {
        entries.touch(key, existing, now);
        return copy(existing.value());
      }
      return readThrough ? entries.loadAndStore(key, pending) : null;
    }));
  }

  /** {@inheritDoc} With read-through, the misses are loaded with one {@code loadAll} call. */
  @Override
  public Map<K, V> getAll(Set<? extends K> keys) {
    checkOpen();
    requireNonNull(keys, "keys");
    for (K key : keys) {
      checkKey(key);
    }
    return statistics.timed(timer, Timing.GET, () -> entries.atomicallyAll(keys, (found, now, pending) -> {
      Map<K, V> result = new LinkedHashMap<>();
      List<K> missing = new ArrayList<>();
      for (var e : found.entrySet()) {
        Expirable entry = statistics.counted(e.getValue());
        if (entry != null) {
          entries.touch(e.getKey(), entry, now);
          result.put(e.getKey(), copy(entry.value()));
        } else {
          missing.add(e.getKey());
        }
      }
      if (readThrough && !missing.isEmpty()) {
        Map<K, V> loaded = integration.loadAll(missing);
        for (K key : missing) {
          V value = loaded.get(key);
          if (value != null) {
            entries.create(copy(key), copy(value), clock.millis(), pending);
            result.put(key, value);
          }
        }
      }
      return result;
    }));
  }

  @Override
  public boolean containsKey(K key) {
    checkOpen();
    checkKey(key);
    return entries.atomically(key, (existing, now, pending) -> existing != null);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Runs on the cache's executor. Synchronous listeners get the loaded entries' events before
   * the completion listener is told, except those that another thread is delivering to at that
   * moment (that thread delivers them); a synchronous listener that throws is reported through
   * {@link CompletionListener#onException}, and so is a loader that throws, even an {@link Error}
   * (see {@link LoadAllTask}).
   */
  @Override
  public void loadAll(
      Set<? extends K> keys, boolean replaceExistingValues, @Nullable CompletionListener completionListener) {
    checkOpen();
    requireNonNull(keys, "keys");
    for (K key : keys) {
      requireNonNull(key, "keys contains null");
    }
    LoadAllTask<K, V> task =
        new LoadAllTask<>(name, entries, new LinkedHashSet<>(keys), replaceExistingValues, completionListener);
    if (!integration.hasLoader()) {
      task.listener().onCompletion();
      return;
    }
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      task.listener().onException(new CacheException("cache '" + name + "' could not start loadAll", e));
    }
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void put(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    statistics.timed(timer, Timing.PUT, () -> entries.atomically(key, (existing, now, pending) -> {
      entries.storeValue(key, value, existing, pending);
      return null;
    }));
  }

  @Override
  public @Nullable V getAndPut(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    return statistics.timed(timer, Timing.GET_AND_PUT, () -> entries.atomically(key, (existing, now, pending) -> {
      entries.storeValue(key, value, existing, pending);
      return statistics.counted(existing) == null ? null : copy(existing.value());
    }));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Holds the locks of all the keys while the writer's {@code writeAll} runs and the entries are
   * stored, so a concurrent write of one of the keys cannot end up in the cache in another order
   * than in the writer.
   */
  @Override
  public void putAll(Map<? extends K, ? extends V> map) {
    checkOpen();
    requireNonNull(map, "map");
    for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
      checkKey(e.getKey());
      checkValue(e.getValue());
    }
    CacheWriterException failure = statistics.timed(timer, Timing.PUT, () -> entries.putAll(map));
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    return statistics.timed(timer, Timing.PUT, () -> entries.atomically(key, (existing, now, pending) -> {
      if (statistics.counted(existing) != null) {
        return false;
      }
      entries.storeValue(key, value, null, pending);
      return true;
    }));
  }

  @Override
  public boolean remove(K key) {
    checkOpen();
    checkKey(key);
    return statistics.timed(timer, Timing.REMOVE, () -> entries.atomically(key, (existing, now, pending) -> {
      integration.deleteThrough(key);
      if (existing == null) {
        return false;
      }
      entries.removeEntry(key, existing, pending);
      return true;
    }));
  }

  @Override
  public boolean remove(K key, V oldValue) {
    checkOpen();
    checkKey(key);
    checkValue(oldValue);
    return statistics.timed(timer, Timing.REMOVE, () -> entries.atomically(key, (existing, now, pending) -> {
      if (statistics.counted(existing) == null) {
        return false;
      }
      if (!existing.value().equals(oldValue)) {
        entries.touch(key, existing, now);
        return false;
      }
      integration.deleteThrough(key);
      entries.removeEntry(key, existing, pending);
      return true;
    }));
  }

  @Override
  public @Nullable V getAndRemove(K key) {
    checkOpen();
    checkKey(key);
    return statistics.timed(timer, Timing.GET_AND_REMOVE, () -> entries.atomically(key, (existing, now, pending) -> {
      integration.deleteThrough(key);
      if (statistics.counted(existing) == null) {
        return null;
      }
      V previous = copy(existing.value());
      entries.removeEntry(key, existing, pending);
      return previous;
    }));
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    checkOpen();
    checkKey(key);
    checkValue(oldValue);
    checkValue(newValue);
    return statistics.timed(timer, Timing.GET_AND_PUT, () -> entries.atomically(key, (existing, now, pending) -> {
      if (statistics.counted(existing) == null) {
        return false;
      }
      if (!existing.value().equals(oldValue)) {
        entries.touch(key, existing, now);
        return false;
      }
      entries.storeValue(key, newValue, existing, pending);
      return true;
    }));
  }

  @Override
  public boolean replace(K key, V value) {
    return replaceExisting(key, value) != null;
  }

  @Override
  public @Nullable V getAndReplace(K key, V value) {
    Expirable previous = replaceExisting(key, value);
    return previous == null ? null : copy(previous.value());
  }

  /** Replaces the value of a live entry; returns the replaced holder, or null if there was none. */
  private @Nullable Expirable replaceExisting(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    return statistics.timed(timer, Timing.GET_AND_PUT, () -> entries.atomically(key, (existing, now, pending) -> {
      if (statistics.counted(existing) != null) {
        entries.storeValue(key, value, existing, pending);
      }
      return existing;
    }));
  }

  /**
   * {@inheritDoc}
   *
   * <p>Holds the locks of all the keys while the writer's {@code deleteAll} runs and the entries
   * are removed.
   */
  @Override
  public void removeAll(Set<? extends K> keys) {
    checkOpen();
    requireNonNull(keys, "keys");
    for (K key : keys) {
      checkKey(key);
    }
    removeEntries(keys, false);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Removes the live entries in batches; the writer's {@code deleteAll} gets each batch's keys.
   */
  @Override
  public void removeAll() {
    checkOpen();
    List<Object> all = entries.keySnapshot();
    for (int from = 0; from < all.size(); from += REMOVE_ALL_BATCH) {
      removeEntries(all.subList(from, Math.min(all.size(), from + REMOVE_ALL_BATCH)), true);
    }
  }

  /**
   * Removes the entries of {@code keys} through the writer; with {@code liveOnly}, only the keys of
   * live entries go to the writer, otherwise all of them.
   */
  private void removeEntries(Collection<?> keys, boolean liveOnly) {
    CacheWriterException failure = statistics.timed(timer, Timing.REMOVE, () -> entries.removeAll(keys, liveOnly));
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Removes the keys this cache holds one at a time, each under its lock; on a remote backend it
   * then clears the backing cache as a whole, which also removes the keys other clients wrote (on
   * Redis, every key under the cache's key prefix). A write that races the clear may be kept or
   * not, as if it came just before or after it.
   */
  @Override
  public void clear() {
    checkOpen();
    entries.clear();
  }

  // ---------------------------------------------------------------- entry processors

  /**
   * {@inheritDoc}
   *
   * <p>The processor runs under the key's lock: other operations on the key wait for it, and it
   * must not use this cache itself. When its change cannot be applied (the writer fails, or a value
   * cannot be copied) the call throws an {@link EntryProcessorException} and nothing changes.
   */
  @Override
  public <T> @Nullable T invoke(K key, EntryProcessor<K, V, T> entryProcessor, Object... arguments) {
    checkOpen();
    checkKey(key);
    requireNonNull(entryProcessor, "entryProcessor");
    requireNonNull(arguments, "arguments");
    return entries.atomically(key, (existing, now, pending) -> {
      statistics.counted(existing);
      CachetMutableEntry<K, V> entry =
          new CachetMutableEntry<>(
              key,
              existing == null ? null : copy(existing.value()),
              readThrough ? integration::load : null,
              valueType);
      T result;
      try {
        result = entryProcessor.process(entry, arguments);
      } catch (EntryProcessorException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new EntryProcessorException("the entry processor of cache '" + name + "' threw " + e, e);
      }
      try {
        entries.apply(key, existing, entry, now, pending);
      } catch (CacheException e) {
        throw new EntryProcessorException(
            "cache '" + name + "' could not apply an entry processor's change: " + e.getMessage(), e);
      }
      return result;
    });
  }

  /**
   * {@inheritDoc}
   *
   * <p>Processes one key at a time, as {@link #invoke} does; whatever fails for a key is reported
   * in its result as an {@link EntryProcessorException}.
   */
  @Override
  public <T> Map<K, EntryProcessorResult<T>> invokeAll(
      Set<? extends K> keys, EntryProcessor<K, V, T> entryProcessor, Object... arguments) {
    checkOpen();
    requireNonNull(keys, "keys");
    requireNonNull(entryProcessor, "entryProcessor");
    requireNonNull(arguments, "arguments");
    for (K key : keys) {
      checkKey(key);
    }
    Map<K, EntryProcessorResult<T>> results = new HashMap<>();
    for (K key : keys) {
      try {
        T result = invoke(key, entryProcessor, arguments);
        if (result != null) {
          results.put(key, () -> result);
        }
      } catch (Exception e) {
        if (isClosed()) {
          throw new IllegalStateException("cache '" + name + "' was closed during invokeAll", e);
        }
        // Failures after the change too (a synchronous listener's, a copy's, the backend's): the
        // key's result reports it, and the other keys are processed all the same.
        EntryProcessorException failure = e instanceof EntryProcessorException processorException
            ? processorException
            : new EntryProcessorException("invokeAll on cache '" + name + "' failed for a key: " + e, e);
        results.put(key, () -> {
          throw failure;
        });
      }
    }
    return results;
  }

  // ---------------------------------------------------------------- iteration

  @Override
  public Iterator<Cache.Entry<K, V>> iterator() {
    checkOpen();
    return new EntryIterator<>(this, entries.keys());
  }

  /**
   * Reads {@code key} for the iterator, like {@code get} (a hit that refreshes its access expiry)
   * but never loading; null if it is not live.
   */
  Cache.@Nullable Entry<K, V> readForIteration(Object key) {
    return entries.atomically(key, (existing, now, pending) -> {
      if (existing == null) {
        return null;
      }
      entries.touch(key, existing, now);
      return new CachetEntry<K, V>(copy(key), copy(existing.value()));
    });
  }

  /** Returns a reading of the clock that times gets, when statistics are on (else 0). */
  long iterationReadStart() {
    return statistics.isEnabled() ? timer.read() : 0L;
  }

  /**
   * Counts an entry an iterator hands out as a hit, with the time its read took: counted when
   * {@code next()} returns it, not when {@code hasNext()} finds it, so an entry looked ahead at
   * and never taken counts nothing.
   */
  void recordIterationHit(long readNanos) {
    statistics.recordHits(1);
    if (statistics.isEnabled()) {
      statistics.recordGetTime(readNanos);
    }
  }

  /** Returns the time since {@link #iterationReadStart} returned {@code start}. */
  long iterationReadTime(long start) {
    return statistics.isEnabled() ? timer.read() - start : 0L;
  }

  // ---------------------------------------------------------------- listeners and configuration

  @Override
  public void registerCacheEntryListener(CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    checkOpen();
    requireNonNull(listenerConfiguration, "cacheEntryListenerConfiguration");
    control.register(listenerConfiguration);
  }

  @Override
  public void deregisterCacheEntryListener(CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    requireNonNull(listenerConfiguration, "cacheEntryListenerConfiguration");
    checkOpen();
    control.deregister(listenerConfiguration);
  }

  @Override
  public <C extends Configuration<K, V>> C getConfiguration(Class<C> type) {
    requireNonNull(type, "type");
    CachetConfiguration<K, V> snapshot = configurationSnapshot();
    if (type.isInstance(snapshot)) {
      return type.cast(snapshot);
    }
    throw new IllegalArgumentException(
        "cache '" + name + "' has a CachetConfiguration, which is not a " + type.getName());
  }

  /** Returns a copy of the current configuration; changing it does not change the cache. */
  CachetConfiguration<K, V> configurationSnapshot() {
    return control.snapshot();
  }

  void enableStatistics(boolean enabled) {
    control.enableStatistics(enabled);
  }

  void enableManagement(boolean enabled) {
    control.enableManagement(enabled);
  }

  /** Returns the statistics, also when they are disabled; for tests. */
  CachetStatistics statistics() {
    return statistics;
  }

  /** Returns the number of keys whose lock is held or awaited; for tests. */
  int locksInUse() {
    return entries.locksInUse();
  }

  /** Returns a snapshot of the keys the backing cache is believed to hold; for tests. */
  Set<Object> indexedKeys() {
    return Set.copyOf(entries.keySnapshot());
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public String getName() {
    return name;
  }

  @Override
  public CacheManager getCacheManager() {
    return manager;
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  /**
   * Closes this cache and tells its manager to forget it; entries held remotely are kept. When the
   * cache is being closed or destroyed on another thread already, returns once that has finished.
   */
  @Override
  public void close() {
    manager.retire(this, false);
  }

  /** Whether the current thread is in a call of this cache's entry listener or filter. */
  boolean deliveringOnThisThread() {
    return EventDispatcher.deliveringFor(control.dispatcher());
  }

  /**
   * Closes this cache to operations, as its manager takes it to shut it down: a {@code close()}
   * that returns before the shutdown has finished (see {@code CachetCacheManager#retire}) leaves
   * it closed.
   */
  void markClosed() {
    closed = true;
  }

  /** Whether the current thread holds this cache's configuration lock (see {@link CacheControl}). */
  boolean configuringOnThisThread() {
    return control.configuringOnThisThread();
  }

  /**
   * Closes this cache: unregisters its MBeans, closes the backing cache (after clearing it when
   * {@code destroy}, asked once no configuration change can run any more) and every
   * {@link Closeable} customization. Only its manager calls this, from the one thread that shuts
   * the cache down; idempotent.
   */
  void shutdown(BooleanSupplier destroy) {
    closed = true;
    if (!control.close()) {
      return; // closed by another call
    }
    entries.close(destroy.getAsBoolean());
    control.closeResources();
  }

  @Override
  public <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    if (type.isInstance(entries.store())) {
      return type.cast(entries.store());
    }
    throw new IllegalArgumentException("cache '" + name + "' cannot be unwrapped to " + type.getName());
  }

  @Override
  public String toString() {
    return "CachetCache{name=" + name + ", backend=" + entries.store().config().backend() + "}";
  }

  // ---------------------------------------------------------------- small helpers

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("cache '" + name + "' is closed");
    }
  }

  private void checkKey(@Nullable Object key) {
    requireNonNull(key, "key");
    if (!keyType.isInstance(key)) {
      throw new ClassCastException(
          "cache '" + name + "' was configured with keys of type " + keyType.getName()
              + ", was given a " + key.getClass().getName());
    }
  }

  private void checkValue(@Nullable Object value) {
    requireNonNull(value, "value");
    if (!valueType.isInstance(value)) {
      throw new ClassCastException(
          "cache '" + name + "' was configured with values of type " + valueType.getName()
              + ", was given a " + value.getClass().getName());
    }
  }

  /** Returns {@code object} as the cache stores or hands it out: a copy, for store-by-value. */
  @SuppressWarnings("unchecked")
  private <T> T copy(Object object) {
    return (T) copier.copy(object);
  }

  /** Returns whether the requested types are those configured, or supertypes of them. */
  boolean hasTypes(Class<?> requestedKeyType, Class<?> requestedValueType) {
    return requestedKeyType.isAssignableFrom(keyType) && requestedValueType.isAssignableFrom(valueType);
  }

  /** Returns the configured key and value types, for error messages. */
  String types() {
    return "<" + keyType.getName() + ", " + valueType.getName() + ">";
  }
}
