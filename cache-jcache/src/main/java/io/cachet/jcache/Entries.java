package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import io.cachet.RemovalCause;
import io.cachet.RemovalListener;
import io.cachet.jcache.EventDispatcher.Pending;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import javax.cache.Cache;
import javax.cache.CacheException;
import javax.cache.event.EventType;
import javax.cache.integration.CacheWriterException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entries of one {@link CachetCache} in its backing Cachet cache, and every change to them as
 * one step per key: the key locks, the index of the keys held ({@link KeyIndex}), expiry on touch, events published
 * under the lock, and the backend's own removals. {@link CachetCache} builds the JCache operations
 * from these steps; its class comment has the design.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class Entries<K, V> {

  private static final Logger log = LoggerFactory.getLogger(CachetCache.class);

  private final CachetCache<K, V> cache;
  private final String name;
  private final InstantSource clock;
  private final Executor notices;
  private final Copier copier;
  private final CachetStatistics statistics;
  private final EventDispatcher<K, V> dispatcher;
  private final Integration<K, V> integration;
  private final KeyLocks locks = new KeyLocks();
  private final io.cachet.Cache<Object, Expirable> store;
  private final boolean backendTtl;
  private final boolean keepsHolders;
  private final KeyIndex index;

  /**
   * @param notices runs the handling of the backend's removal notices; never runs tasks inline
   * @param storeFactory creates the backing store, given the listener for its removals
   */
  Entries(
      CachetCache<K, V> cache,
      InstantSource clock,
      Executor notices,
      Copier copier,
      CachetStatistics statistics,
      EventDispatcher<K, V> dispatcher,
      Integration<K, V> integration,
      Function<RemovalListener<Object, Expirable>, io.cachet.Cache<Object, Expirable>> storeFactory) {
    this.cache = cache;
    this.name = cache.getName();
    this.clock = clock;
    this.notices = notices;
    this.copier = copier;
    this.statistics = statistics;
    this.dispatcher = dispatcher;
    this.integration = integration;
    this.store = storeFactory.apply(this::onBackendRemoval);
    try {
      io.cachet.CacheConfig<Object, Expirable> config = store.config();
      this.backendTtl = config.perEntryTtl();
      // The local backend keeps the holders in this JVM and reports every removal.
      this.keepsHolders = config.backend().equals("local");
      this.index = new KeyIndex(keepsHolders, backendTtl);
    } catch (RuntimeException | Error e) {
      try {
        store.close(); // the caller never gets it, so it is closed here
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** The backing store. */
  io.cachet.Cache<Object, Expirable> store() {
    return store;
  }

  // ---------------------------------------------------------------- one step per key

  /** What an operation on one key does under its lock, given the key's live entry (or null). */
  @FunctionalInterface
  interface KeyOperation<R> {
    R apply(@Nullable Expirable existing, long now, Pending pending);
  }

  /** What a multi-key operation does under its keys' locks, given each key's live entry (or null). */
  @FunctionalInterface
  interface BatchOperation<T, R> {
    R apply(Map<T, @Nullable Expirable> entries, long now, Pending pending);
  }

  /**
   * Runs {@code operation} under {@code key}'s lock, then, with the lock released, delivers the
   * events it published (waiting for synchronous listeners).
   */
  <R> R atomically(Object key, KeyOperation<R> operation) {
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
  <T, R> R atomicallyAll(Collection<? extends T> keys, BatchOperation<T, R> operation) {
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

  /**
   * Loads what {@code loadAll} asked for, holding the keys' locks; never waits for another thread,
   * since it runs on the executor. Returns the failure of a synchronous listener, if any.
   */
  @Nullable Throwable loadAll(Set<K> requested, boolean replaceExistingValues) {
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
          Map<K, V> loaded = integration.loadAll(toLoad);
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

  /**
   * Stores {@code map} holding the locks of all its keys while the writer's {@code writeAll} runs
   * and the entries are stored, so a concurrent write of one of the keys cannot end up in the cache
   * in another order than in the writer. Copies first: a value that cannot be copied fails the call
   * before the writer runs. Returns the writer's failure, after storing what it did write.
   */
  @Nullable CacheWriterException putAll(Map<? extends K, ? extends V> map) {
    return atomicallyAll(map.keySet(), (found, now, pending) -> {
      Map<K, Object[]> copies = new HashMap<>();
      for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
        copies.put(e.getKey(), new Object[] {copy(e.getKey()), copy(e.getValue())});
      }
      Set<Object> failed = Set.of();
      CacheWriterException writerFailure = null;
      if (integration.hasWriter() && !map.isEmpty()) {
        Collection<Cache.Entry<? extends K, ? extends V>> unwritten = new ArrayList<>(map.size());
        for (Map.Entry<? extends K, ? extends V> e : map.entrySet()) {
          unwritten.add(new CachetEntry<>(e.getKey(), e.getValue()));
        }
        writerFailure = integration.writeAll(unwritten);
        if (writerFailure != null) {
          // The writer leaves in the collection the entries it did not write.
          failed = new HashSet<>();
          for (Cache.Entry<? extends K, ? extends V> entry : unwritten) {
            failed.add(entry.getKey());
          }
        }
      }
      long written = clock.millis();
      for (var e : found.entrySet()) {
        if (!failed.contains(e.getKey())) {
          Object[] stored = copies.get(e.getKey());
          createOrUpdate(stored[0], stored[1], e.getValue(), written, pending);
        }
      }
      return writerFailure;
    });
  }

  /**
   * Removes the entries of {@code keys} through the writer, holding all their locks; with {@code
   * liveOnly}, only the keys of live entries go to the writer, otherwise all of them. Returns the
   * writer's failure, after removing what it did delete.
   */
  @Nullable CacheWriterException removeAll(Collection<?> keys, boolean liveOnly) {
    return atomicallyAll(keys, (found, now, pending) -> {
      Set<Object> failed = Set.of();
      CacheWriterException writerFailure = null;
      if (integration.hasWriter()) {
        // The writer gets copies (the keys may be the cache's own, from removeAll()), and what it
        // leaves undeleted is mapped back by identity: it may change the keys it is given.
        Map<Object, Object> originals = new IdentityHashMap<>(found.size());
        Collection<Object> undeleted = new ArrayList<>(found.size());
        found.forEach((key, entry) -> {
          if (!liveOnly || entry != null) {
            Object given = copy(key);
            originals.put(given, key);
            undeleted.add(given);
          }
        });
        if (!undeleted.isEmpty()) {
          writerFailure = integration.deleteAll(undeleted);
          if (writerFailure != null) {
            // The writer leaves in the collection the keys it did not delete.
            failed = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Object given : undeleted) {
              Object original = originals.get(given);
              if (original != null) {
                failed.add(original);
              }
            }
          }
        }
      }
      for (Map.Entry<?, @Nullable Expirable> e : found.entrySet()) {
        Expirable entry = e.getValue();
        if (entry != null && !failed.contains(e.getKey())) {
          removeEntry(e.getKey(), entry, pending);
        }
      }
      return writerFailure;
    });
  }

  /** Applies what an entry processor did to {@code entry}, under {@code key}'s lock. */
  void apply(K key, @Nullable Expirable existing, CachetMutableEntry<K, V> entry, long now, Pending pending) {
    switch (entry.action()) {
      case NONE -> {}
      case READ -> touch(key, requireNonNull(existing), now);
      case LOADED -> create(copy(key), copy(requireNonNull(entry.value())), clock.millis(), pending);
      case CREATED -> storeValue(key, requireNonNull(entry.value()), null, pending);
      case UPDATED -> storeValue(key, requireNonNull(entry.value()), requireNonNull(existing), pending);
      case DELETED -> {
        integration.deleteThrough(key);
        if (existing != null) {
          removeEntry(key, existing, pending);
        }
      }
    }
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
  void storeValue(K key, V value, @Nullable Expirable existing, Pending pending) {
    Object storedKey = copy(key);
    Object storedValue = copy(value);
    integration.writeThrough(key, value);
    createOrUpdate(storedKey, storedValue, existing, clock.millis(), pending);
  }

  void createOrUpdate(
      Object storedKey, Object storedValue, @Nullable Expirable existing, long now, Pending pending) {
    if (existing == null) {
      create(storedKey, storedValue, now, pending);
    } else {
      update(storedKey, storedValue, existing, now, pending);
    }
  }

  /** Loads {@code key} and stores the value as a creation; returns it, or null. */
  @Nullable V loadAndStore(K key, Pending pending) {
    V value = integration.load(key);
    if (value != null) {
      create(copy(key), copy(value), clock.millis(), pending);
    }
    return value;
  }

  /** Stores a new entry with the creation expiry, unless that is zero; publishes CREATED. */
  void create(Object storedKey, Object storedValue, long now, Pending pending) {
    long deadline = integration.creationDeadline(now);
    if (deadline == Integration.IMMEDIATELY) {
      return;
    }
    storeEntry(storedKey, new Expirable(storedValue, deadline), now);
    statistics.recordPuts(1);
    if (dispatcher.wants(EventType.CREATED)) {
      dispatcher.publish(cache, EventType.CREATED, copy(storedKey), copy(storedValue), null, pending);
    }
  }

  /** Replaces a live entry's value, applying the update expiry; publishes UPDATED. */
  private void update(Object storedKey, Object storedValue, Expirable existing, long now, Pending pending) {
    long deadline = integration.updateDeadline(now);
    if (deadline == Integration.UNCHANGED) {
      deadline = existing.expireAtMillis();
    } else if (deadline == Integration.IMMEDIATELY) {
      deadline = now; // expired from now on; the next access reports it
    }
    storeEntry(storedKey, new Expirable(storedValue, deadline), now);
    statistics.recordPuts(1);
    if (dispatcher.wants(EventType.UPDATED)) {
      dispatcher.publish(
          cache, EventType.UPDATED, copy(storedKey), copy(storedValue), copy(existing.value()), pending);
    }
  }

  /** Applies the access expiry to a live entry that was just read. */
  void touch(Object key, Expirable entry, long now) {
    long deadline = integration.accessDeadline(now);
    if (deadline == Integration.UNCHANGED) {
      return;
    }
    if (deadline == Integration.IMMEDIATELY) {
      deadline = now;
    }
    if (deadline != entry.expireAtMillis()) {
      // A copy of the key too: a backend may keep the key object of the latest write.
      storeEntry(copy(key), entry.withExpiry(deadline), now);
    }
  }

  void removeEntry(Object key, Expirable existing, Pending pending) {
    storeRemove(key);
    index.remove(key);
    statistics.recordRemovals(1);
    if (dispatcher.wants(EventType.REMOVED)) {
      V old = copy(existing.value());
      dispatcher.publish(cache, EventType.REMOVED, copy(key), old, old, pending);
    }
  }

  private void publishExpired(Object key, Expirable entry, Pending pending) {
    if (dispatcher.wants(EventType.EXPIRED)) {
      V old = copy(entry.value());
      dispatcher.publish(cache, EventType.EXPIRED, copy(key), old, old, pending);
    }
  }

  private void storeEntry(Object storedKey, Expirable entry, long now) {
    try {
      if (backendTtl && !entry.isEternal()) {
        long remaining = Math.max(0, entry.expireAtMillis() - now);
        store.put(storedKey, entry, java.time.Duration.ofMillis(remaining).plus(CachetCache.BACKEND_GRACE));
      } else {
        store.put(storedKey, entry);
      }
    } catch (io.cachet.CacheException e) {
      throw backendFailure("write an entry", e);
    }
    index.stored(storedKey, entry, now);
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

  // ---------------------------------------------------------------- keys, clear, close

  /** A weakly consistent iterator over the keys the backing cache is believed to hold. */
  Iterator<Object> keys() {
    return index.keys();
  }

  /** A snapshot of the keys the backing cache is believed to hold. */
  List<Object> keySnapshot() {
    return index.snapshot();
  }

  /** Returns the number of keys whose lock is held or awaited; for tests. */
  int locksInUse() {
    return locks.inUse();
  }

  /**
   * Removes the keys this cache holds one at a time, each under its lock, without events; on a
   * remote backend then clears the backing cache as a whole.
   */
  void clear() {
    for (Object key : index.snapshot()) {
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

  /** Closes the backing cache, clearing it first when {@code destroy}; logs failures. */
  void close(boolean destroy) {
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
  }

  // ---------------------------------------------------------------- backend removal notices

  /**
   * Called by the backing cache, on whatever thread it likes (the writing thread, which may hold a
   * key lock, included), for every entry it drops. Only its own drops (size, expiry) matter; they
   * are handed to {@link #notices}, never handled here, since taking a key lock here could deadlock.
   */
  private void onBackendRemoval(Object key, Expirable entry, RemovalCause cause) {
    if (cache.isClosed() || !cause.wasEvicted()) {
      return;
    }
    try {
      long droppedAt = clock.millis(); // expired or not as the backend dropped it, not when handled
      notices.execute(() -> handleRemoval(key, entry, droppedAt));
    } catch (RejectedExecutionException e) {
      log.debug("Cache '{}' dropped a backend removal notice: its manager is closing", name);
    }
  }

  /**
   * Accounts for an entry the backend dropped (an eviction, and an {@code EXPIRED} event if its
   * JCache deadline had passed), unless it was replaced or accounted for since. Nobody waits for this, so it never waits
   * for another thread; a synchronous listener's failure is logged.
   */
  private void handleRemoval(Object key, Expirable entry, long droppedAt) {
    Pending pending = new Pending();
    try {
      KeyLocks.Handle lock = locks.lock(key);
      try {
        Object indexed = index.get(key);
        boolean current = indexed == entry || (KeyIndex.isMarker(indexed) && storeGet(key) == null);
        if (!cache.isClosed() && current) {
          index.remove(key);
          statistics.recordEvictions(1);
          // By the JCache deadline, as when an operation finds the drop first (live): the
          // backend's own cause differs from it both ways (a size eviction of an entry past its
          // deadline, the backend's idle expiry of an entry whose deadline has not come).
          if (entry.isExpired(droppedAt)) {
            publishExpired(key, entry, pending);
          }
        }
      } finally {
        locks.unlock(key, lock);
      }
    } catch (RuntimeException e) {
      if (!cache.isClosed()) {
        log.warn("Cache '{}' could not handle an entry the backend dropped", name, e);
      }
    } finally {
      Throwable failure = pending.finishWithoutWaiting();
      if (failure != null) {
        log.warn("A synchronous listener of cache '{}' threw on an entry the backend dropped", name, failure);
      }
    }
  }

  /** Returns {@code object} as the cache stores or hands it out: a copy, for store-by-value. */
  @SuppressWarnings("unchecked")
  private <T> T copy(Object object) {
    return (T) copier.copy(object);
  }
}
