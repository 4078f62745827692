package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import io.cachet.RemovalCause;
import io.cachet.RemovalListener;
import io.cachet.Ticker;
import io.cachet.jcache.EventDispatcher.Pending;
import java.io.Closeable;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.CacheManager;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Configuration;
import javax.cache.configuration.Factory;
import javax.cache.event.EventType;
import javax.cache.expiry.Duration;
import javax.cache.expiry.EternalExpiryPolicy;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;
import javax.cache.integration.CacheWriter;
import javax.cache.integration.CacheWriterException;
import javax.cache.integration.CompletionListener;
import javax.cache.processor.EntryProcessor;
import javax.cache.processor.EntryProcessorException;
import javax.cache.processor.EntryProcessorResult;
import javax.management.ObjectName;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>The backend has no key iteration, so {@link #index} holds the keys the backing cache holds,
 * updated under the key's lock. For the local backend, which keeps the values in this JVM anyway
 * and reports every entry it drops, the index maps each key to the very holder stored; for other
 * backends to a marker, so that it never keeps values alive. The backend drops entries on its own
 * (size bound, grace period) and tells us later, on some thread. Its notices go straight to
 * {@link #notices}, another thread that handles them under the key's lock; a notice counts only if
 * the index still holds the dropped holder. A key touched after the backend dropped it but before
 * its notice was handled is handled then and there (an eviction, and an {@code EXPIRED} event if
 * its deadline had passed), so the event comes before whatever the touching operation does. A
 * backend that never reports removals (Redis expiring keys) only loses the key from the index when
 * it is next touched.
 *
 * <p>Listener code never runs under a key lock: events are enqueued under the lock and delivered
 * after it is released (see {@link EventDispatcher}). Cache loaders, cache writers, expiry policies
 * and entry processors do run under it.
 */
final class CachetCache<K, V> implements Cache<K, V> {

  private static final Logger log = LoggerFactory.getLogger(CachetCache.class);

  /**
   * How long past its JCache deadline the backend keeps an entry nobody touched. The deadline is
   * wall-clock time, the backend's time to live runs on its ticker (the monotonic clock, unless the
   * configured clock is a {@link Ticker} or a custom clock); the grace also absorbs wall-clock
   * adjustments smaller than itself.
   */
  static final java.time.Duration BACKEND_GRACE = java.time.Duration.ofMinutes(1);

  /** How many keys {@link #removeAll()} locks (and hands to the writer) at a time. */
  private static final int REMOVE_ALL_BATCH = 1024;

  /** Deadline sentinel: keep the current deadline. */
  private static final long UNCHANGED = Long.MIN_VALUE;
  /** Deadline sentinel: the entry expires now. */
  private static final long IMMEDIATELY = Long.MIN_VALUE + 1;
  /** What {@link #index} maps a key to when the backend's holders are not kept. */
  private static final Object PRESENT = Boolean.TRUE;

  private final String name;
  private final CachetCacheManager manager;
  private final CachetConfiguration<K, V> configuration; // guarded by itself
  private final Class<?> keyType;
  private final Class<?> valueType;
  private final @Nullable CacheLoader<K, V> loader;
  private final @Nullable CacheWriter<K, V> writer;
  private final ExpiryPolicy expiry;
  private final boolean readThrough;
  private final Copier copier;
  private final EventDispatcher<K, V> dispatcher;
  private final CachetStatistics statistics;
  private final CachetCacheMXBean configurationBean;
  private final InstantSource clock;
  private final Ticker timer;
  private final Executor executor;
  private final Executor notices;
  private final KeyLocks locks = new KeyLocks();
  private final ConcurrentHashMap<Object, Object> index = new ConcurrentHashMap<>();
  private final io.cachet.Cache<Object, Expirable> store;
  private final boolean backendTtl;
  private final boolean keepsHolders;
  private boolean statisticsRegistered; // guarded by configuration
  private boolean managementRegistered; // guarded by configuration
  private volatile boolean closed;

  /**
   * Creates the cache; closes whatever it created (backing store included) and unregisters its
   * MBeans if that fails.
   *
   * @param executor delivers asynchronous events and runs {@code loadAll}
   * @param notices runs the handling of the backend's removal notices; never runs tasks inline
   * @param storeFactory creates the backing store, given the listener for its removals
   */
  @SuppressWarnings("unchecked")
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
    this.configuration = configuration;
    this.keyType = configuration.getKeyType();
    this.valueType = configuration.getValueType();
    this.clock = clock;
    this.timer = clock instanceof Ticker ticker ? ticker : Ticker.system();
    this.executor = executor;
    this.notices = notices;
    this.copier =
        configuration.isStoreByValue()
            ? Copier.serializing(name, manager.serializationCodec())
            : Copier.identity();
    this.statistics = new CachetStatistics(configuration.isStatisticsEnabled());
    this.configurationBean = new CachetCacheMXBean(this);
    List<Object> created = new ArrayList<>();
    EventDispatcher<K, V> events = new EventDispatcher<>(name, executor);
    io.cachet.Cache<Object, Expirable> backing = null;
    try {
      Factory<CacheLoader<K, V>> loaderFactory = configuration.getCacheLoaderFactory();
      this.loader = loaderFactory == null ? null : remember(created, loaderFactory.create());
      this.readThrough = configuration.isReadThrough() && loader != null;
      Factory<CacheWriter<? super K, ? super V>> writerFactory = configuration.getCacheWriterFactory();
      this.writer =
          configuration.isWriteThrough() && writerFactory != null
              ? (CacheWriter<K, V>) remember(created, writerFactory.create())
              : null;
      Factory<ExpiryPolicy> expiryFactory = configuration.getExpiryPolicyFactory();
      this.expiry =
          expiryFactory == null
              ? new EternalExpiryPolicy()
              : remember(created, requireNonNull(expiryFactory.create(), "expiry policy factory returned null"));
      for (CacheEntryListenerConfiguration<K, V> listener :
          configuration.getCacheEntryListenerConfigurations()) {
        events.register(listener);
      }
      this.dispatcher = events;
      backing = storeFactory.apply(this::onBackendRemoval);
      this.store = backing;
      this.backendTtl = backing.config().perEntryTtl();
      // The local backend keeps the holders in this JVM and reports every removal.
      this.keepsHolders = backing.config().backend().equals("local");
      synchronized (configuration) {
        if (configuration.isStatisticsEnabled()) {
          registerStatistics();
        }
        if (configuration.isManagementEnabled()) {
          registerManagement();
        }
      }
    } catch (RuntimeException | Error e) {
      closed = true;
      synchronized (configuration) {
        unregisterStatistics();
        unregisterManagement();
      }
      if (backing != null) {
        try {
          backing.close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      for (Object resource : created) {
        closeQuietly(resource);
      }
      for (EventDispatcher.Registration<K, V> r : events.registrations()) {
        closeQuietly(r.listener);
        closeQuietly(r.filter);
      }
      throw e;
    }
  }

  private static <T> T remember(List<Object> created, T resource) {
    created.add(resource);
    return resource;
  }

  // ---------------------------------------------------------------- reads

  @Override
  public @Nullable V get(K key) {
    checkOpen();
    checkKey(key);
    return timed(Timing.GET, () -> atomically(key, (existing, now, pending) -> {
      if (counted(existing) != null) {
        touch(key, existing, now);
        return copy(existing.value());
      }
      return readThrough ? loadAndStore(key, pending) : null;
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
    return timed(Timing.GET, () -> atomicallyAll(keys, (entries, now, pending) -> {
      Map<K, V> result = new LinkedHashMap<>();
      List<K> missing = new ArrayList<>();
      for (var e : entries.entrySet()) {
        Expirable entry = counted(e.getValue());
        if (entry != null) {
          touch(e.getKey(), entry, now);
          result.put(e.getKey(), copy(entry.value()));
        } else {
          missing.add(e.getKey());
        }
      }
      if (readThrough && !missing.isEmpty()) {
        Map<K, V> loaded = loadAll(missing);
        for (K key : missing) {
          V value = loaded.get(key);
          if (value != null) {
            create(copy(key), copy(value), clock.millis(), pending);
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
    return atomically(key, (existing, now, pending) -> existing != null);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Runs on the cache's executor. Synchronous listeners get the loaded entries' events before
   * the completion listener is told, except those that another thread is delivering to at that
   * moment (that thread delivers them); a synchronous listener that throws is reported through
   * {@link CompletionListener#onException}.
   */
  @Override
  public void loadAll(
      Set<? extends K> keys, boolean replaceExistingValues, @Nullable CompletionListener completionListener) {
    checkOpen();
    requireNonNull(keys, "keys");
    for (K key : keys) {
      requireNonNull(key, "keys contains null");
    }
    CompletionListener listener =
        completionListener != null ? completionListener : NoCompletionListener.INSTANCE;
    if (loader == null) {
      listener.onCompletion();
      return;
    }
    Set<K> requested = new LinkedHashSet<>(keys);
    Runnable task =
        () -> {
          Throwable listenerFailure;
          try {
            listenerFailure = loadAllNow(requested, replaceExistingValues);
          } catch (Exception e) {
            listener.onException(e instanceof CacheException ? e : new CacheLoaderException(e));
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
        };
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      listener.onException(new CacheException("cache '" + name + "' could not start loadAll", e));
    }
  }

  /**
   * Loads what {@code loadAll} asked for, holding the keys' locks; never waits for another thread,
   * since it runs on the executor. Returns the failure of a synchronous listener, if any.
   */
  private @Nullable Throwable loadAllNow(Set<K> requested, boolean replaceExistingValues) {
    Pending pending = new Pending();
    try {
      KeyLocks.Batch batch = locks.lockAll(requested);
      try {
        long now = clock.millis();
        Map<K, Expirable> existing = new HashMap<>();
        List<K> toLoad = new ArrayList<>();
        for (K key : requested) {
          Expirable entry = live(key, now, pending);
          if (entry == null || replaceExistingValues) {
            toLoad.add(key);
            if (entry != null) {
              existing.put(key, entry);
            }
          }
        }
        if (!toLoad.isEmpty()) {
          Map<K, V> loaded = loadAll(toLoad);
          long loadedAt = clock.millis();
          for (K key : toLoad) {
            V value = loaded.get(key);
            if (value != null) {
              createOrUpdate(copy(key), copy(value), existing.get(key), loadedAt, pending);
            }
          }
        }
      } finally {
        batch.unlock();
      }
    } catch (RuntimeException | Error e) {
      Throwable listenerFailure = pending.finishWithoutWaiting();
      if (listenerFailure != null) {
        e.addSuppressed(listenerFailure);
      }
      throw e;
    }
    return pending.finishWithoutWaiting();
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void put(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    timed(Timing.PUT, () -> atomically(key, (existing, now, pending) -> {
      storeValue(key, value, existing, pending);
      return null;
    }));
  }

  @Override
  public @Nullable V getAndPut(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    return timed(Timing.GET_AND_PUT, () -> atomically(key, (existing, now, pending) -> {
      storeValue(key, value, existing, pending);
      return counted(existing) == null ? null : copy(existing.value());
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
    CacheWriterException failure = timed(Timing.PUT, () -> atomicallyAll(map.keySet(), (entries, now, pending) -> {
      // Copies first: a value that cannot be copied fails the call before the writer runs.
      Map<K, Object[]> copies = new HashMap<>();
      for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
        copies.put(e.getKey(), new Object[] {copy(e.getKey()), copy(e.getValue())});
      }
      Set<Object> failed = Set.of();
      CacheWriterException writerFailure = null;
      if (writer != null && !map.isEmpty()) {
        Collection<Cache.Entry<? extends K, ? extends V>> unwritten = new ArrayList<>(map.size());
        for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
          unwritten.add(new CachetEntry<>(e.getKey(), e.getValue()));
        }
        try {
          writer.writeAll(unwritten);
        } catch (RuntimeException e) {
          // The writer leaves in the collection the entries it did not write.
          failed = new HashSet<>();
          for (Cache.Entry<? extends K, ? extends V> entry : unwritten) {
            failed.add(entry.getKey());
          }
          writerFailure = writerFailure(e);
        }
      }
      long written = clock.millis();
      for (var e : entries.entrySet()) {
        if (!failed.contains(e.getKey())) {
          Object[] stored = copies.get(e.getKey());
          createOrUpdate(stored[0], stored[1], e.getValue(), written, pending);
        }
      }
      return writerFailure;
    }));
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    return timed(Timing.PUT, () -> atomically(key, (existing, now, pending) -> {
      if (counted(existing) != null) {
        return false;
      }
      storeValue(key, value, null, pending);
      return true;
    }));
  }

  @Override
  public boolean remove(K key) {
    checkOpen();
    checkKey(key);
    return timed(Timing.REMOVE, () -> atomically(key, (existing, now, pending) -> {
      deleteThrough(key);
      if (existing == null) {
        return false;
      }
      removeEntry(key, existing, pending);
      return true;
    }));
  }

  @Override
  public boolean remove(K key, V oldValue) {
    checkOpen();
    checkKey(key);
    checkValue(oldValue);
    return timed(Timing.REMOVE, () -> atomically(key, (existing, now, pending) -> {
      if (counted(existing) == null) {
        return false;
      }
      if (!existing.value().equals(oldValue)) {
        touch(key, existing, now);
        return false;
      }
      deleteThrough(key);
      removeEntry(key, existing, pending);
      return true;
    }));
  }

  @Override
  public @Nullable V getAndRemove(K key) {
    checkOpen();
    checkKey(key);
    return timed(Timing.GET_AND_REMOVE, () -> atomically(key, (existing, now, pending) -> {
      deleteThrough(key);
      if (counted(existing) == null) {
        return null;
      }
      V previous = copy(existing.value());
      removeEntry(key, existing, pending);
      return previous;
    }));
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    checkOpen();
    checkKey(key);
    checkValue(oldValue);
    checkValue(newValue);
    return timed(Timing.GET_AND_PUT, () -> atomically(key, (existing, now, pending) -> {
      if (counted(existing) == null) {
        return false;
      }
      if (!existing.value().equals(oldValue)) {
        touch(key, existing, now);
        return false;
      }
      storeValue(key, newValue, existing, pending);
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
    return timed(Timing.GET_AND_PUT, () -> atomically(key, (existing, now, pending) -> {
      if (counted(existing) != null) {
        storeValue(key, value, existing, pending);
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
    List<Object> all = new ArrayList<>(index.keySet());
    for (int from = 0; from < all.size(); from += REMOVE_ALL_BATCH) {
      removeEntries(all.subList(from, Math.min(all.size(), from + REMOVE_ALL_BATCH)), true);
    }
  }

  /**
   * Removes the entries of {@code keys} through the writer; with {@code liveOnly}, only the keys of
   * live entries go to the writer, otherwise all of them.
   */
  private void removeEntries(Collection<?> keys, boolean liveOnly) {
    CacheWriterException failure = timed(Timing.REMOVE, () -> atomicallyAll(keys, (entries, now, pending) -> {
      Set<Object> failed = Set.of();
      CacheWriterException writerFailure = null;
      if (writer != null) {
        Collection<Object> undeleted = new ArrayList<>(entries.size());
        entries.forEach((key, entry) -> {
          if (!liveOnly || entry != null) {
            undeleted.add(key);
          }
        });
        if (!undeleted.isEmpty()) {
          try {
            writer.deleteAll(undeleted);
          } catch (RuntimeException e) {
            // The writer leaves in the collection the keys it did not delete.
            failed = new HashSet<>(undeleted);
            writerFailure = writerFailure(e);
          }
        }
      }
      for (Map.Entry<?, @Nullable Expirable> e : entries.entrySet()) {
        Expirable entry = e.getValue();
        if (entry != null && !failed.contains(e.getKey())) {
          removeEntry(e.getKey(), entry, pending);
        }
      }
      return writerFailure;
    }));
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
    for (Object key : List.copyOf(index.keySet())) {
      KeyLocks.Handle lock = locks.lock(key);
      try {
        storeRemove(key);
        index.remove(key);
      } finally {
        locks.unlock(key, lock);
      }
    }
    if (!keepsHolders) {
      // After the keys above: a key written meanwhile may then be in the index but not in the
      // backend, which a touch tidies up; never in the backend but missing from the index.
      try {
        store.clear();
      } catch (io.cachet.CacheException e) {
        throw backendFailure("clear the cache", e);
      }
    }
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
    return atomically(key, (existing, now, pending) -> {
      counted(existing);
      CachetMutableEntry<K, V> entry =
          new CachetMutableEntry<>(
              key,
              existing == null ? null : copy(existing.value()),
              readThrough ? this::load : null,
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
        apply(key, existing, entry, now, pending);
      } catch (CacheException e) {
        throw new EntryProcessorException(
            "cache '" + name + "' could not apply an entry processor's change: " + e.getMessage(), e);
      }
      return result;
    });
  }

  private void apply(
      K key, @Nullable Expirable existing, CachetMutableEntry<K, V> entry, long now, Pending pending) {
    switch (entry.action()) {
      case NONE -> {}
      case READ -> touch(key, requireNonNull(existing), now);
      case LOADED -> create(copy(key), copy(requireNonNull(entry.value())), clock.millis(), pending);
      case CREATED -> storeValue(key, requireNonNull(entry.value()), null, pending);
      case UPDATED -> storeValue(key, requireNonNull(entry.value()), requireNonNull(existing), pending);
      case DELETED -> {
        deleteThrough(key);
        if (existing != null) {
          removeEntry(key, existing, pending);
        }
      }
    }
  }

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
      } catch (EntryProcessorException e) {
        results.put(
            key,
            () -> {
              throw e;
            });
      }
    }
    return results;
  }

  // ---------------------------------------------------------------- iteration

  @Override
  public Iterator<Cache.Entry<K, V>> iterator() {
    checkOpen();
    return new EntryIterator();
  }

  /**
   * Iterates over a weakly consistent view of the keys; each entry is read like {@code get} (a hit
   * that refreshes its access expiry) but never loaded. {@code remove()} is {@code Cache.remove(key)}.
   */
  private final class EntryIterator implements Iterator<Cache.Entry<K, V>> {

    private final Iterator<Object> delegate = index.keySet().iterator();
    private Cache.@Nullable Entry<K, V> next;
    private Cache.@Nullable Entry<K, V> last;

    @Override
    public boolean hasNext() {
      checkOpen();
      while (next == null && delegate.hasNext()) {
        Object key = delegate.next();
        long start = statistics.isEnabled() ? timer.read() : 0L;
        next = atomically(key, (existing, now, pending) -> {
          if (existing == null) {
            return null;
          }
          statistics.recordHits(1);
          touch(key, existing, now);
          return new CachetEntry<K, V>(copy(key), copy(existing.value()));
        });
        if (next != null && statistics.isEnabled()) {
          statistics.recordGetTime(timer.read() - start);
        }
      }
      return next != null;
    }

    @Override
    public Cache.Entry<K, V> next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      last = next;
      next = null;
      return requireNonNull(last);
    }

    @Override
    public void remove() {
      Cache.Entry<K, V> current = last;
      if (current == null) {
        throw new IllegalStateException("next() was not called, or remove() was already called");
      }
      last = null;
      CachetCache.this.remove(current.getKey());
    }
  }

  // ---------------------------------------------------------------- listeners and configuration

  @Override
  public void registerCacheEntryListener(CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    checkOpen();
    requireNonNull(listenerConfiguration, "cacheEntryListenerConfiguration");
    synchronized (configuration) {
      // Throws IllegalArgumentException for a configuration registered already.
      configuration.addCacheEntryListenerConfiguration(listenerConfiguration);
      try {
        dispatcher.register(listenerConfiguration);
      } catch (RuntimeException | Error e) {
        configuration.removeCacheEntryListenerConfiguration(listenerConfiguration);
        throw e;
      }
    }
  }

  @Override
  public void deregisterCacheEntryListener(CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    requireNonNull(listenerConfiguration, "cacheEntryListenerConfiguration");
    checkOpen();
    synchronized (configuration) {
      configuration.removeCacheEntryListenerConfiguration(listenerConfiguration);
      dispatcher.deregister(listenerConfiguration);
    }
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
    synchronized (configuration) {
      return new CachetConfiguration<>(configuration);
    }
  }

  void enableStatistics(boolean enabled) {
    synchronized (configuration) {
      checkOpen(); // here: a shutdown that ran first has unregistered the MBeans for good
      configuration.setStatisticsEnabled(enabled);
      statistics.enable(enabled);
      if (enabled) {
        registerStatistics();
      } else {
        unregisterStatistics();
      }
    }
  }

  void enableManagement(boolean enabled) {
    synchronized (configuration) {
      checkOpen(); // here: a shutdown that ran first has unregistered the MBeans for good
      configuration.setManagementEnabled(enabled);
      if (enabled) {
        registerManagement();
      } else {
        unregisterManagement();
      }
    }
  }

  private void registerStatistics() {
    if (!statisticsRegistered) {
      statisticsRegistered = JmxRegistration.register(statistics, objectName(JmxRegistration.Kind.CacheStatistics));
    }
  }

  private void unregisterStatistics() {
    if (statisticsRegistered) {
      JmxRegistration.unregister(objectName(JmxRegistration.Kind.CacheStatistics));
      statisticsRegistered = false;
    }
  }

  private void registerManagement() {
    if (!managementRegistered) {
      managementRegistered =
          JmxRegistration.register(configurationBean, objectName(JmxRegistration.Kind.CacheConfiguration));
    }
  }

  private void unregisterManagement() {
    if (managementRegistered) {
      JmxRegistration.unregister(objectName(JmxRegistration.Kind.CacheConfiguration));
      managementRegistered = false;
    }
  }

  private ObjectName objectName(JmxRegistration.Kind kind) {
    return JmxRegistration.objectName(kind, manager.getURI().toString(), name);
  }

  /** Returns the statistics, also when they are disabled; for tests. */
  CachetStatistics statistics() {
    return statistics;
  }

  /** Returns the number of keys whose lock is held or awaited; for tests. */
  int locksInUse() {
    return locks.inUse();
  }

  /** Returns a snapshot of the keys the backing cache is believed to hold; for tests. */
  Set<Object> indexedKeys() {
    return Set.copyOf(index.keySet());
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

  /** Closes this cache and tells its manager to forget it; entries held remotely are kept. */
  @Override
  public void close() {
    manager.forget(this);
    shutdown(false);
  }

  /**
   * Closes this cache: unregisters its MBeans, closes the backing cache (after clearing it when
   * {@code destroy}) and every {@link Closeable} customization. Idempotent.
   */
  void shutdown(boolean destroy) {
    synchronized (configuration) {
      if (closed) {
        return;
      }
      closed = true;
      unregisterStatistics();
      unregisterManagement();
    }
    try {
      if (destroy) {
        store.clear();
      }
    } catch (RuntimeException e) {
      log.warn("Clearing cache '{}' failed", name, e);
    }
    index.clear();
    try {
      store.close();
    } catch (RuntimeException e) {
      log.warn("Closing the backing store of cache '{}' failed", name, e);
    }
    closeQuietly(loader);
    closeQuietly(writer);
    closeQuietly(expiry);
    for (EventDispatcher.Registration<K, V> registration : dispatcher.registrations()) {
      closeQuietly(registration.listener);
      closeQuietly(registration.filter);
    }
  }

  private void closeQuietly(@Nullable Object resource) {
    if (resource instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        log.warn("Closing {} of cache '{}' failed", resource.getClass().getName(), name, e);
      }
    }
  }

  @Override
  public <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    if (type.isInstance(store)) {
      return type.cast(store);
    }
    throw new IllegalArgumentException("cache '" + name + "' cannot be unwrapped to " + type.getName());
  }

  @Override
  public String toString() {
    return "CachetCache{name=" + name + ", backend=" + store.config().backend() + "}";
  }

  // ---------------------------------------------------------------- operation skeletons

  /** What an operation on one key does under its lock, given the key's live entry (or null). */
  @FunctionalInterface
  private interface KeyOperation<R> {
    R apply(@Nullable Expirable existing, long now, Pending pending);
  }

  /** What a multi-key operation does under its keys' locks, given each key's live entry (or null). */
  @FunctionalInterface
  private interface BatchOperation<T, R> {
    R apply(Map<T, @Nullable Expirable> entries, long now, Pending pending);
  }

  /**
   * Runs {@code operation} under {@code key}'s lock, then, with the lock released, delivers the
   * events it published (waiting for synchronous listeners).
   */
  private <R> R atomically(Object key, KeyOperation<R> operation) {
    Pending pending = new Pending();
    R result;
    try {
      KeyLocks.Handle lock = locks.lock(key);
      try {
        long now = clock.millis();
        result = operation.apply(live(key, now, pending), now, pending);
      } finally {
        locks.unlock(key, lock);
      }
    } catch (RuntimeException | Error e) {
      pending.finishAfter(e);
      throw e;
    }
    pending.finish();
    return result;
  }

  /**
   * Runs {@code operation} holding the locks of all of {@code keys}, then, with the locks released,
   * delivers the events it published. The entries map iterates in the order of {@code keys}.
   */
  private <T, R> R atomicallyAll(Collection<? extends T> keys, BatchOperation<T, R> operation) {
    Pending pending = new Pending();
    R result;
    try {
      KeyLocks.Batch batch = locks.lockAll(keys);
      try {
        long now = clock.millis();
        Map<T, @Nullable Expirable> entries = new LinkedHashMap<>();
        for (T key : keys) {
          entries.put(key, live(key, now, pending));
        }
        result = operation.apply(entries, now, pending);
      } finally {
        batch.unlock();
      }
    } catch (RuntimeException | Error e) {
      pending.finishAfter(e);
      throw e;
    }
    pending.finish();
    return result;
  }

  /** The statistics timings an operation records. */
  private enum Timing {
    GET, PUT, REMOVE, GET_AND_PUT, GET_AND_REMOVE
  }

  /** Runs {@code operation} and, when it succeeds and statistics are on, records its time. */
  private <R> R timed(Timing timing, Supplier<R> operation) {
    if (!statistics.isEnabled()) {
      return operation.get();
    }
    long start = timer.read();
    R result = operation.get();
    long elapsed = timer.read() - start;
    switch (timing) {
      case GET -> statistics.recordGetTime(elapsed);
      case PUT -> statistics.recordPutTime(elapsed);
      case REMOVE -> statistics.recordRemoveTime(elapsed);
      case GET_AND_PUT -> {
        statistics.recordGetTime(elapsed);
        statistics.recordPutTime(elapsed);
      }
      case GET_AND_REMOVE -> {
        statistics.recordGetTime(elapsed);
        statistics.recordRemoveTime(elapsed);
      }
    }
    return result;
  }

  /** Counts a lookup's hit or miss; returns {@code entry}. */
  private @Nullable Expirable counted(@Nullable Expirable entry) {
    if (entry != null) {
      statistics.recordHits(1);
    } else {
      statistics.recordMisses(1);
    }
    return entry;
  }

  // ---------------------------------------------------------------- building blocks (under the key's lock)

  /** Returns the live entry of {@code key}, expiring it first if its deadline has passed. */
  private @Nullable Expirable live(Object key, long now, Pending pending) {
    Expirable entry = storeGet(key);
    if (entry == null) {
      if (index.remove(key) instanceof Expirable dropped) {
        // The backend dropped it on its own and its notice was not handled yet: handle it now,
        // so that its event comes before whatever this operation does to the key.
        statistics.recordEvictions(1);
        if (dropped.isExpired(now)) {
          publishExpired(key, dropped, pending);
        }
      }
      return null;
    }
    if (entry.isExpired(now)) {
      storeRemove(key);
      index.remove(key);
      statistics.recordEvictions(1);
      publishExpired(key, entry, pending);
      return null;
    }
    return entry;
  }

  /**
   * Writes {@code value} through and stores it as a creation, or an update of {@code existing}.
   * Copies first (a value that cannot be copied fails before the writer runs) and computes the
   * deadline after the writer returns.
   */
  private void storeValue(K key, V value, @Nullable Expirable existing, Pending pending) {
    Object storedKey = copy(key);
    Object storedValue = copy(value);
    writeThrough(key, value);
    createOrUpdate(storedKey, storedValue, existing, clock.millis(), pending);
  }

  private void createOrUpdate(
      Object storedKey, Object storedValue, @Nullable Expirable existing, long now, Pending pending) {
    if (existing == null) {
      create(storedKey, storedValue, now, pending);
    } else {
      update(storedKey, storedValue, existing, now, pending);
    }
  }

  /** Stores a new entry with the creation expiry, unless that is zero; publishes CREATED. */
  private void create(Object storedKey, Object storedValue, long now, Pending pending) {
    long deadline = deadline(creationExpiry(), now);
    if (deadline == IMMEDIATELY) {
      return;
    }
    if (deadline == UNCHANGED) {
      deadline = Expirable.ETERNAL;
    }
    storeEntry(storedKey, new Expirable(storedValue, deadline), now);
    statistics.recordPuts(1);
    if (dispatcher.wants(EventType.CREATED)) {
      dispatcher.publish(this, EventType.CREATED, copy(storedKey), copy(storedValue), null, pending);
    }
  }

  /** Replaces a live entry's value, applying the update expiry; publishes UPDATED. */
  private void update(Object storedKey, Object storedValue, Expirable existing, long now, Pending pending) {
    long deadline = deadline(updateExpiry(), now);
    if (deadline == UNCHANGED) {
      deadline = existing.expireAtMillis();
    } else if (deadline == IMMEDIATELY) {
      deadline = now; // expired from now on; the next access reports it
    }
    storeEntry(storedKey, new Expirable(storedValue, deadline), now);
    statistics.recordPuts(1);
    if (dispatcher.wants(EventType.UPDATED)) {
      dispatcher.publish(
          this, EventType.UPDATED, copy(storedKey), copy(storedValue), copy(existing.value()), pending);
    }
  }

  /** Applies the access expiry to a live entry that was just read. */
  private void touch(Object key, Expirable entry, long now) {
    long deadline = deadline(accessExpiry(), now);
    if (deadline == UNCHANGED) {
      return;
    }
    if (deadline == IMMEDIATELY) {
      deadline = now;
    }
    if (deadline != entry.expireAtMillis()) {
      // A copy of the key too: a backend may keep the key object of the latest write.
      storeEntry(copy(key), entry.withExpiry(deadline), now);
    }
  }

  private void removeEntry(Object key, Expirable existing, Pending pending) {
    storeRemove(key);
    index.remove(key);
    statistics.recordRemovals(1);
    if (dispatcher.wants(EventType.REMOVED)) {
      V old = copy(existing.value());
      dispatcher.publish(this, EventType.REMOVED, copy(key), old, old, pending);
    }
  }

  private void publishExpired(Object key, Expirable entry, Pending pending) {
    if (dispatcher.wants(EventType.EXPIRED)) {
      V old = copy(entry.value());
      dispatcher.publish(this, EventType.EXPIRED, copy(key), old, old, pending);
    }
  }

  private void storeEntry(Object storedKey, Expirable entry, long now) {
    try {
      if (backendTtl && !entry.isEternal()) {
        long remaining = Math.max(0, entry.expireAtMillis() - now);
        store.put(storedKey, entry, java.time.Duration.ofMillis(remaining).plus(BACKEND_GRACE));
      } else {
        store.put(storedKey, entry);
      }
    } catch (io.cachet.CacheException e) {
      throw backendFailure("write an entry", e);
    }
    index.put(storedKey, keepsHolders ? entry : PRESENT);
  }

  private @Nullable Expirable storeGet(Object key) {
    try {
      return store.get(key);
    } catch (io.cachet.CacheException e) {
      throw backendFailure("read an entry", e);
    }
  }

  private void storeRemove(Object key) {
    try {
      store.remove(key);
    } catch (io.cachet.CacheException e) {
      throw backendFailure("remove an entry", e);
    }
  }

  /** A backend failure as the {@link CacheException} JCache callers expect, with the cause. */
  private CacheException backendFailure(String action, io.cachet.CacheException e) {
    return new CacheException(
        "the " + store.config().backend() + " backend of cache '" + name + "' failed to " + action
            + ": " + e.getMessage(),
        e);
  }

  // ---------------------------------------------------------------- backend removal notices

  /**
   * Called by the backing cache, on whatever thread it likes (the writing thread, which may hold a
   * key lock, included), for every entry it drops. Only its own drops (size, expiry) matter; they
   * are handed to {@link #notices}, never handled here, since taking a key lock here could deadlock.
   */
  private void onBackendRemoval(Object key, Expirable entry, RemovalCause cause) {
    if (closed || !cause.wasEvicted()) {
      return;
    }
    try {
      notices.execute(() -> handleRemoval(key, entry, cause));
    } catch (RejectedExecutionException e) {
      log.debug("Cache '{}' dropped a backend removal notice: its manager is closing", name);
    }
  }

  /**
   * Accounts for an entry the backend dropped (an eviction, and an {@code EXPIRED} event for an
   * expiry), unless it was replaced or accounted for since. Nobody waits for this, so it never waits
   * for another thread; a synchronous listener's failure is logged.
   */
  private void handleRemoval(Object key, Expirable entry, RemovalCause cause) {
    Pending pending = new Pending();
    try {
      KeyLocks.Handle lock = locks.lock(key);
      try {
        Object indexed = index.get(key);
        boolean current = indexed == entry || (indexed == PRESENT && storeGet(key) == null);
        if (!closed && current) {
          index.remove(key);
          statistics.recordEvictions(1);
          if (cause == RemovalCause.EXPIRED) {
            publishExpired(key, entry, pending);
          }
        }
      } finally {
        locks.unlock(key, lock);
      }
    } catch (RuntimeException e) {
      if (!closed) {
        log.warn("Cache '{}' could not handle an entry the backend dropped", name, e);
      }
    } finally {
      Throwable failure = pending.finishWithoutWaiting();
      if (failure != null) {
        log.warn("A synchronous listener of cache '{}' threw on an entry the backend dropped", name, failure);
      }
    }
  }

  // ---------------------------------------------------------------- integration

  /** Loads {@code key} and stores the value as a creation; returns it, or null. */
  private @Nullable V loadAndStore(K key, Pending pending) {
    V value = load(key);
    if (value != null) {
      create(copy(key), copy(value), clock.millis(), pending);
    }
    return value;
  }

  private @Nullable V load(K key) {
    try {
      return requireNonNull(loader).load(key);
    } catch (CacheLoaderException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CacheLoaderException("the cache loader of cache '" + name + "' failed: " + e, e);
    }
  }

  private Map<K, V> loadAll(List<K> keysToLoad) {
    try {
      Map<K, V> loaded = requireNonNull(loader).loadAll(keysToLoad);
      return loaded == null ? Map.of() : loaded;
    } catch (CacheLoaderException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CacheLoaderException("the cache loader of cache '" + name + "' failed: " + e, e);
    }
  }

  /** Writes through; a failure leaves the cache unchanged (the caller has not stored yet). */
  private void writeThrough(K key, V value) {
    if (writer == null) {
      return;
    }
    try {
      writer.write(new CachetEntry<>(key, value));
    } catch (RuntimeException e) {
      throw writerFailure(e);
    }
  }

  private void deleteThrough(K key) {
    if (writer == null) {
      return;
    }
    try {
      writer.delete(key);
    } catch (RuntimeException e) {
      throw writerFailure(e);
    }
  }

  private CacheWriterException writerFailure(RuntimeException e) {
    if (e instanceof CacheWriterException writerException) {
      return writerException;
    }
    return new CacheWriterException("the cache writer of cache '" + name + "' failed: " + e, e);
  }

  // ---------------------------------------------------------------- expiry

  private @Nullable Duration creationExpiry() {
    try {
      return expiry.getExpiryForCreation();
    } catch (RuntimeException e) {
      log.warn("The expiry policy of cache '{}' failed for a creation; the entry never expires", name, e);
      return Duration.ETERNAL;
    }
  }

  private @Nullable Duration updateExpiry() {
    try {
      return expiry.getExpiryForUpdate();
    } catch (RuntimeException e) {
      log.warn("The expiry policy of cache '{}' failed for an update; expiry unchanged", name, e);
      return null;
    }
  }

  private @Nullable Duration accessExpiry() {
    try {
      return expiry.getExpiryForAccess();
    } catch (RuntimeException e) {
      log.warn("The expiry policy of cache '{}' failed for an access; expiry unchanged", name, e);
      return null;
    }
  }

  /** Turns a policy's answer into a deadline or one of the sentinels. */
  private static long deadline(@Nullable Duration duration, long now) {
    if (duration == null) {
      return UNCHANGED;
    }
    if (duration.isEternal()) {
      return Expirable.ETERNAL;
    }
    if (duration.isZero()) {
      return IMMEDIATELY;
    }
    long millis = duration.getTimeUnit().toMillis(duration.getDurationAmount());
    long sum = now + millis;
    return ((now ^ sum) & (millis ^ sum)) < 0 || sum == Long.MAX_VALUE ? Expirable.ETERNAL : sum;
  }

  // ---------------------------------------------------------------- small helpers

  private void checkOpen() {
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

  /** A completion listener that ignores the outcome, for {@code loadAll(keys, b, null)}. */
  private enum NoCompletionListener implements CompletionListener {
    INSTANCE;

    @Override
    public void onCompletion() {}

    @Override
    public void onException(Exception e) {}
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
