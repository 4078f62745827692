package io.cachet.spi;

import io.cachet.CacheLoadException;
import io.cachet.Ticker;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The single-flight loads of one {@link AbstractCache}: the loads in flight by key, the load of a
 * missed key ({@link #load}), the bulk load of the keys {@code getAll} missed ({@link
 * #loadMissing}), and the marks that writes and removals of a key leave on its load ({@link
 * #writing}, {@link #removing}, {@link #clearing}). The class comment of {@link AbstractCache} gives
 * the protocol; {@link Refresher} registers its reloads in the same map. Thread-safe if the
 * cache's hooks are.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class Loads<K, V> {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Loads.class);

  /**
   * How long a miss waits for a reload of its key that the executor has not started, before it
   * loads the key itself (the executor may have dropped the reload).
   */
  static final Duration QUEUED_RELOAD_PATIENCE = Duration.ofSeconds(1);

  private final AbstractCache<K, V> cache;
  /** The loads and reloads in flight, by key. */
  private final ConcurrentHashMap<K, Load<V>> inFlight = new ConcurrentHashMap<>();
  /**
   * Counts the removals and clears begun ({@link #removing}, {@link #clearing}): a bulk load stores
   * the keys its loader returned unasked only if none began while it ran (no load of theirs was
   * registered for a removal to mark).
   */
  private final AtomicLong removalsBegun = new AtomicLong();
  /** Failed undos of loads a removal overtook, logged at most once per interval. */
  private final WarningLimiter undoWarnings;

  Loads(AbstractCache<K, V> cache) {
    this.cache = cache;
    this.undoWarnings = new WarningLimiter(cache.config.ticker(), Refresher.WARNING_INTERVAL);
  }

  /** The loads and reloads in flight, by key; {@link Refresher} registers its reloads here. */
  ConcurrentHashMap<K, Load<V>> inFlight() {
    return inFlight;
  }

  /**
   * Loads the missed {@code key} with {@code loader}, or waits for the load of it in flight and
   * shares its outcome; the outcomes are those documented on {@link
   * io.cachet.Cache#get(Object, Function)}. Counts the read as Caffeine's {@code get(key,
   * mappingFunction)} does, the lookup before it having counted nothing: a hit when it returns a
   * value it did not load (another caller's load, or one stored meanwhile), else one miss.
   */
  @Nullable V load(K key, Function<? super K, ? extends @Nullable V> loader) {
    return load(key, loader, true);
  }

  /** As above; {@code countRead} false when the caller's lookup counted the read already (a bulk get). */
  private @Nullable V load(K key, Function<? super K, ? extends @Nullable V> loader, boolean countRead) {
    Load<V> mine = new Load<>(Thread.currentThread());
    for (Load<V> theirs; (theirs = inFlight.putIfAbsent(key, mine)) != null; ) {
      if (theirs.owner() == Thread.currentThread()) {
        throw new IllegalStateException(
            "recursive load of key '" + Load.describe(key) + "' in cache '" + cache.name() + "': the loader asked for its own key");
      }
      if (theirs.failedOrFoundNothing()) {
        // Ended, its owner about to take it out of the map: its failure or absence was for the
        // callers that waited for it, and a miss arriving now loads again.
        inFlight.remove(key, theirs);
        continue;
      }
      if (theirs.owner() == null && !awaitQueuedReload(key, theirs, System.nanoTime() + QUEUED_RELOAD_PATIENCE.toNanos())) {
        // A reload the executor has not started after all that time: it may never run it (a
        // discarding policy). This miss takes it over and loads the key itself; if it started
        // meanwhile, the claim fails and it is waited for as any load.
        if (theirs.claim() && inFlight.replace(key, theirs, mine)) {
          break;
        }
        continue;
      }
      if (!theirs.isVoid()) {
        return countRead ? awaitCounted(key, theirs) : await(key, theirs);
      }
      // A removal overtook that load (perhaps this caller's own, just before): its value may be
      // older than the removal, so wait for it to end and load afresh; the same for a reload taken
      // over before it started, which has no value. Its owner takes it out of the map only after
      // completing it (a bulk load after storing every key): done here too, so this caller does
      // not spin on it meanwhile.
      awaitEnd(key, theirs);
      inFlight.remove(key, theirs);
    }
    try {
      V raced = cache.getQuietly(key);
      if (raced != null) {
        if (countRead) {
          cache.stats.recordHits(1);
        }
        mine.future.complete(raced);
        return raced;
      }
      if (countRead) {
        cache.stats.recordMisses(1);
      }
      Ticker ticker = cache.config.ticker();
      long start = ticker.read();
      V loaded;
      try {
        loaded = loader.apply(key);
      } catch (Error e) {
        cache.stats.recordLoadFailure(ticker.read() - start);
        throw e;
      } catch (Throwable e) { // an exception, or a checked one thrown around the compiler (Kotlin, Lombok)
        cache.stats.recordLoadFailure(ticker.read() - start);
        restoreInterrupt(e);
        throw cache.loadFailure(key, e);
      }
      if (loaded == null) {
        cache.stats.recordLoadFailure(ticker.read() - start);
        mine.future.complete(null);
        return null;
      }
      cache.stats.recordLoadSuccess(ticker.read() - start);
      V winner = storeUnlessWritten(key, mine, loaded);
      undoIfRemoved(key, mine, loaded, winner);
      mine.future.complete(winner);
      return winner;
    } catch (Error e) {
      mine.future.completeExceptionally(cache.loadFailure(key, e));
      throw e; // as itself to the thread that ran the loader; wrapped for the waiters
    } catch (RuntimeException e) {
      // The loader's own failure, already wrapped, or the backend's (an outage while looking or
      // storing), which every caller gets as it is.
      mine.future.completeExceptionally(e);
      throw e;
    } catch (Throwable t) { // a checked exception thrown around the compiler by a backend hook
      CacheLoadException failure = cache.loadFailure(key, t);
      mine.future.completeExceptionally(failure);
      throw failure;
    } finally {
      // Never leave a waiter waiting: whatever ended the load has completed it, or does now.
      try {
        mine.endUnfinished("the load", key, cache.name());
      } finally {
        inFlight.remove(key, mine);
      }
    }
  }

  /**
   * Stores {@code loaded} by {@link AbstractCache#storeLoaded} and returns the value the key now
   * holds, unless the key was written while {@code load} ran ({@link #writing}): then the written value wins,
   * or, if it is gone again (evicted, expired), nothing is stored and the loaded value is only
   * handed to the load's callers. Checked before the store, so a write's own value is never
   * undone: a write that marks the load after the check lands over the stored value.
   */
  V storeUnlessWritten(K key, Load<V> load, V loaded) {
    if (!load.written) {
      load.stored = true;
      return cache.storeLoaded(key, loaded);
    }
    V current = cache.getQuietly(key);
    return current != null ? current : loaded;
  }

  /**
   * Removes a value just stored by a load that a removal of its key overtook ({@link #removing}),
   * if that load stored it ({@link #storeUnlessWritten} stored nothing when a write came first):
   * the value was read before the removal, so it must not outlive it. The callers of the load still
   * get it (the load ran before the removal). Checked after the store, and the flag set before the
   * removal, so either the removal deletes the stored value or this sees the flag.
   */
  void undoIfRemoved(K key, Load<V> load, V loaded, V winner) {
    // Only a value this load stored: one a writer put (perhaps the very same instance) is the
    // writer's, whatever it equals. A write that begins after the store, even one that changes
    // nothing (a putIfAbsent that finds the value), does not stop the undo: a value equal to the
    // loaded one, put in that moment, goes with it, and the next read loads the key again,
    // where keeping the loaded value would serve what the removal outdated.
    undoIfRemoved(key, load.removed && load.stored, loaded, winner);
  }

  private void undoIfRemoved(K key, boolean removed, V loaded, V winner) {
    if (removed && winner == loaded && !cache.isClosed()) {
      try {
        cache.remove(key, loaded);
      } catch (RuntimeException e) {
        // The callers still get the value, which the load read before the removal; it stays
        // cached until it expires or is removed again.
        long suppressed = cache.isClosed() ? -1 : undoWarnings.tryAcquire();
        if (suppressed >= 0) {
          log.warn("Cache '{}' could not remove the value of key '{}' loaded before a removal"
              + " ({} more such failures were not logged in the last {} s)",
              cache.name(), key, suppressed, Refresher.WARNING_INTERVAL.toSeconds(), e);
        }
      }
    }
  }

  /**
   * Tells a load of {@code key} in flight, if any, that the key is being removed, so that the value
   * it loaded before the removal is not left in the cache after it (a loader that read a database
   * row before an update whose writer then removed the key). A backend calls this at the start of
   * every operation that removes a key on request: {@code remove}, and {@code expire} to zero.
   */
  void removing(K key) {
    removalsBegun.incrementAndGet();
    Load<V> load = inFlight.get(key);
    if (load != null) {
      load.removed = true;
      dropIfQueued(key, load);
    }
  }

  /**
   * Takes a reload the executor has not started out of the map: it is void now, and if the
   * executor dropped it, nothing else would (its key may never be read again).
   */
  void dropIfQueued(K key, Load<V> load) {
    if (load.owner() == null && load.claim()) {
      inFlight.remove(key, load);
    }
  }

  /**
   * Tells a load of {@code key} in flight, if any, that the key is being written: the written value
   * wins over the loaded one, which was read before the write, and should the written value be
   * gone again when the load ends (evicted, expired), the loaded value must not take its place. A
   * backend calls this at the start of every write on request: {@code put}, {@code putIfAbsent},
   * both {@code replace}s and each key of {@code putAll}; never from {@link AbstractCache#storeLoaded} or
   * {@link AbstractCache#replaceReloaded}, which are the load's own writes.
   */
  void writing(K key) {
    Load<V> load = inFlight.get(key);
    if (load != null) {
      load.written = true;
    }
  }

  /** {@link #removing} for every load in flight; a backend calls it at the start of {@code clear()}. */
  void clearing() {
    removalsBegun.incrementAndGet();
    for (Map.Entry<K, Load<V>> entry : inFlight.entrySet()) {
      entry.getValue().removed = true;
      dropIfQueued(entry.getKey(), entry.getValue());
    }
  }

  /**
   * The rest of {@link AbstractCache#getAll(Iterable, Function)} once the present values of
   * {@code wanted} are in {@code found}: registers a load for each missing key nobody is loading,
   * loads those with one call of {@code bulkLoader}, waits for the others' loads, and returns the
   * values found in the order of {@code wanted}.
   */
  Map<K, V> loadMissing(Set<K> wanted, Map<K, V> found,
      Function<? super Set<? extends K>, ? extends @Nullable Map<? extends K, ? extends V>> bulkLoader) {
    Map<K, Load<V>> mine = new LinkedHashMap<>();
    Map<K, Load<V>> theirs = new LinkedHashMap<>();
    try {
      for (K key : wanted) {
        if (found.containsKey(key)) {
          continue;
        }
        Load<V> load = new Load<>(Thread.currentThread());
        Load<V> other = inFlight.putIfAbsent(key, load);
        if (other == null) {
          mine.put(key, load);
        } else if (other.owner() == Thread.currentThread()) {
          throw new IllegalStateException(
              "recursive load of key '" + Load.describe(key) + "' in cache '" + cache.name() + "': the loader asked for its own key");
        } else {
          theirs.put(key, other);
        }
      }
      if (!mine.isEmpty()) {
        loadAll(mine, bulkLoader, found);
      }
    } finally {
      mine.forEach((key, load) -> {
        // Anything not completed by now failed before its outcome was known (an error above).
        try {
          load.endUnfinished("the bulk load", key, cache.name());
        } finally {
          inFlight.remove(key, load);
        }
      });
    }
    long patience = System.nanoTime() + QUEUED_RELOAD_PATIENCE.toNanos(); // one for the whole call
    theirs.forEach((key, load) -> {
      if (load.owner() == null && !awaitQueuedReload(key, load, patience) && load.claim()) {
        // A reload the executor never started (see load): this caller loads the key itself.
        inFlight.remove(key, load);
        V value = loadOne(key, bulkLoader);
        if (value != null) {
          found.put(key, value);
        }
        return;
      }
      V value = await(key, load);
      if (load.isVoid()) {
        // A removal overtook that load (this caller's own, perhaps): its value may predate it. Or a
        // reload taken over before it started: it has none to share.
        // This caller's own loads are done, so it can load the key afresh without deadlock.
        inFlight.remove(key, load);
        value = loadOne(key, bulkLoader);
      }
      if (value != null) {
        found.put(key, value);
      }
    });
    Map<K, V> ordered = new LinkedHashMap<>();
    for (K key : wanted) {
      V value = found.get(key);
      if (value != null) {
        ordered.put(key, value);
      }
    }
    return ordered;
  }

  /** Loads the keys of {@code mine} with one call of the bulk loader; completes each load. */
  private void loadAll(
      Map<K, Load<V>> mine,
      Function<? super Set<? extends K>, ? extends @Nullable Map<? extends K, ? extends V>> bulkLoader,
      Map<K, V> found) {
    Set<K> toLoad = new LinkedHashSet<>();
    for (Map.Entry<K, Load<V>> entry : mine.entrySet()) {
      V raced = cache.getQuietly(entry.getKey());
      if (raced != null) {
        found.put(entry.getKey(), raced);
        entry.getValue().future.complete(raced);
      } else {
        toLoad.add(entry.getKey());
      }
    }
    if (toLoad.isEmpty()) {
      return;
    }
    Ticker ticker = cache.config.ticker();
    long start = ticker.read();
    long removalsBefore = removalsBegun.get();
    Map<? extends K, ? extends V> loaded;
    try {
      loaded = bulkLoader.apply(Collections.unmodifiableSet(toLoad));
    } catch (Error e) {
      cache.stats.recordLoadFailure(ticker.read() - start);
      CacheLoadException failure = bulkFailure(toLoad, e);
      toLoad.forEach(key -> mine.get(key).future.completeExceptionally(failure));
      throw e;
    } catch (Throwable e) { // an exception, or a checked one thrown around the compiler
      cache.stats.recordLoadFailure(ticker.read() - start);
      restoreInterrupt(e);
      CacheLoadException failure = bulkFailure(toLoad, e);
      toLoad.forEach(key -> mine.get(key).future.completeExceptionally(failure));
      throw failure;
    }
    if (loaded == null) {
      cache.stats.recordLoadFailure(ticker.read() - start);
      CacheLoadException failure = bulkFailure(toLoad, new NullPointerException("the bulk loader returned null"));
      toLoad.forEach(key -> mine.get(key).future.completeExceptionally(failure));
      throw failure;
    }
    for (Map.Entry<? extends K, ? extends V> entry : loaded.entrySet()) {
      // Checked before anything is stored: a bad map stores nothing and fails every caller alike.
      String bad = entry.getKey() == null ? "a null key"
          : entry.getValue() == null ? "a null value for key '" + entry.getKey() + "'" : null;
      if (bad != null) {
        cache.stats.recordLoadFailure(ticker.read() - start);
        CacheLoadException failure = bulkFailure(toLoad, new NullPointerException("the bulk loader returned " + bad));
        toLoad.forEach(key -> mine.get(key).future.completeExceptionally(failure));
        throw failure;
      }
    }
    cache.stats.recordLoadSuccess(ticker.read() - start);
    try {
      for (Map.Entry<? extends K, ? extends V> entry : loaded.entrySet()) {
        K key = entry.getKey();
        V value = entry.getValue();
        Load<V> load = mine.get(key);
        V winner = load != null ? storeUnlessWritten(key, load, value) : cache.storeLoaded(key, value);
        if (load != null) {
          undoIfRemoved(key, load, value, winner);
          found.put(key, winner);
          load.future.complete(winner);
        } else {
          // Not asked for, so no load of it a removal could mark: any removal begun while the
          // loader ran may have been of it. Checked after the store, counted before the removal.
          undoIfRemoved(key, removalsBegun.get() != removalsBefore, value, winner);
        }
      }
    } catch (RuntimeException e) {
      toLoad.forEach(key -> mine.get(key).future.completeExceptionally(e));
      throw e;
    }
    for (K key : toLoad) {
      mine.get(key).future.complete(null); // left out by the loader: absent (no-op if completed)
    }
  }

  private CacheLoadException bulkFailure(Set<K> keys, Throwable cause) {
    return new CacheLoadException(
        "loading " + keys.size() + " key(s) into cache '" + cache.name() + "' failed: " + cause, cause);
  }

  /**
   * Waits, interruptibly and until {@code deadline} ({@code System.nanoTime()}; {@link
   * #QUEUED_RELOAD_PATIENCE} from the caller's first wait), for a reload of {@code key} that is
   * queued on the executor (not started) to end; returns {@code false} if it still had not started
   * then. A miss shares a reload's value, as it shares a load's, but an executor may drop a task
   * without a word, and a miss must not wait for it for ever.
   */
  private boolean awaitQueuedReload(K key, Load<V> reload, long deadline) {
    try {
      reload.future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return reload.owner() != null; // started meanwhile: waited for as any load
    } catch (ExecutionException e) {
      return true; // ended: its outcome is handled as any load's
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheLoadException(
          "interrupted while waiting for a reload of key '" + Load.describe(key) + "' in cache '" + cache.name() + "'", e);
    }
  }

  /** Waits, interruptibly, until another caller's load of {@code key} has ended, whatever its outcome. */
  private void awaitEnd(K key, Load<V> theirs) {
    try {
      theirs.future.get();
    } catch (InterruptedException e) {
      throw interrupted(key, e);
    } catch (ExecutionException e) {
      // Its outcome is not this caller's: it loads afresh.
    }
  }

  /**
   * Loads one key of a bulk get on its own, through the bulk loader; the bulk get's lookup counted
   * its read already.
   */
  private @Nullable V loadOne(K key,
      Function<? super Set<? extends K>, ? extends @Nullable Map<? extends K, ? extends V>> bulkLoader) {
    return load(key, k -> {
      Map<? extends K, ? extends V> one = bulkLoader.apply(Set.of(k));
      return one == null ? null : one.get(k);
    }, false);
  }

  /**
   * As {@link #await}, counting a hit when it shares a value and a miss when the load found
   * nothing or failed; nothing when this caller's own wait was interrupted (as the other waits).
   */
  private @Nullable V awaitCounted(K key, Load<V> theirs) {
    try {
      theirs.future.get(); // the wait alone: its outcome is read below, where it counts
    } catch (InterruptedException e) {
      throw interrupted(key, e);
    } catch (ExecutionException e) {
      // the load failed: counted below
    }
    V value;
    try {
      value = await(key, theirs); // ended: returns or throws at once
    } catch (RuntimeException e) {
      cache.stats.recordMisses(1);
      throw e;
    }
    if (value != null) {
      cache.stats.recordHits(1);
    } else {
      cache.stats.recordMisses(1);
    }
    return value;
  }


  /** Sets the interrupt flag again and returns the failure of a wait for another caller's load cut short. */
  private CacheLoadException interrupted(K key, InterruptedException e) {
    Thread.currentThread().interrupt();
    return new CacheLoadException(
        "interrupted while waiting for another caller to load key '" + Load.describe(key) + "' into cache '"
            + cache.name() + "'", e);
  }

  /** Waits, interruptibly, for another caller's load of {@code key}. */
  private @Nullable V await(K key, Load<V> theirs) {
    try {
      return theirs.future.get();
    } catch (InterruptedException e) {
      throw interrupted(key, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof CacheLoadException shared) {
        if (shared.getClass() != CacheLoadException.class) {
          throw shared; // the loader's own subclass, which callers catch by type, as the loading caller got it
        }
        // A new exception per waiter, with the same message and cause: this thread's stack, and
        // no other thread adding to it.
        throw new CacheLoadException(shared.getMessage(), shared.getCause());
      }
      if (cause instanceof RuntimeException re) {
        throw re; // the backend's own failure (an outage), as the loading caller got it
      }
      throw cache.loadFailure(key, cause);
    }
  }

  /**
   * A loader that threw {@link InterruptedException} (around the compiler) cleared the thread's
   * interrupt flag doing so: set it again, so that the code above the cache still sees it.
   */
  static void restoreInterrupt(Throwable e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
  }
}
