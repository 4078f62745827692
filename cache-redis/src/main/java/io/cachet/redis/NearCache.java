package io.cachet.redis;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.codec.Codec;
import io.cachet.local.LocalCacheProvider;
import io.cachet.spi.BackendMetric;
import io.cachet.Ticker;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The near-cache protocol of one Redis cache: which values (and absences) read from Redis may be
 * served locally, and when they stop being so.
 *
 * <h2>Coherence protocol</h2>
 *
 * Near entries are {@link NearEntry} with the <em>epoch</em> in which their read was registered. The
 * epoch changes whenever the client's tracking goes down or comes up (and on a flush), and a near
 * entry is served only while tracking is up ({@code coherent}) and its stamp equals the current
 * epoch. So a disconnect flushes the whole near cache in O(1), and nothing cached before it is
 * served again without re-reading Redis; the stale copies stay only for {@code serveStaleOnError}.
 *
 * <p>A read that misses registers a {@link NearLoad} for its key in {@code loads} <em>before</em>
 * sending {@code GET}; concurrent misses on the key share it (single-flight). An invalidation of
 * the key raises the registered load's flag and then removes the near entry. The flag lives in the
 * load's own {@link NearEntry} entry, the very object the load stores (unless the flag is already
 * raised or the epoch moved), and a near entry whose flag is raised is never served. So whatever
 * the interleaving, once an invalidation has been processed, no value read before it is served
 * from the near cache.
 * Absences (Redis had no such key) are kept in a second store under exactly the same rules, with
 * their own maximum age. CONCURRENCY.md has the full argument.
 *
 * <h2>Counting</h2>
 *
 * A near hit adds to one counter, this class's own: {@code cache.near.hits} and the cache's hit
 * and miss statistics are derived from it, so the facade counts nothing on a near hit, and the
 * stores ({@link LocalCacheProvider#createNearStore}) count evictions, not reads. (Deriving the
 * hits from the stores' hit counts, less the entries found stale, could not be exact under
 * concurrency: the two counts cannot be read at once.)
 *
 * <p>Thread-safe: callers, Redisson's event loops and the tracking hub's threads call in at once;
 * nothing here blocks or waits for another thread.
 */
final class NearCache<K, V> {

  private static final Logger log = LoggerFactory.getLogger(NearCache.class);
  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
  /** A read that took longer than this gets its maximum age as a deadline ({@link #ageBound}): 1 ms. */
  static final long SLOW_READ_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  /** Maximum ages from this on are not bounded per read: 2^62 ns, about 146 years. */
  private static final long MAX_AGE_BOUNDED = 1L << 62;

  /**
   * Points where a test may hold or observe a read; every method does nothing by default, so reads
   * continue inline. Implementations must never block (they run on Redisson's event loops).
   */
  interface Hooks {
    /** No hooks. */
    Hooks NONE = new Hooks() {};

    /** A stage the read of {@code key} waits for between Redis's reply (or failure) and completing. */
    default CompletionStage<?> beforeCaching(Object key) {
      return DONE;
    }

    /** Run by a load that stores its value, after its checks passed, just before the store. */
    default void beforeNearPut(Object key) {}

    /** Run just after that store. */
    default void afterNearPut(Object key) {}
  }

  private final String name;
  private final RedisOptions options;
  private final Codec<K> keyCodec;
  private final byte[] prefix;
  private final Ticker ticker;
  /** {@code nearCacheMaxAge} and the absences' maximum age, in nanoseconds (saturated). */
  private final long valuesMaxAgeNanos;
  private final long absentMaxAgeNanos;
  private final Cache<K, NearEntry<V>> values;
  private final @Nullable Cache<K, NearEntry<V>> absent;
  private final ConcurrentHashMap<K, NearLoad<V>> loads = new ConcurrentHashMap<>();
  private final AtomicLong epoch = new AtomicLong();
  /**
   * The epoch a FLUSHALL or FLUSHDB began: no copy from before it is served, not even stale on an
   * error ({@link #staleCopy}), though the stores may still hold it until the executor empties them.
   */
  private volatile long staleFloor;
  private final AtomicBoolean warnedFallback = new AtomicBoolean();
  private final LongAdder valueHits = new LongAdder();
  private final LongAdder absentHits = new LongAdder();
  /** Near hits that answered "absent" to a {@code get(key, loader)}, whose load counts the read. */
  private final LongAdder absentHitsBeforeLoads = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder invalidations = new LongAdder();
  private final LongAdder flushes = new LongAdder();
  private final boolean expiryOnly;
  /** Runs {@link #clearLater}'s clear: the cache's executor. */
  private final Executor executor;
  private volatile boolean coherent;
  private volatile boolean tracking;
  private volatile boolean fallback;
  private volatile boolean closed;
  private volatile Hooks hooks = Hooks.NONE;

  /**
   * @param storeTicker the stores' clock for the maximum ages: a {@link CoarseTicker} with the
   *     system ticker, else the cache's own ticker (a test's fake one)
   */
  NearCache(CacheConfig<K, V> config, RedisOptions options, Codec<K> keyCodec, byte[] prefix, boolean tracked,
      Ticker storeTicker) {
    this.name = config.name();
    this.options = options;
    this.keyCodec = keyCodec;
    this.prefix = prefix;
    this.ticker = config.ticker();
    this.executor = config.executor();
    this.values = store(config, "-near", NearEntry.<V>type(), options.nearCacheMaxAge(), storeTicker);
    // An absence is a near entry like a value: never trusted past nearCacheMaxAge either.
    Duration absentMaxAge = min(options.negativeCacheMaxAge(), options.nearCacheMaxAge());
    this.valuesMaxAgeNanos = saturatedNanos(options.nearCacheMaxAge());
    this.absentMaxAgeNanos = saturatedNanos(absentMaxAge);
    this.absent = absentMaxAge.isZero() ? null
        : store(config, "-absent", NearEntry.<V>type(), absentMaxAge, storeTicker);
    this.expiryOnly = !tracked;
    this.coherent = !tracked;
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static <K, T> Cache<K, T> store(CacheConfig<K, ?> config, String suffix, Class<T> type, Duration maxAge,
      Ticker ticker) {
    return LocalCacheProvider.createNearStore(
        CacheConfig.builder(config.name() + suffix)
            .keyType(config.keyType())
            .valueType(type)
            .maximumSize(config.maximumSize())
            .evictionPolicy(config.evictionPolicy())
            .expireAfterWrite(maxAge)
            .perEntryTtl(false)
            .ticker(ticker)
            .executor(config.executor())
            .build());
  }

  // ------------------------------------------------------------ lookups

  /** The fresh near value of {@code key}, counting a near hit; null if none. */
  @Nullable NearEntry<V> lookup(K key) {
    NearEntry<V> stamped = values.get(key);
    if (stamped != null && isFresh(stamped)) {
      valueHits.increment();
      return stamped;
    }
    return null;
  }

  /**
   * As {@link #lookup}, for a read that needs the key's write time: an entry whose deadline is its
   * read's maximum age, not its TTL, is not answered (nor counted), so the caller reads Redis.
   */
  @Nullable NearEntry<V> lookupWithTtl(K key) {
    NearEntry<V> stamped = values.get(key);
    if (stamped != null && stamped.deadlineIsTtl() && isFresh(stamped)) {
      valueHits.increment();
      return stamped;
    }
    return null;
  }

  /**
   * Whether {@code key} is fresh-known absent (a near hit, counted as {@link #absentHits}, and a
   * miss of the cache); if not, counts a near miss.
   */
  boolean lookupAbsent(K key) {
    return lookupAbsent(key, true);
  }

  /**
   * As {@link #lookupAbsent(Object)}; {@code countsAsMiss} false for {@code get(key, loader)}'s
   * lookup, whose load counts the cache's hit or miss: the near hit is counted all the same.
   */
  boolean lookupAbsent(K key, boolean countsAsMiss) {
    if (knownAbsent(key)) {
      (countsAsMiss ? absentHits : absentHitsBeforeLoads).increment();
      return true;
    }
    misses.increment();
    return false;
  }

  private boolean knownAbsent(K key) {
    if (absent == null) {
      return false;
    }
    NearEntry<V> marker = absent.get(key);
    return marker != null && isFresh(marker);
  }

  private boolean isFresh(NearEntry<V> stamped) {
    return coherent
        && stamped.epoch == epoch.get()
        && !stamped.invalidated
        && beforeRedisDeadline(stamped);
  }

  private boolean beforeRedisDeadline(NearEntry<V> stamped) {
    long deadline = stamped.deadline();
    return deadline == Long.MAX_VALUE || ticker.read() - deadline < 0;
  }

  /** Near hits that answered a value. */
  long valueHits() {
    return valueHits.sum();
  }

  /** Near hits that answered "absent". */
  long absentHits() {
    return absentHits.sum() + absentHitsBeforeLoads.sum();
  }

  /** Near hits that answered "absent" and count as misses of the cache: all but those a load followed. */
  long absentMisses() {
    return absentHits.sum();
  }

  /**
   * The near copy of {@code key} as it stands <em>now</em>, even unverified, if not removed or
   * flagged by an invalidation or a write of this process, not from before a flush, and within its
   * Redis TTL; for {@code serveStaleOnError}.
   */
  @Nullable NearEntry<V> staleCopy(K key) {
    NearEntry<V> copy;
    try {
      copy = values.get(key);
    } catch (IllegalStateException e) {
      return null; // closed
    }
    return copy != null && !copy.invalidated && copy.epoch >= staleFloor && beforeRedisDeadline(copy) ? copy : null;
  }

  // ------------------------------------------------------------ loads

  /** A new read of one key, stamped with the current epoch. */
  NearLoad<V> newLoad() {
    return new NearLoad<>(epoch.get(), coherent);
  }

  /**
   * Registers {@code mine} as the in-flight read of {@code key}, or returns the read already in
   * flight to join. A read that an invalidation has flagged is not joined: it may return a value
   * older than a write whose invalidation this caller has already seen, so {@code mine} replaces it
   * (its own callers still get its result). Nor is a read registered in another epoch or while
   * invalidations were not received (not cacheable): a write acknowledged before this caller
   * started may have had its invalidation lost, and no flag would show it.
   *
   * <p>A replaced read is flagged first, whichever of the two is older: once out of {@link #loads}
   * an invalidation can no longer flag it, so it must not store its answer. (Without this, an
   * older read registering after a newer one of the next epoch would unregister that newer read,
   * which would then cache an answer from before a write whose invalidation it never saw.)
   */
  @Nullable NearLoad<V> register(K key, NearLoad<V> mine) {
    while (true) {
      NearLoad<V> theirs = loads.putIfAbsent(key, mine);
      if (theirs == null) {
        return null;
      }
      if (joinable(theirs, mine)) {
        return theirs;
      }
      theirs.entry.invalidated = true; // caches nothing more: its callers still get its answer
      if (loads.replace(key, theirs, mine)) {
        return null;
      }
    }
  }

  private static boolean joinable(NearLoad<?> theirs, NearLoad<?> mine) {
    return !theirs.entry.invalidated && theirs.cacheable && mine.cacheable && theirs.entry.epoch == mine.entry.epoch;
  }

  /** Removes {@code load} as {@code key}'s in-flight read, if it still is. */
  void deregister(K key, NearLoad<V> load) {
    loads.remove(key, load);
  }

  /** The stage a read waits for before completing (a test hook; normally already complete). */
  CompletionStage<?> beforeCaching(Object key) {
    try {
      return hooks.beforeCaching(key);
    } catch (RuntimeException e) {
      return DONE;
    }
  }

  /**
   * Stores {@code value} unless an invalidation or an epoch change got there first, in the load's
   * own entry (its epoch and flag), with the ticker reading at which its key expires in Redis:
   * {@code pttl} milliseconds after {@code start}, the reading taken before the read was sent; or,
   * for a slow read, the reading at which its maximum age runs out, if sooner ({@link #ageBound}).
   */
  void storeValue(K key, NearLoad<V> load, V value, @Nullable Object pttl, long start) {
    if (pttl instanceof Long ms && ms == -2) {
      return; // deleted between GET and PTTL: its invalidation is on its way; cache nothing
    }
    long ttlDeadline = redisDeadline(pttl, start);
    long deadline = ageBound(ttlDeadline, start, valuesMaxAgeNanos);
    store(values, key, load, value, deadline, deadline != ttlDeadline);
  }

  /**
   * A read's entry must not be served past its maximum age counted from {@code start}, when the
   * read was sent. The store counts the age from when the entry is stored, which comes later by the
   * read's own time: up to the command timeout for a slow reply. A read that took longer than
   * {@link #SLOW_READ_NANOS} therefore gets a deadline at {@code start} plus the maximum age (if
   * sooner than its key's own), checked on each hit against the cache's ticker like a TTL. A faster
   * one adds no more than the age's sampled clock already may, and costs its hits nothing.
   */
  private long ageBound(long deadline, long start, long maxAgeNanos) {
    if (ticker.read() - start <= SLOW_READ_NANOS) {
      return deadline;
    }
    if (maxAgeNanos >= MAX_AGE_BOUNDED) {
      return deadline; // about 146 years or more: never reached
    }
    long byAge = start + maxAgeNanos; // compared by difference, as the ticker may wrap
    if (byAge == Long.MAX_VALUE) {
      byAge--; // MAX_VALUE means "no deadline"
    }
    return deadline == Long.MAX_VALUE || byAge - deadline < 0 ? byAge : deadline;
  }

  /**
   * The ticker reading at which a key expires in Redis, {@code pttl} milliseconds after
   * {@code start}; {@code Long.MAX_VALUE} for a key without a TTL (or none known).
   */
  static long redisDeadline(@Nullable Object pttl, long start) {
    if (pttl instanceof Long ms && ms >= 0) {
      // The key expires in Redis ms after Redis answered PTTL, which was after we sent it at
      // start: a deadline counted from start never outlives the key.
      return start + TimeUnit.MILLISECONDS.toNanos(ms);
    }
    return Long.MAX_VALUE;
  }

  /** Remembers that Redis had no {@code key}, under the same rules as {@link #storeValue}. */
  void storeAbsent(K key, NearLoad<V> load, long start) {
    if (absent != null) {
      long deadline = ageBound(Long.MAX_VALUE, start, absentMaxAgeNanos);
      store(absent, key, load, null, deadline, deadline != Long.MAX_VALUE);
    }
  }

  /** Publishes the load's entry in {@code store}; a load stores once, so the entry is never changed after. */
  private void store(Cache<K, NearEntry<V>> store, K key, NearLoad<V> load, @Nullable V value, long deadline,
      boolean ageBounded) {
    NearEntry<V> entry = load.entry;
    if (!load.cacheable || entry.invalidated || entry.epoch != epoch.get() || !coherent || closed) {
      return;
    }
    try {
      Hooks current = hooks;
      current.beforeNearPut(key);
      entry.set(value, deadline, ageBounded);
      store.put(key, entry); // publishes what was set
      current.afterNearPut(key);
    } catch (RuntimeException e) {
      if (!closed) {
        log.warn("Cache '{}' could not store a value read from Redis in its near cache", name, e);
      }
    }
  }

  // ------------------------------------------------------------ invalidation

  /**
   * Forgets {@code key} locally: raises the flag of its registered read (so whatever that read
   * stores, before or after, is never served), then removes the near entries (which takes out what
   * a read that already deregistered stored). Never throws: it runs in callbacks whose futures
   * must complete, even after close.
   */
  void invalidate(K key) {
    NearLoad<V> load = loads.get(key);
    if (load != null) {
      load.entry.invalidated = true;
    }
    try {
      values.remove(key);
      if (absent != null) {
        absent.remove(key);
      }
    } catch (RuntimeException e) {
      if (!closed) {
        log.warn("Cache '{}' could not remove a key from its near cache", name, e);
      }
    }
  }

  /**
   * Forgets every key locally. The epoch moves first: every near entry and every read registered
   * before, whenever it stores, carries an older epoch and is never served as fresh.
   */
  void invalidateAll() {
    epoch.incrementAndGet();
    flagLoads();
    clear();
  }

  /**
   * Frees the near stores on the cache's executor. For a loss of tracking: the epoch has moved, so
   * nothing stored is served any more, and the caller (Redisson's I/O thread, under the hub's
   * lock) must not wait for a store of a million entries to be emptied.
   */
  private void clearLater() {
    try {
      executor.execute(this::clear);
    } catch (RuntimeException e) { // rejected, or an executor failing otherwise: never fail down()
      clear();
    }
  }

  private void flagLoads() {
    for (NearLoad<V> load : loads.values()) {
      load.entry.invalidated = true;
    }
  }

  private void clear() {
    try {
      values.clear();
      if (absent != null) {
        absent.clear();
      }
    } catch (RuntimeException e) {
      if (!closed) {
        log.warn("Cache '{}' could not clear its near cache", name, e);
      }
    }
  }

  // ------------------------------------------------------------ what the tracking hub says

  /** The listener to register with the client's tracking hub. */
  TrackingHub.Listener listener() {
    return listener;
  }

  private final TrackingHub.Listener listener = new TrackingHub.Listener() {
    @Override
    public void up() {
      epoch.incrementAndGet();
      coherent = true;
      tracking = true;
      log.debug("Cache '{}' receives invalidations from every primary of {}", name, options.address());
    }

    @Override
    public void down(Throwable cause) {
      boolean wasCoherent = coherent;
      tracking = false;
      coherent = false;
      epoch.incrementAndGet();
      flagLoads();
      if (!options.serveStaleOnError()) {
        clearLater();
      }
      if (wasCoherent) {
        flushes.increment();
      }
    }

    @Override
    public void invalidate(byte[] redisKey) {
      if (!TrackingHub.startsWith(redisKey, prefix)) {
        return;
      }
      K key;
      try {
        key = keyCodec.decode(Arrays.copyOfRange(redisKey, prefix.length, redisKey.length));
      } catch (RuntimeException e) {
        return; // not a key this cache can hold
      }
      if (key == null) {
        return; // a codec's answer for bytes that are no key: none this cache holds
      }
      NearCache.this.invalidate(key);
      invalidations.increment(); // after: the metric says the invalidation was applied
    }

    /**
     * A FLUSHALL or FLUSHDB: the epoch moves here, so nothing stored is served any more; the stores
     * are emptied on the cache's executor, so that the client's other caches, told after this one
     * on the same thread, are not kept waiting while a large store empties.
     */
    @Override
    public void invalidateAll() {
      staleFloor = epoch.incrementAndGet();
      flagLoads();
      clearLater();
      invalidations.increment();
      flushes.increment();
    }

    @Override
    public void unsupported(String reason) {
      epoch.incrementAndGet();
      coherent = true;
      fallback = true; // last: whoever sees it also sees the near cache in use
      if (warnedFallback.compareAndSet(false, true)) {
        log.warn(
            "Redis at {} does not support client tracking ({}); cache '{}' falls back to expiry-only coherence: "
                + "near copies may be stale for up to nearCacheMaxAge={}",
            options.address(), reason, name, options.nearCacheMaxAge());
      }
    }
  };

  // ------------------------------------------------------------ size, metrics, close

  long estimatedSize() {
    return values.estimatedSize();
  }

  long evictionCount() {
    return values.stats().evictionCount();
  }

  boolean isCoherent() {
    return coherent;
  }

  boolean isFallback() {
    return fallback;
  }

  void hooks(Hooks hooks) {
    this.hooks = hooks;
  }

  /** The value served for {@code key} now, without counting or reading Redis; for tests. */
  @Nullable V peek(K key) {
    NearEntry<V> stamped = values.get(key);
    return stamped != null && isFresh(stamped) ? stamped.value() : null;
  }

  /** Whether {@code key} is remembered as absent now, without counting; for tests. */
  boolean peekAbsent(K key) {
    return knownAbsent(key);
  }

  List<BackendMetric> metrics() {
    return List.of(
        new BackendMetric("cache.near.hits", "Reads answered by the near cache", BackendMetric.Kind.COUNTER, () -> valueHits() + absentHits()),
        new BackendMetric("cache.near.absent.hits", "Reads answered by the near cache's record that Redis has no such key", BackendMetric.Kind.COUNTER, this::absentHits),
        new BackendMetric("cache.near.misses", "Reads the near cache could not answer", BackendMetric.Kind.COUNTER, misses::sum),
        new BackendMetric("cache.near.invalidations", "Invalidations received from Redis for this cache's keys", BackendMetric.Kind.COUNTER, invalidations::sum),
        new BackendMetric("cache.near.flushes", "Times the near cache was flushed because invalidations may have been lost", BackendMetric.Kind.COUNTER, flushes::sum),
        new BackendMetric("cache.near.tracking", "1 while invalidations are being received, 0 otherwise", BackendMetric.Kind.GAUGE, () -> tracking ? 1 : 0),
        new BackendMetric("cache.near.expiry.only", "1 when the near cache relies on expiry alone (configured, or Redis refused tracking)", BackendMetric.Kind.GAUGE, () -> expiryOnly || fallback ? 1 : 0));
  }

  void close() {
    closed = true;
    try {
      values.close();
    } finally {
      if (absent != null) {
        absent.close();
      }
    }
  }

  // ------------------------------------------------------------ types
}
