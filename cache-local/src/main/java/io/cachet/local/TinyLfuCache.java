package io.cachet.local;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Policy;
import io.cachet.CacheConfig;
import io.cachet.CacheStats;
import io.cachet.RemovalCause;
import io.cachet.spi.Checks;
import java.time.Duration;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The {@code TINY_LFU} local store: a thin layer over a Caffeine cache.
 *
 * <p>Caffeine does the work (W-TinyLFU eviction, timer-wheel expiry, single-flight loads through
 * {@code get(key, mappingFunction)}); this class maps the Cachet API onto it. Per-entry TTLs use
 * Caffeine's variable expiration, where a plain write lives for {@code expireAfterWrite} and a
 * write with a TTL lives for that TTL; without per-entry TTLs the cheaper fixed
 * {@code expireAfterWrite} is used, with Caffeine's {@code expireAfterAccess} when the
 * configuration asks for an idle timeout (which needs per-entry TTLs off). Thread-safe, as
 * Caffeine is.
 *
 * <p>With {@code refreshAfterWrite}, Caffeine keeps each entry's write time: it is built as a
 * loading cache with a refresh interval that never elapses, so its nodes carry the write time
 * (only then) while Caffeine itself never refreshes nor calls its placeholder loader. An entry's
 * snapshot ({@code policy().getEntryIfPresentQuietly}) gives its value and
 * {@code refreshableAt} = write time + that interval, from which the write time is exact.
 */
final class TinyLfuCache<K, V> extends AbstractLocalCache<K, V> {

  private final com.github.benmanes.caffeine.cache.Cache<K, V> cache;
  private final ConcurrentMap<K, V> map;
  private final Policy.@Nullable VarExpiration<K, V> varExpiration;
  /** Whether this cache counts its reads; a near cache's store does not (its owner does). */
  private final boolean countReads;
  /** Set when close() drops the entries: Caffeine's executor then hands on nothing (see the constructor). */
  private volatile boolean releasing;
  /** Caffeine's refresh interval when it only keeps write times: about 146 years. */
  private static final long UNREACHED_REFRESH_NANOS = Long.MAX_VALUE / 2;


  TinyLfuCache(CacheConfig<K, V> config, Consumer<io.cachet.Cache<?, ?>> onClose, boolean countReads) {
    super(config, onClose);
    this.countReads = countReads;
    Caffeine<Object, Object> builder =
        Caffeine.newBuilder()
            .maximumSize(config.maximumSize())
            .ticker(config.ticker()::read);
    if (config.perEntryTtl()) {
      builder.expireAfter(new WriteExpiry(expireAfterWriteNanos));
    } else {
      config.expireAfterWrite().ifPresent(builder::expireAfterWrite);
      config.expireAfterAccess().ifPresent(builder::expireAfterAccess);
    }
    if (config.recordStats()) {
      if (countReads) {
        // Caffeine's own counter: a custom one would be wrapped in a guard on every hit.
        builder.recordStats();
      } else {
        builder.recordStats(EvictionsOnly::new); // its empty read methods inline to nothing
      }
    }
    if (hasListener()) {
      // Caffeine hands each notice to the executor when the entry leaves, so a notice that runs after
      // close() reports a removal made before it: told, on the executor's thread it runs on. The
      // entries close() itself drops are not reported: their notices are not handed on.
      Executor executor = config.executor();
      builder.executor(task -> {
        if (!releasing) {
          executor.execute(task);
        }
      });
      builder.removalListener(
          (@Nullable K key, @Nullable V value, com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
            if (key != null && value != null) {
              tellListener(key, value, map(cause));
            }
          });
    } else {
      builder.executor(config.executor());
    }
    if (config.refreshAfterWrite().isPresent()) {
      // Only to keep write times: an interval that never elapses, so Caffeine never reloads.
      this.cache = builder.refreshAfterWrite(Duration.ofNanos(UNREACHED_REFRESH_NANOS)).build(key -> {
        throw new UnsupportedOperationException("Cachet refreshes through get(key, loader)");
      });
    } else {
      this.cache = builder.build();
    }
    this.map = cache.asMap();
    this.varExpiration = cache.policy().expireVariably().orElse(null);
  }

  @Override
  public @Nullable V get(K key) {
    requireNonNull(key, "key");
    checkOpen();
    return cache.getIfPresent(key);
  }

  /**
   * Through the map view, which Caffeine's policy sees as a read but which records no statistics:
   * the hit is counted here, in this cache's own counter, which {@link #stats()} adds to Caffeine's.
   */
  @Override
  protected @Nullable V getCountingHits(K key) {
    V value = map.get(key);
    if (countReads && value != null) {
      stats.recordHits(1);
    }
    return value;
  }

  @Override
  protected @Nullable Written<V> getWritten(K key) {
    if (map.get(key) == null) { // a read for Caffeine's policy; no statistics
      return null;
    }
    // One snapshot for both: a write since the lookup above gives the newer pair, never a mix;
    // a removal since gives null, a load, which counts the miss: the hit is counted only here.
    Written<V> written = writtenQuietly(key);
    if (countReads && written != null) {
      stats.recordHits(1);
    }
    return written;
  }

  private @Nullable Written<V> writtenQuietly(K key) {
    Policy.CacheEntry<K, V> entry = cache.policy().getEntryIfPresentQuietly(key);
    return entry == null ? null : new Written<>(entry.getValue(), entry.refreshableAt() - UNREACHED_REFRESH_NANOS);
  }

  /**
   * Replaces the entry if it still holds an equal value written when the reload's read was;
   * between that check and the replace, a concurrent write of an equal value can still be
   * overwritten (Caffeine's compute restarts the write time even when it keeps the entry, so it
   * cannot make the check and the replace one step).
   */
  @Override
  protected boolean replaceReloaded(K key, Written<V> read, V value) {
    Written<V> now = writtenQuietly(key);
    if (now == null || now.value() != read.value() || now.writeTime() != read.writeTime()) {
      return false;
    }
    return replaceQuietly(key, read.value(), value);
  }

  @Override
  protected @Nullable V getQuietly(K key) {
    return map.get(key); // the map view records no statistics
  }

  @Override
  protected V storeLoaded(K key, V value) {
    V existing = map.putIfAbsent(key, value);
    if (existing != null) {
      return existing;
    }
    stats.recordPuts(1); // a stored load counts as a put, as on every backend
    return value;
  }

  @Override
  public void put(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    writing(key);
    cache.put(key, value);
    stats.recordPuts(1);
  }

  @Override
  public void put(K key, V value, Duration ttl) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    Checks.requirePositiveTtl(ttl);
    checkOpen();
    checkPerEntryTtl();
    writing(key);
    requireNonNull(varExpiration).put(key, value, ttl);
    stats.recordPuts(1);
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    writing(key);
    boolean stored = map.putIfAbsent(key, value) == null;
    if (stored) {
      stats.recordPuts(1);
    }
    return stored;
  }

  @Override
  public boolean replace(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    writing(key);
    boolean replaced = map.replace(key, value) != null;
    if (replaced) {
      stats.recordPuts(1);
    }
    return replaced;
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    requireNonNull(key, "key");
    requireNonNull(oldValue, "oldValue");
    requireNonNull(newValue, "newValue");
    checkOpen();
    writing(key);
    return replaceQuietly(key, oldValue, newValue);
  }

  /** {@code replace(key, oldValue, newValue)} without telling a load of the key: the reload's own write. */
  private boolean replaceQuietly(K key, V oldValue, V newValue) {
    boolean replaced = map.replace(key, oldValue, newValue);
    if (replaced) {
      stats.recordPuts(1);
    }
    return replaced;
  }

  @Override
  public boolean remove(K key) {
    requireNonNull(key, "key");
    checkOpen();
    removing(key);
    return map.remove(key) != null;
  }

  @Override
  public boolean remove(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    removing(key);
    return map.remove(key, value);
  }

  @Override
  public boolean expire(K key, Duration ttl) {
    requireNonNull(key, "key");
    Checks.requireNonNegativeTtl(ttl);
    checkOpen();
    checkPerEntryTtl();
    if (ttl.isZero()) {
      removing(key);
    }
    // One atomic step under the entry's lock: a live entry keeps its value and gets the new time;
    // an absent or expired one stays absent. (Checking first and then setting the time would let
    // the entry expire, or be removed and written again, in between.) Returning the same value
    // is not a replacement: no statistics, no removal notice.
    return requireNonNull(varExpiration).compute(key, (k, v) -> v, ttl) != null;
  }

  @Override
  public void clear() {
    checkOpen();
    clearing();
    cache.invalidateAll();
  }

  @Override
  public long estimatedSize() {
    checkOpen();
    return cache.estimatedSize();
  }

  @Override
  public CacheStats stats() {
    checkOpen();
    if (!config.recordStats()) {
      return CacheStats.empty();
    }
    // Caffeine counts reads through get and evictions; puts, loads and get(key, loader)'s reads
    // (Loads, getCountingHits) are counted here.
    com.github.benmanes.caffeine.cache.stats.CacheStats s = cache.stats();
    CacheStats own = stats.snapshot();
    return new CacheStats(
        s.hitCount() + own.hitCount(),
        s.missCount() + own.missCount(),
        own.putCount(),
        own.loadSuccessCount(),
        own.loadFailureCount(),
        own.totalLoadTimeNanos(),
        s.evictionCount());
  }

  @Override
  protected Object delegate() {
    return cache;
  }

  @Override
  protected void release() {
    releasing = true;
    cache.invalidateAll();
    cache.cleanUp();
  }

  /** Runs pending maintenance (expiry, eviction); for tests and the JCache layer. */
  void cleanUp() {
    cache.cleanUp();
  }

  private static RemovalCause map(com.github.benmanes.caffeine.cache.RemovalCause cause) {
    return switch (cause) {
      case EXPLICIT -> RemovalCause.EXPLICIT;
      case REPLACED -> RemovalCause.REPLACED;
      case EXPIRED -> RemovalCause.EXPIRED;
      case SIZE, COLLECTED -> RemovalCause.SIZE;
    };
  }

  /** Write expiry: creating or updating an entry restarts its time; reads do not. */
  private record WriteExpiry(long nanos) implements Expiry<Object, Object> {

    @Override
    public long expireAfterCreate(Object key, Object value, long currentTime) {
      return nanos;
    }

    @Override
    public long expireAfterUpdate(Object key, Object value, long currentTime, long currentDuration) {
      return nanos;
    }

    @Override
    public long expireAfterRead(Object key, Object value, long currentTime, long currentDuration) {
      return currentDuration;
    }
  }

  /** Caffeine's counter for a near cache's store: evictions only; its owner counts the reads. */
  private static final class EvictionsOnly implements com.github.benmanes.caffeine.cache.stats.StatsCounter {

    private final LongAdder evictions = new LongAdder();

    @Override
    public void recordHits(int count) {}

    @Override
    public void recordMisses(int count) {}

    @Override
    public void recordLoadSuccess(long loadTime) {}

    @Override
    public void recordLoadFailure(long loadTime) {}

    @Override
    public void recordEviction(int weight, com.github.benmanes.caffeine.cache.RemovalCause cause) {
      evictions.increment();
    }

    @Override
    public com.github.benmanes.caffeine.cache.stats.CacheStats snapshot() {
      long count = evictions.sum();
      return com.github.benmanes.caffeine.cache.stats.CacheStats.of(0, 0, 0, 0, 0, count, count);
    }
  }
}
