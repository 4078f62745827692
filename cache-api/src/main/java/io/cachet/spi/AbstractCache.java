package io.cachet.spi;

import static java.util.Objects.requireNonNull;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheLoadException;
import io.cachet.Ticker;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The skeleton every backend's cache extends: configuration, statistics, the closed state, the
 * argument checks and the single-flight {@link #get(Object, Function) get(key, loader)}, written
 * once so that every backend behaves the same way.
 *
 * <p>A subclass implements the storage operations and two hooks of the load:
 * {@link #getQuietly(Object)} (is there a value now, without counting a hit or a miss) and
 * {@link #storeLoaded(Object, Object)} (store a loaded value unless another writer stored one
 * meanwhile). It calls {@link #removing(Object)} at the start of every removal it is asked for, and
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

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AbstractCache.class);

  /** This cache's configuration. */
  protected final CacheConfig<K, V> config;
  /** This cache's counters; {@link StatsCounter#disabled()} when statistics are off. */
  protected final StatsCounter stats;
  private final Consumer<Cache<?, ?>> onClose;
  private final ConcurrentHashMap<K, Load<V>> loads = new ConcurrentHashMap<>();
  /**
   * Counts the removals and clears begun ({@link #removing}, {@link #clearing}): a bulk load stores
   * the keys its loader returned unasked only if none began while it ran (no load of theirs was
   * registered for a removal to mark).
   */
  private final AtomicLong removalsBegun = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final @Nullable Refresher<K, V> refresher;
  /** Failed undos of loads a removal overtook, logged at most once per interval. */
  private final WarningLimiter undoWarnings;

  /**
   * Creates the skeleton for {@code config}; {@code onClose} is told once when the cache closes
   * (pass {@link BackendContext#closed(Cache)}).
   */
  protected AbstractCache(CacheConfig<K, V> config, Consumer<Cache<?, ?>> onClose) {
    this.config = requireNonNull(config, "config");
    this.onClose = requireNonNull(onClose, "onClose");
    this.stats = config.recordStats() ? StatsCounter.concurrent() : StatsCounter.disabled();
    this.refresher = config.refreshAfterWrite().isPresent() ? new Refresher<>(this, loads) : null;
    this.undoWarnings = new WarningLimiter(config.ticker(), Refresher.WARNING_INTERVAL);
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

  /** Closes the cache once: marks it closed, runs {@link #release()}, then tells the manager. */
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
      V present = get(key);
      return present != null ? present : load(key, loader);
    }
    Written<V> written = getWritten(key);
    if (written == null) {
      return load(key, loader);
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
   * Returns the live value of {@code key} with its write time, counting a hit or a miss as
   * {@link #get(Object)} does, or {@code null}. Called instead of {@code get(key)} by
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
   * How long a miss waits for a reload of its key that the executor has not started, before it
   * loads the key itself (the executor may have dropped the reload).
   */
  static final Duration QUEUED_RELOAD_PATIENCE = Duration.ofSeconds(1);

  private @Nullable V load(K key, Function<? super K, ? extends @Nullable V> loader) {
    Load<V> mine = new Load<>(Thread.currentThread());
    for (Load<V> theirs; (theirs = loads.putIfAbsent(key, mine)) != null; ) {
      if (theirs.owner() == Thread.currentThread()) {
        throw new IllegalStateException(
            "recursive load of key '" + key + "' in cache '" + name() + "': the loader asked for its own key");
      }
      if (theirs.owner() == null && !awaitQueuedReload(key, theirs, System.nanoTime() + QUEUED_RELOAD_PATIENCE.toNanos())) {
        // A reload the executor has not started after all that time: it may never run it (a
        // discarding policy). This miss takes it over and loads the key itself; if it started
        // meanwhile, the claim fails and it is waited for as any load.
        if (theirs.claim() && loads.replace(key, theirs, mine)) {
          break;
        }
        continue;
      }
      if (!theirs.isVoid()) {
        return await(key, theirs);
      }
      // A removal overtook that load (perhaps this caller's own, just before): its value may be
      // older than the removal, so wait for it to end and load afresh; the same for a reload taken
      // over before it started, which has no value. Its owner takes it out of the map only after
      // completing it (a bulk load after storing every key): done here too, so this caller does
      // not spin on it meanwhile.
      awaitEnd(key, theirs);
      loads.remove(key, theirs);
    }
    try {
      V raced = getQuietly(key);
      if (raced != null) {
        mine.future.complete(raced);
        return raced;
      }
      Ticker ticker = config.ticker();
      long start = ticker.read();
      V loaded;
      try {
        loaded = loader.apply(key);
      } catch (Error e) {
        stats.recordLoadFailure(ticker.read() - start);
        throw e;
      } catch (Throwable e) { // an exception, or a checked one thrown around the compiler (Kotlin, Lombok)
        stats.recordLoadFailure(ticker.read() - start);
        restoreInterrupt(e);
        throw loadFailure(key, e);
      }
      if (loaded == null) {
        stats.recordLoadFailure(ticker.read() - start);
        mine.future.complete(null);
        return null;
      }
      stats.recordLoadSuccess(ticker.read() - start);
      V winner = storeUnlessWritten(key, mine, loaded);
      undoIfRemoved(key, mine, loaded, winner);
      mine.future.complete(winner);
      return winner;
    } catch (Error e) {
      mine.future.completeExceptionally(loadFailure(key, e));
      throw e; // as itself to the thread that ran the loader; wrapped for the waiters
    } catch (RuntimeException e) {
      // The loader's own failure, already wrapped, or the backend's (an outage while looking or
      // storing), which every caller gets as it is.
      mine.future.completeExceptionally(e);
      throw e;
    } catch (Throwable t) { // a checked exception thrown around the compiler by a backend hook
      CacheLoadException failure = loadFailure(key, t);
      mine.future.completeExceptionally(failure);
      throw failure;
    } finally {
      // Never leave a waiter waiting: whatever ended the load has completed it, or does now.
      mine.future.completeExceptionally(
          new CacheLoadException("the load of key '" + key + "' into cache '" + name() + "' ended without an outcome", null));
      loads.remove(key, mine);
    }
  }

  /**
   * Stores {@code loaded} by {@link #storeLoaded} and returns the value the key now holds, unless
   * the key was written while {@code load} ran ({@link #writing}): then the written value wins,
   * or, if it is gone again (evicted, expired), nothing is stored and the loaded value is only
   * handed to the load's callers. Checked before the store, so a write's own value is never
   * undone: a write that marks the load after the check lands over the stored value.
   */
  V storeUnlessWritten(K key, Load<V> load, V loaded) {
    if (!load.written) {
      return storeLoaded(key, loaded);
    }
    V current = getQuietly(key);
    return current != null ? current : loaded;
  }

  /**
   * Removes a value just stored by a load that a removal of its key overtook ({@link #removing}):
   * the value was read before the removal, so it must not outlive it. The callers of the load still
   * get it (the load ran before the removal). Checked after the store, and the flag set before the
   * removal, so either the removal deletes the stored value or this sees the flag.
   */
  void undoIfRemoved(K key, Load<V> load, V loaded, V winner) {
    undoIfRemoved(key, load.removed, loaded, winner);
  }

  private void undoIfRemoved(K key, boolean removed, V loaded, V winner) {
    if (removed && winner == loaded && !isClosed()) {
      try {
        remove(key, loaded);
      } catch (RuntimeException e) {
        // The callers still get the value, which the load read before the removal; it stays
        // cached until it expires or is removed again.
        long suppressed = isClosed() ? -1 : undoWarnings.tryAcquire();
        if (suppressed >= 0) {
          log.warn("Cache '{}' could not remove the value of key '{}' loaded before a removal"
              + " ({} more such failures were not logged in the last {} s)",
              name(), key, suppressed, Refresher.WARNING_INTERVAL.toSeconds(), e);
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
  protected final void removing(K key) {
    removalsBegun.incrementAndGet();
    Load<V> load = loads.get(key);
    if (load != null) {
      load.removed = true;
    }
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
    Load<V> load = loads.get(key);
    if (load != null) {
      load.written = true;
    }
  }

  /** {@link #removing} for every load in flight; a backend calls it at the start of {@code clear()}. */
  protected final void clearing() {
    removalsBegun.incrementAndGet();
    for (Load<V> load : loads.values()) {
      load.removed = true;
    }
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
          "interrupted while waiting for a reload of key '" + key + "' in cache '" + name() + "'", e);
    }
  }

  /** Waits, interruptibly, until another caller's load of {@code key} has ended, whatever its outcome. */
  private void awaitEnd(K key, Load<V> theirs) {
    try {
      theirs.future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheLoadException(
          "interrupted while waiting for another caller to load key '" + key + "' into cache '" + name() + "'", e);
    } catch (ExecutionException e) {
      // Its outcome is not this caller's: it loads afresh.
    }
  }

  /** Waits, interruptibly, for another caller's load of {@code key}. */
  private @Nullable V await(K key, Load<V> theirs) {
    try {
      return theirs.future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheLoadException(
          "interrupted while waiting for another caller to load key '" + key + "' into cache '" + name() + "'", e);
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
      throw loadFailure(key, cause);
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

  /**
   * Wraps a loader failure in a {@link CacheLoadException} naming the key and the cache, keeping
   * one that already is.
   */
  protected final CacheLoadException loadFailure(K key, Throwable cause) {
    if (cause instanceof CacheLoadException e) {
      return e;
    }
    return new CacheLoadException(
        "loading key '" + key + "' into cache '" + name() + "' failed: " + cause, cause);
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
    Map<K, V> found = getAll(wanted);
    Map<K, Load<V>> mine = new LinkedHashMap<>();
    Map<K, Load<V>> theirs = new LinkedHashMap<>();
    try {
      for (K key : wanted) {
        if (found.containsKey(key)) {
          continue;
        }
        Load<V> load = new Load<>(Thread.currentThread());
        Load<V> other = loads.putIfAbsent(key, load);
        if (other == null) {
          mine.put(key, load);
        } else if (other.owner() == Thread.currentThread()) {
          throw new IllegalStateException(
              "recursive load of key '" + key + "' in cache '" + name() + "': the loader asked for its own key");
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
        load.future.completeExceptionally(new CacheLoadException(
            "the bulk load of key '" + key + "' into cache '" + name() + "' did not finish", null));
        loads.remove(key, load);
      });
    }
    long patience = System.nanoTime() + QUEUED_RELOAD_PATIENCE.toNanos(); // one for the whole call
    theirs.forEach((key, load) -> {
      if (load.owner() == null && !awaitQueuedReload(key, load, patience) && load.claim()) {
        // A reload the executor never started (see load): this caller loads the key itself.
        loads.remove(key, load);
        V value = load(key, k -> {
          Map<? extends K, ? extends V> one = bulkLoader.apply(Set.of(k));
          return one == null ? null : one.get(k);
        });
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
        loads.remove(key, load);
        value = load(key, k -> {
          Map<? extends K, ? extends V> one = bulkLoader.apply(Set.of(k));
          return one == null ? null : one.get(k);
        });
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
      V raced = getQuietly(entry.getKey());
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
    Ticker ticker = config.ticker();
    long start = ticker.read();
    long removalsBefore = removalsBegun.get();
    Map<? extends K, ? extends V> loaded;
    try {
      loaded = bulkLoader.apply(Collections.unmodifiableSet(toLoad));
    } catch (Error e) {
      stats.recordLoadFailure(ticker.read() - start);
      CacheLoadException failure = bulkFailure(toLoad, e);
      toLoad.forEach(key -> mine.get(key).future.completeExceptionally(failure));
      throw e;
    } catch (Throwable e) { // an exception, or a checked one thrown around the compiler
      stats.recordLoadFailure(ticker.read() - start);
      restoreInterrupt(e);
      CacheLoadException failure = bulkFailure(toLoad, e);
      toLoad.forEach(key -> mine.get(key).future.completeExceptionally(failure));
      throw failure;
    }
    if (loaded == null) {
      stats.recordLoadFailure(ticker.read() - start);
      CacheLoadException failure = bulkFailure(toLoad, new NullPointerException("the bulk loader returned null"));
      toLoad.forEach(key -> mine.get(key).future.completeExceptionally(failure));
      throw failure;
    }
    for (Map.Entry<? extends K, ? extends V> entry : loaded.entrySet()) {
      // Checked before anything is stored: a bad map stores nothing and fails every caller alike.
      String bad = entry.getKey() == null ? "a null key"
          : entry.getValue() == null ? "a null value for key '" + entry.getKey() + "'" : null;
      if (bad != null) {
        stats.recordLoadFailure(ticker.read() - start);
        CacheLoadException failure = bulkFailure(toLoad, new NullPointerException("the bulk loader returned " + bad));
        toLoad.forEach(key -> mine.get(key).future.completeExceptionally(failure));
        throw failure;
      }
    }
    stats.recordLoadSuccess(ticker.read() - start);
    try {
      for (Map.Entry<? extends K, ? extends V> entry : loaded.entrySet()) {
        K key = entry.getKey();
        V value = entry.getValue();
        Load<V> load = mine.get(key);
        V winner = load != null ? storeUnlessWritten(key, load, value) : storeLoaded(key, value);
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
        "loading " + keys.size() + " key(s) into cache '" + name() + "' failed: " + cause, cause);
  }

  /** Returns the present values for {@code keys}, one {@link #get(Object)} each; backends may batch. */
  @Override
  public Map<K, V> getAll(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    checkOpen();
    Map<K, V> result = new LinkedHashMap<>();
    for (K key : keys) {
      V value = get(requireNonNull(key, "keys contains null"));
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
