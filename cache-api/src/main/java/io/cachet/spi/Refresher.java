package io.cachet.spi;

import io.cachet.CacheConfig;
import io.cachet.CacheLoadException;
import io.cachet.Ticker;
import io.cachet.spi.AbstractCache.Written;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background reloads of one cache with {@link CacheConfig#refreshAfterWrite()} set.
 *
 * <p>A stale entry's reload is registered in the cache's map of loads before it is handed to the
 * executor, so that per key at most one load or reload runs: a second stale read finds it and
 * starts nothing, and a {@code get(key, loader)} that misses meanwhile waits for it instead of
 * calling its own loader. The reload stores its value only through the cache's conditional replace
 * and completes the registered load with the value it loaded (the waiters' answer, stored or not),
 * an exception, or {@code null}, before deregistering it. A failure keeps the old value, counts as
 * a load failure and is logged through a {@link WarningLimiter}. Thread-safe.
 */
final class Refresher<K, V> {

  private static final Logger log = LoggerFactory.getLogger(Refresher.class);

  /** The least time between two WARN lines about failed reloads of one cache. */
  static final Duration WARNING_INTERVAL = Duration.ofSeconds(10);

  private final AbstractCache<K, V> cache;
  /** The least time a reload queued without starting is taken as in flight (see {@code stalledNanos}). */
  static final Duration STALLED_RELOAD = Duration.ofMinutes(1);

  /** The cache's loads: this registers its reloads among them. */
  private final Loads<K, V> owner;
  private final ConcurrentHashMap<K, Load<V>> loads;
  private final Ticker ticker;
  private final long refreshNanos;
  /**
   * How long a reload may stay queued without starting before a stale read takes it for dropped
   * and queues another: the refresh interval, and at least {@link #STALLED_RELOAD}, so that a
   * busy executor with a short interval is not handed a new reload of every hot key each time.
   */
  private final long stalledNanos;
  private final WarningLimiter warnings;
  /** Reloads queued since the last sweep for dropped ones ({@link #sweepDropped}). */
  private final AtomicInteger queuedSinceSweep = new AtomicInteger();
  /** Reloads queued between two sweeps for dropped ones. */
  static final int SWEEP_EVERY = 1024;

  Refresher(AbstractCache<K, V> cache, Loads<K, V> loads) {
    CacheConfig<K, V> config = cache.config;
    this.cache = cache;
    this.owner = loads;
    this.loads = loads.inFlight();
    this.ticker = config.ticker();
    this.refreshNanos = Checks.saturatedNanos(config.refreshAfterWrite().orElseThrow());
    this.stalledNanos = Math.max(refreshNanos, STALLED_RELOAD.toNanos());
    this.warnings = new WarningLimiter(ticker, WARNING_INTERVAL);
  }

  /**
   * Starts a reload of {@code key} with {@code loader} if {@code read} is older than the refresh
   * interval and no load or reload of the key is in flight; returns at once.
   */
  void refreshIfStale(K key, Written<V> read, Function<? super K, ? extends @Nullable V> loader) {
    if (read.writeTime() == Long.MAX_VALUE || ticker.read() - read.writeTime() < refreshNanos) {
      return;
    }
    Load<V> mine = new Load<>(null);
    mine.queuedAt = ticker.read();
    Load<V> theirs = loads.putIfAbsent(key, mine);
    if (theirs != null
        && (theirs.owner() != null || ticker.read() - theirs.queuedAt < stalledNanos
            || !theirs.claim() || !loads.replace(key, theirs, mine))) {
      return; // a load or another reload of the key is in flight
    }
    // else: a reload queued that long ago and never started (the executor dropped it): this one
    // takes its place, and the old one does nothing if it ever starts.
    if (queuedSinceSweep.incrementAndGet() >= SWEEP_EVERY) {
      queuedSinceSweep.set(0);
      sweepDropped();
    }
    try {
      cache.config.executor().execute(() -> reload(key, read, loader, mine));
    } catch (Throwable e) { // rejected, or an Error (no thread could be started): never left in flight
      if (mine.owner() != null) {
        // The executor ran the reload on this thread (Runnable::run, a caller-runs policy), which
        // counted and logged its own failure: only its Error is left to pass on.
        if (e instanceof Error error) {
          throw error;
        }
        return;
      }
      // Taken over as a dropped reload would be: a miss that waits for it loads the key itself
      // rather than fail for a reload it did not ask for. (If a miss took it over first, it is.)
      mine.claim();
      loads.remove(key, mine);
      cache.stats.recordLoadFailure(0);
      warn(key, new CacheLoadException(
          "the executor of cache '" + cache.name() + "' did not take the reload of key '" + Load.describe(key) + "'", e));
      if (e instanceof Error error) {
        throw error;
      }
    }
  }

  /**
   * Takes out of the map the reloads queued longer than {@code stalledNanos} that never started:
   * an executor that drops tasks would otherwise leave one per key read while stale, for keys that
   * may never be read again (evicted since). A cost of one pass over the loads in flight, every
   * {@value #SWEEP_EVERY} reloads queued.
   */
  void sweepDropped() {
    long now = ticker.read();
    for (Map.Entry<K, Load<V>> entry : loads.entrySet()) {
      Load<V> load = entry.getValue();
      if (load.owner() == null && now - load.queuedAt >= stalledNanos) {
        owner.dropIfQueued(entry.getKey(), load);
      }
    }
  }

  private void reload(K key, Written<V> read, Function<? super K, ? extends @Nullable V> loader, Load<V> mine) {
    if (!mine.start(Thread.currentThread())) {
      return; // taken over while it waited for the executor (Load.claim): a caller loads the key
    }
    long start = ticker.read();
    try {
      V loaded;
      try {
        loaded = loader.apply(key);
      } catch (Throwable e) { // an exception, an Error, or a checked one thrown around the compiler
        cache.stats.recordLoadFailure(ticker.read() - start);
        Loads.restoreInterrupt(e); // for the executor's thread, as for a caller's
        CacheLoadException failure = cache.loadFailure(key, e);
        warn(key, failure);
        mine.future.completeExceptionally(failure);
        if (e instanceof Error error) {
          throw error; // to the executor's thread, after the old value was kept and the load completed
        }
        return;
      }
      if (loaded == null) {
        // No value now: the old one stays until it expires (a read never turns into a removal).
        cache.stats.recordLoadFailure(ticker.read() - start);
        log.debug("Reload of key '{}' in cache '{}' returned null; the old value stays", key, cache.name());
        mine.future.complete(null);
        return;
      }
      cache.stats.recordLoadSuccess(ticker.read() - start);
      V shared = loaded;
      if (!cache.isClosed()) {
        try {
          if (!cache.replaceReloaded(key, read, loaded)) {
            // The entry changed or left meanwhile. A miss may be waiting for this reload: it gets
            // the value written meanwhile if there is one. Else, on a local backend, where an entry
            // that left without a removal was evicted or expired, the reloaded value is stored as
            // a miss's own load would store it; on a remote one another process may have removed
            // the key, so it is only handed to the waiters, as after a removal here.
            V current = cache.getQuietly(key);
            if (current != null) {
              shared = current;
            } else if (!mine.removed && !mine.written && cache.removalsAreLocal()) {
              mine.stored = true;
              shared = cache.storeLoaded(key, loaded);
              owner.undoIfRemoved(key, mine, loaded, shared);
            }
            if (shared != loaded) {
              log.debug("Reload of key '{}' in cache '{}' discarded: the entry changed meanwhile", key, cache.name());
            }
          }
        } catch (RuntimeException e) {
          // The load worked; storing it did not (an outage, or the cache closed meanwhile).
          if (!cache.isClosed()) {
            warn(key, e);
          }
        }
      }
      mine.future.complete(shared);
    } finally {
      mine.endUnfinished("the reload", key, cache.name());
      loads.remove(key, mine);
    }
  }

  private void warn(K key, Throwable failure) {
    long suppressed = warnings.tryAcquire();
    if (suppressed >= 0) {
      log.warn("Cache '{}' could not refresh key '{}' and keeps serving its old value"
              + " ({} more refresh failures were not logged in the last {} s)",
          cache.name(), key, suppressed, WARNING_INTERVAL.toSeconds(), failure);
    }
  }
}
