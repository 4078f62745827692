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
 * (concurrent misses on one key load once), write-through (the writer runs before the store changes,
 * and a writer failure leaves the store as it was), and entry processors, which run under the lock.
 * Multi-key operations lock one key at a time and are not atomic as a whole, as JCache allows.
 *
 * <p>Expiry is checked when a key is touched: an entry past its deadline is removed, counted as an
 * eviction and reported as {@code EXPIRED}. Each JCache entry is also written to the backend with a
 * time to live a grace period past its deadline, so the backend drops entries that nobody touches
 * again; such a removal is reported when the backend tells us. Because the backend has no
 * key iteration, the keys the backing cache holds are also kept in {@link #keys}, updated under the
 * key's lock; the backend's own evictions remove them from it.
 *
 * <p>Listener code never runs under a key lock (see {@link EventDispatcher}); cache loaders, cache
 * writers, expiry policies and entry processors do.
 */
final class CachetCache<K, V> implements Cache<K, V> {

  private static final Logger log = LoggerFactory.getLogger(CachetCache.class);

  /** How long past its JCache deadline the backend keeps an entry nobody touched. */
  static final java.time.Duration BACKEND_GRACE = java.time.Duration.ofMinutes(1);

  /** Deadline sentinel: keep the current deadline. */
  private static final long UNCHANGED = Long.MIN_VALUE;
  /** Deadline sentinel: the entry expires now. */
  private static final long IMMEDIATELY = Long.MIN_VALUE + 1;

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
  private final KeyLocks locks = new KeyLocks();
  private final Set<Object> keys = ConcurrentHashMap.newKeySet();
  private final io.cachet.Cache<Object, Expirable> store;
  private final boolean backendTtl;
  private boolean statisticsRegistered; // guarded by configuration
  private boolean managementRegistered; // guarded by configuration
  private volatile boolean closed;

  @SuppressWarnings("unchecked")
  CachetCache(
      String name,
      CachetCacheManager manager,
      CachetConfiguration<K, V> configuration,
      InstantSource clock,
      Executor executor,
      Function<RemovalListener<Object, Expirable>, io.cachet.Cache<Object, Expirable>> storeFactory) {
    this.name = name;
    this.manager = manager;
    this.configuration = configuration;
    this.keyType = configuration.getKeyType();
    this.valueType = configuration.getValueType();
    this.readThrough = configuration.isReadThrough();
    this.clock = clock;
    this.timer = clock instanceof Ticker ticker ? ticker : Ticker.system();
    this.executor = executor;
    this.copier =
        configuration.isStoreByValue()
            ? Copier.serializing(name, manager.getClassLoader())
            : Copier.identity();
    this.statistics = new CachetStatistics(configuration.isStatisticsEnabled());
    this.configurationBean = new CachetCacheMXBean(this);
    List<Object> created = new ArrayList<>();
    EventDispatcher<K, V> events = new EventDispatcher<>(name, executor);
    try {
      Factory<CacheLoader<K, V>> loaderFactory = configuration.getCacheLoaderFactory();
      this.loader = loaderFactory == null ? null : remember(created, loaderFactory.create());
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
      this.store = storeFactory.apply(this::onBackendRemoval);
      this.backendTtl = store.config().perEntryTtl();
    } catch (RuntimeException | Error e) {
      for (Object resource : created) {
        closeQuietly(resource);
      }
      for (EventDispatcher.Registration<K, V> r : events.registrations()) {
        closeQuietly(r.listener);
        closeQuietly(r.filter);
      }
      throw e;
    }
    synchronized (configuration) {
      if (configuration.isStatisticsEnabled()) {
        registerStatistics();
      }
      if (configuration.isManagementEnabled()) {
        registerManagement();
      }
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
    long start = startTimer();
    Pending pending = new Pending();
    V result;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      Expirable entry = live(key, now, pending);
      if (entry != null) {
        statistics.recordHits(1);
        touch(key, entry, now);
        result = valueOut(entry.value());
      } else {
        statistics.recordMisses(1);
        result = readThrough && loader != null ? loadAndStore(key, pending) : null;
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    statistics.recordGetTime(elapsed(start));
    return result;
  }

  @Override
  public Map<K, V> getAll(Set<? extends K> keys) {
    checkOpen();
    requireNonNull(keys, "keys");
    for (K key : keys) {
      checkKey(key);
    }
    long start = startTimer();
    Pending pending = new Pending();
    Map<K, V> result = new LinkedHashMap<>();
    List<K> missing = new ArrayList<>();
    for (K key : keys) {
      KeyLocks.Handle lock = locks.lock(key);
      try {
        long now = clock.millis();
        Expirable entry = live(key, now, pending);
        if (entry != null) {
          statistics.recordHits(1);
          touch(key, entry, now);
          result.put(key, valueOut(entry.value()));
        } else {
          statistics.recordMisses(1);
          missing.add(key);
        }
      } finally {
        locks.unlock(key, lock);
      }
    }
    if (readThrough && loader != null && !missing.isEmpty()) {
      Map<K, V> loaded = loadAll(missing);
      for (Map.Entry<K, V> e : loaded.entrySet()) {
        K key = e.getKey();
        V value = e.getValue();
        if (key == null || value == null) {
          continue;
        }
        KeyLocks.Handle lock = locks.lock(key);
        try {
          long now = clock.millis();
          if (live(key, now, pending) == null) {
            create(key, value, now, pending);
          }
        } finally {
          locks.unlock(key, lock);
        }
        result.put(key, value);
      }
    }
    pending.await();
    statistics.recordGetTime(elapsed(start));
    return result;
  }

  @Override
  public boolean containsKey(K key) {
    checkOpen();
    checkKey(key);
    Pending pending = new Pending();
    boolean present;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      present = live(key, clock.millis(), pending) != null;
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    return present;
  }

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
          try {
            loadAllNow(requested, replaceExistingValues);
          } catch (Exception e) {
            listener.onException(e instanceof CacheLoaderException ? e : new CacheLoaderException(e));
            return;
          }
          listener.onCompletion();
        };
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      listener.onException(new CacheException("cache '" + name + "' could not start loadAll", e));
    }
  }

  private void loadAllNow(Set<K> requested, boolean replaceExistingValues) {
    List<K> toLoad = new ArrayList<>();
    for (K key : requested) {
      if (replaceExistingValues || !containsKey(key)) {
        toLoad.add(key);
      }
    }
    if (toLoad.isEmpty()) {
      return;
    }
    Map<K, V> loaded = loadAll(toLoad);
    Pending pending = new Pending();
    for (Map.Entry<K, V> e : loaded.entrySet()) {
      K key = e.getKey();
      V value = e.getValue();
      if (key == null || value == null) {
        continue;
      }
      KeyLocks.Handle lock = locks.lock(key);
      try {
        long now = clock.millis();
        Expirable existing = live(key, now, pending);
        if (existing == null) {
          create(key, value, now, pending);
        } else if (replaceExistingValues) {
          update(key, existing, value, now, pending);
        }
      } finally {
        locks.unlock(key, lock);
      }
    }
    pending.await();
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void put(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    long start = startTimer();
    Pending pending = new Pending();
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      Expirable existing = live(key, now, pending);
      write(key, value);
      if (existing == null) {
        create(key, value, now, pending);
      } else {
        update(key, existing, value, now, pending);
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    statistics.recordPutTime(elapsed(start));
  }

  @Override
  public @Nullable V getAndPut(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    long start = startTimer();
    Pending pending = new Pending();
    V previous;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      Expirable existing = live(key, now, pending);
      write(key, value);
      if (existing == null) {
        statistics.recordMisses(1);
        previous = null;
        create(key, value, now, pending);
      } else {
        statistics.recordHits(1);
        previous = valueOut(existing.value());
        update(key, existing, value, now, pending);
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    long elapsed = elapsed(start);
    statistics.recordGetTime(elapsed);
    statistics.recordPutTime(elapsed);
    return previous;
  }

  @Override
  public void putAll(Map<? extends K, ? extends V> map) {
    checkOpen();
    requireNonNull(map, "map");
    for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
      checkKey(e.getKey());
      checkValue(e.getValue());
    }
    long start = startTimer();
    Set<Object> failed = new HashSet<>();
    CacheWriterException failure = null;
    if (writer != null && !map.isEmpty()) {
      Collection<Cache.Entry<? extends K, ? extends V>> entries = new ArrayList<>(map.size());
      for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
        entries.add(new CachetEntry<>(e.getKey(), e.getValue()));
      }
      try {
        writer.writeAll(entries);
      } catch (RuntimeException e) {
        // The writer leaves in the collection the entries it did not write.
        for (Cache.Entry<? extends K, ? extends V> entry : entries) {
          failed.add(entry.getKey());
        }
        failure = writerFailure(e);
      }
    }
    Pending pending = new Pending();
    for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
      K key = e.getKey();
      if (failed.contains(key)) {
        continue;
      }
      KeyLocks.Handle lock = locks.lock(key);
      try {
        long now = clock.millis();
        Expirable existing = live(key, now, pending);
        if (existing == null) {
          create(key, e.getValue(), now, pending);
        } else {
          update(key, existing, e.getValue(), now, pending);
        }
      } finally {
        locks.unlock(key, lock);
      }
    }
    pending.await();
    statistics.recordPutTime(elapsed(start));
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    long start = startTimer();
    Pending pending = new Pending();
    boolean stored;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      if (live(key, now, pending) != null) {
        statistics.recordHits(1);
        stored = false;
      } else {
        statistics.recordMisses(1);
        write(key, value);
        create(key, value, now, pending);
        stored = true;
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    statistics.recordPutTime(elapsed(start));
    return stored;
  }

  @Override
  public boolean remove(K key) {
    checkOpen();
    checkKey(key);
    long start = startTimer();
    Pending pending = new Pending();
    boolean removed;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      Expirable existing = live(key, now, pending);
      delete(key);
      removed = existing != null;
      if (removed) {
        removeEntry(key, existing, pending);
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    statistics.recordRemoveTime(elapsed(start));
    return removed;
  }

  @Override
  public boolean remove(K key, V oldValue) {
    checkOpen();
    checkKey(key);
    checkValue(oldValue);
    long start = startTimer();
    Pending pending = new Pending();
    boolean removed = false;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      Expirable existing = live(key, now, pending);
      if (existing == null) {
        statistics.recordMisses(1);
      } else {
        statistics.recordHits(1);
        if (existing.value().equals(oldValue)) {
          delete(key);
          removeEntry(key, existing, pending);
          removed = true;
        } else {
          touch(key, existing, now);
        }
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    statistics.recordRemoveTime(elapsed(start));
    return removed;
  }

  @Override
  public @Nullable V getAndRemove(K key) {
    checkOpen();
    checkKey(key);
    long start = startTimer();
    Pending pending = new Pending();
    V previous = null;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      Expirable existing = live(key, now, pending);
      delete(key);
      if (existing == null) {
        statistics.recordMisses(1);
      } else {
        statistics.recordHits(1);
        previous = valueOut(existing.value());
        removeEntry(key, existing, pending);
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    long elapsed = elapsed(start);
    statistics.recordGetTime(elapsed);
    statistics.recordRemoveTime(elapsed);
    return previous;
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    checkOpen();
    checkKey(key);
    checkValue(oldValue);
    checkValue(newValue);
    long start = startTimer();
    Pending pending = new Pending();
    boolean replaced = false;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      Expirable existing = live(key, now, pending);
      if (existing == null) {
        statistics.recordMisses(1);
      } else {
        statistics.recordHits(1);
        if (existing.value().equals(oldValue)) {
          write(key, newValue);
          update(key, existing, newValue, now, pending);
          replaced = true;
        } else {
          touch(key, existing, now);
        }
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    long elapsed = elapsed(start);
    statistics.recordGetTime(elapsed);
    statistics.recordPutTime(elapsed);
    return replaced;
  }

  @Override
  public boolean replace(K key, V value) {
    return replaceExisting(key, value) != null;
  }

  @Override
  public @Nullable V getAndReplace(K key, V value) {
    Expirable previous = replaceExisting(key, value);
    return previous == null ? null : valueOut(previous.value());
  }

  /** Replaces the value of a live entry; returns the replaced holder, or null if there was none. */
  private @Nullable Expirable replaceExisting(K key, V value) {
    checkOpen();
    checkKey(key);
    checkValue(value);
    long start = startTimer();
    Pending pending = new Pending();
    Expirable existing;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      existing = live(key, now, pending);
      if (existing == null) {
        statistics.recordMisses(1);
      } else {
        statistics.recordHits(1);
        write(key, value);
        update(key, existing, value, now, pending);
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    long elapsed = elapsed(start);
    statistics.recordGetTime(elapsed);
    statistics.recordPutTime(elapsed);
    return existing;
  }

  @Override
  public void removeAll(Set<? extends K> keys) {
    checkOpen();
    requireNonNull(keys, "keys");
    for (K key : keys) {
      checkKey(key);
    }
    long start = startTimer();
    Set<Object> failed = new HashSet<>();
    CacheWriterException failure = null;
    if (writer != null && !keys.isEmpty()) {
      Collection<Object> remaining = new ArrayList<>(keys);
      try {
        writer.deleteAll(remaining);
      } catch (RuntimeException e) {
        // The writer leaves in the collection the keys it did not delete.
        failed.addAll(remaining);
        failure = writerFailure(e);
      }
    }
    Pending pending = new Pending();
    for (K key : keys) {
      if (failed.contains(key)) {
        continue;
      }
      KeyLocks.Handle lock = locks.lock(key);
      try {
        Expirable existing = live(key, clock.millis(), pending);
        if (existing != null) {
          removeEntry(key, existing, pending);
        }
      } finally {
        locks.unlock(key, lock);
      }
    }
    pending.await();
    statistics.recordRemoveTime(elapsed(start));
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public void removeAll() {
    checkOpen();
    Set<K> all = new LinkedHashSet<>();
    for (Object key : keys) {
      all.add((K) key);
    }
    removeAll(all);
  }

  @Override
  public void clear() {
    checkOpen();
    for (Object key : List.copyOf(keys)) {
      KeyLocks.Handle lock = locks.lock(key);
      try {
        store.remove(key);
        keys.remove(key);
      } finally {
        locks.unlock(key, lock);
      }
    }
  }

  // ---------------------------------------------------------------- entry processors

  /**
   * {@inheritDoc}
   *
   * <p>The processor runs under the key's lock: other operations on the key wait for it, and it
   * must not use this cache itself.
   */
  @Override
  public <T> @Nullable T invoke(K key, EntryProcessor<K, V, T> entryProcessor, Object... arguments) {
    checkOpen();
    checkKey(key);
    requireNonNull(entryProcessor, "entryProcessor");
    requireNonNull(arguments, "arguments");
    Pending pending = new Pending();
    T result;
    KeyLocks.Handle lock = locks.lock(key);
    try {
      long now = clock.millis();
      Expirable existing = live(key, now, pending);
      if (existing == null) {
        statistics.recordMisses(1);
      } else {
        statistics.recordHits(1);
      }
      CachetMutableEntry<K, V> entry =
          new CachetMutableEntry<>(
              key,
              existing == null ? null : valueOut(existing.value()),
              readThrough && loader != null ? this::load : null,
              valueType);
      try {
        result = entryProcessor.process(entry, arguments);
      } catch (EntryProcessorException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new EntryProcessorException(
            "the entry processor of cache '" + name + "' threw " + e, e);
      }
      try {
        apply(key, existing, entry, now, pending);
      } catch (CacheWriterException e) {
        throw new EntryProcessorException(
            "the cache writer of cache '" + name + "' failed applying an entry processor's change", e);
      }
    } finally {
      locks.unlock(key, lock);
    }
    pending.await();
    return result;
  }

  private void apply(
      K key, @Nullable Expirable existing, CachetMutableEntry<K, V> entry, long now, Pending pending) {
    switch (entry.action()) {
      case NONE -> {}
      case READ -> touch(key, requireNonNull(existing), now);
      case LOADED -> create(key, requireNonNull(entry.getValue()), now, pending);
      case CREATED -> {
        V value = requireNonNull(entry.getValue());
        write(key, value);
        create(key, value, now, pending);
      }
      case UPDATED -> {
        V value = requireNonNull(entry.getValue());
        write(key, value);
        update(key, requireNonNull(existing), value, now, pending);
      }
      case DELETED -> {
        delete(key);
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

    private final Iterator<Object> delegate = keys.iterator();
    private Cache.@Nullable Entry<K, V> next;
    private Cache.@Nullable Entry<K, V> last;

    @Override
    @SuppressWarnings("unchecked")
    public boolean hasNext() {
      checkOpen();
      while (next == null && delegate.hasNext()) {
        K key = (K) delegate.next();
        long start = startTimer();
        Pending pending = new Pending();
        KeyLocks.Handle lock = locks.lock(key);
        try {
          long now = clock.millis();
          Expirable entry = live(key, now, pending);
          if (entry != null) {
            statistics.recordHits(1);
            touch(key, entry, now);
            next = new CachetEntry<>(copyOut(key), valueOut(entry.value()));
          }
        } finally {
          locks.unlock(key, lock);
        }
        pending.await();
        if (next != null) {
          statistics.recordGetTime(elapsed(start));
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
    checkOpen();
    synchronized (configuration) {
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
    checkOpen();
    synchronized (configuration) {
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
    keys.clear();
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

  // ---------------------------------------------------------------- building blocks (under the key's lock)

  /** Returns the live entry of {@code key}, expiring it first if its deadline has passed. */
  private @Nullable Expirable live(Object key, long now, Pending pending) {
    Expirable entry = store.get(key);
    if (entry == null) {
      return null;
    }
    if (entry.isExpired(now)) {
      store.remove(key);
      keys.remove(key);
      statistics.recordEvictions(1);
      publishExpired(key, entry, pending);
      return null;
    }
    return entry;
  }

  /** Stores a new entry with the creation expiry, unless that is zero; publishes CREATED. */
  private void create(K key, V value, long now, Pending pending) {
    long deadline = deadline(creationExpiry(), now);
    if (deadline == IMMEDIATELY) {
      return;
    }
    if (deadline == UNCHANGED) {
      deadline = Expirable.ETERNAL;
    }
    V stored = copyIn(value);
    storeEntry(copyIn(key), new Expirable(stored, deadline), now);
    statistics.recordPuts(1);
    if (dispatcher.wants(EventType.CREATED)) {
      dispatcher.publish(this, EventType.CREATED, copyOut(key), copyOut(stored), null, pending);
    }
  }

  /** Replaces a live entry's value, applying the update expiry; publishes UPDATED. */
  @SuppressWarnings("unchecked")
  private void update(K key, Expirable existing, V value, long now, Pending pending) {
    long deadline = deadline(updateExpiry(), now);
    if (deadline == UNCHANGED) {
      deadline = existing.expireAtMillis();
    } else if (deadline == IMMEDIATELY) {
      deadline = now; // expired from now on; the next access reports it
    }
    V stored = copyIn(value);
    // A copy of the key too: a backend may keep the key object of the latest write.
    storeEntry(copyIn(key), new Expirable(stored, deadline), now);
    statistics.recordPuts(1);
    if (dispatcher.wants(EventType.UPDATED)) {
      dispatcher.publish(
          this, EventType.UPDATED, copyOut(key), copyOut(stored), valueOut(existing.value()), pending);
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
      storeEntry(copyIn(key), entry.withExpiry(deadline), now);
    }
  }

  @SuppressWarnings("unchecked")
  private void removeEntry(K key, Expirable existing, Pending pending) {
    store.remove(key);
    keys.remove(key);
    statistics.recordRemovals(1);
    if (dispatcher.wants(EventType.REMOVED)) {
      V old = valueOut(existing.value());
      dispatcher.publish(this, EventType.REMOVED, copyOut(key), old, old, pending);
    }
  }

  @SuppressWarnings("unchecked")
  private void publishExpired(Object key, Expirable entry, Pending pending) {
    if (dispatcher.wants(EventType.EXPIRED)) {
      V old = valueOut(entry.value());
      dispatcher.publish(this, EventType.EXPIRED, copyOut((K) key), old, old, pending);
    }
  }

  private void storeEntry(Object key, Expirable entry, long now) {
    if (backendTtl && !entry.isEternal()) {
      long remaining = Math.max(0, entry.expireAtMillis() - now);
      store.put(key, entry, java.time.Duration.ofMillis(remaining).plus(BACKEND_GRACE));
    } else {
      store.put(key, entry);
    }
    keys.add(key);
  }

  /**
   * Called by the backing cache when it drops an entry by itself (size bound, or the grace period
   * after an untouched entry's deadline), on the backend's executor.
   */
  @SuppressWarnings("unchecked")
  private void onBackendRemoval(Object key, Expirable entry, RemovalCause cause) {
    if (closed || (cause != RemovalCause.SIZE && cause != RemovalCause.EXPIRED)) {
      return;
    }
    Pending pending = new Pending();
    KeyLocks.Handle lock = locks.lock(key);
    try {
      if (store.get(key) != null) {
        return; // written again since; that write already replaced this entry
      }
      keys.remove(key);
      statistics.recordEvictions(1);
      if (cause == RemovalCause.EXPIRED) {
        publishExpired(key, entry, pending);
      }
    } catch (IllegalStateException e) {
      return; // closed meanwhile
    } finally {
      locks.unlock(key, lock);
    }
    try {
      pending.await();
    } catch (RuntimeException | Error e) {
      log.warn("A listener of cache '{}' failed on an expiry found by the backend", name, e);
    }
  }

  // ---------------------------------------------------------------- integration

  /** Loads {@code key} and stores the value as a creation; returns it, or null. */
  private @Nullable V loadAndStore(K key, Pending pending) {
    V value = load(key);
    if (value != null) {
      create(key, value, clock.millis(), pending);
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
  private void write(K key, V value) {
    if (writer == null) {
      return;
    }
    try {
      writer.write(new CachetEntry<>(key, value));
    } catch (RuntimeException e) {
      throw writerFailure(e);
    }
  }

  private void delete(K key) {
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

  @SuppressWarnings("unchecked")
  private <T> T copyIn(T object) {
    return (T) copier.copy(object);
  }

  @SuppressWarnings("unchecked")
  private <T> T copyOut(T object) {
    return (T) copier.copy(object);
  }

  @SuppressWarnings("unchecked")
  private V valueOut(Object value) {
    return (V) copier.copy(value);
  }

  private long startTimer() {
    return statistics.isEnabled() ? timer.read() : 0L;
  }

  private long elapsed(long start) {
    return statistics.isEnabled() ? timer.read() - start : 0L;
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
