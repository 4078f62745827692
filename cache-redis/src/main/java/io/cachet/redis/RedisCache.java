package io.cachet.redis;

import static java.util.Objects.requireNonNull;

import io.cachet.AsyncCache;
import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheException;
import io.cachet.CacheStats;
import io.cachet.Ticker;
import io.cachet.codec.CodecException;
import io.cachet.spi.AbstractCache;
import io.cachet.spi.BackendMetric;
import io.cachet.spi.Checks;
import io.cachet.spi.MetricsSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * A cache whose truth lives in Redis, read through a local near cache: the facade that ties the
 * near-cache protocol ({@link NearCache}) to the transport ({@link RedisTransport}).
 *
 * <p>A read asks the near cache, else registers a load there, reads Redis and lets the near cache
 * store what it read if that is still valid. Writes go to Redis and, when they complete
 * (successfully, with an error, or by timing out), invalidate the key locally, so a thread always
 * reads its own writes. {@link #async()} offers the same operations without blocking
 * ({@link RedisAsyncCache}).
 *
 * <p>Thread-safe. Threads: callers; Redisson's event loops (replies) and the client's completion
 * pool (failures and timeouts, see CommandTimeouts) complete loads and writes (they only touch
 * concurrent maps and the near stores, never block); the client's tracking threads. See
 * CONCURRENCY.md.
 */
final class RedisCache<K, V> extends AbstractCache<K, V> implements MetricsSource {

  private static final String COMPARE_AND_SET =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then "
          + "if ARGV[3] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) "
          + "else redis.call('SET', KEYS[1], ARGV[2]) end return 1 end return 0";
  private static final String COMPARE_AND_DELETE =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end return 0";

  private final RedisOptions options;
  private final RedisKeys<K, V> keyspace;
  private final RedisClient client;
  private final RedisTransport redis;
  private final NearCache<K, V> near;
  private final Ticker ticker;
  private final @Nullable Long expireAfterWriteMillis;
  private final @Nullable TrackingHub hub;
  private final AsyncCache<K, V> async = new RedisAsyncCache<>(this);
  private final LongAdder staleServed = new LongAdder();

  RedisCache(CacheConfig<K, V> config, RedisOptions options, RedisClient client, Consumer<Cache<?, ?>> onClose) {
    super(config, onClose);
    this.options = options;
    this.keyspace = new RedisKeys<>(config, options);
    this.client = client;
    this.redis = new RedisTransport(config.name(), options, client);
    this.ticker = config.ticker();
    this.expireAfterWriteMillis = config.expireAfterWrite().map(RedisKeys::millis).orElse(null);
    this.hub = options.coherence() == Coherence.TRACKING ? client.hub() : null;
    // A near hit reads the maximum age's clock: a volatile read, not the system clock (CoarseTicker).
    Ticker storeTicker = config.ticker() == Ticker.system() ? client.nearTicker() : config.ticker();
    this.near = new NearCache<>(config, options, keyspace.keyCodec(), keyspace.prefix(), hub != null, storeTicker);
    if (hub != null) {
      hub.register(near.listener(), keyspace.prefix());
    }
  }

  // ------------------------------------------------------------ reads

  @Override
  public @Nullable V get(K key) {
    requireNonNull(key, "key");
    checkOpen();
    NearEntry<V> stamped = near.lookup(key);
    if (stamped != null) {
      return stamped.value(); // counted by the near cache; no future
    }
    return redis.await(afterNearMiss(key, true));
  }

  CompletableFuture<@Nullable V> getAsync(K key) {
    requireNonNull(key, "key");
    checkOpen();
    NearEntry<V> stamped = near.lookup(key);
    if (stamped != null) {
      return CompletableFuture.completedFuture(stamped.value());
    }
    return afterNearMiss(key, true);
  }

  /**
   * A get that found no near value: a known absence, or a read of Redis; {@code countMiss} false
   * for {@code get(key, loader)}'s lookup, whose load counts a miss.
   */
  private CompletableFuture<@Nullable V> afterNearMiss(K key, boolean countMiss) {
    if (near.lookupAbsent(key, countMiss)) {
      return CompletableFuture.completedFuture(null);
    }
    // Redis is the cache: a value found there is a hit; the near cache has its own metrics.
    return load(key).thenApply(value -> {
      if (value != null) {
        stats.recordHits(1);
      } else if (countMiss) {
        stats.recordMisses(1);
      }
      return value;
    });
  }

  @Override
  protected @Nullable V getCountingHits(K key) {
    checkOpen();
    NearEntry<V> stamped = near.lookup(key);
    if (stamped != null) {
      return stamped.value(); // counted by the near cache
    }
    return redis.await(afterNearMiss(key, false));
  }

  /** Reads {@code key} from Redis once per key at a time; caches the result if still valid. */
  private CompletableFuture<@Nullable V> load(K key) {
    return startLoad(key).future.copy();
  }

  /** Starts a read of {@code key}, or joins the one in flight; returns it. */
  private NearLoad<V> startLoad(K key) {
    NearLoad<V> mine = near.newLoad();
    NearLoad<V> theirs = near.register(key, mine);
    if (theirs != null) {
      return theirs;
    }
    byte[] redisKey;
    try {
      redisKey = keyspace.redisKey(key);
    } catch (CacheException e) {
      near.deregister(key, mine);
      mine.future.completeExceptionally(e);
      return mine;
    }
    long start = ticker.read();
    redis.read(redisKey).whenComplete((reply, error) -> near.beforeCaching(key).whenComplete((ignored, hookError) -> {
      try {
        complete(key, mine, reply, error, start, ticker.read() - start);
      } catch (Throwable t) {
        near.deregister(key, mine);
        mine.future.completeExceptionally(t); // no-op if already completed
      }
    }));
    return mine;
  }

  /**
   * Reads {@code key} with its write time, derived from its TTL in Redis: an entry written
   * {@code expireAfterWrite} before its deadline (the provider refuses refreshAfterWrite without
   * expireAfterWrite). A key without a TTL, or one answered from a stale near copy, has no known
   * write time and is never refreshed.
   */
  @Override
  protected @Nullable Written<V> getWritten(K key) {
    requireNonNull(key, "key");
    checkOpen();
    NearEntry<V> stamped = near.lookupWithTtl(key);
    if (stamped != null) {
      return written(stamped.value(), stamped.deadline());
    }
    if (near.lookupAbsent(key, false)) {
      return null;
    }
    NearLoad<V> load = startLoad(key);
    V value = redis.await(load.future.copy());
    if (value == null) {
      return null; // the load that follows counts the miss
    }
    stats.recordHits(1);
    return written(value, load.deadline);
  }

  private Written<V> written(V value, long deadline) {
    long ttlNanos = expireAfterWriteMillis == null ? 0 : java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(expireAfterWriteMillis);
    return new Written<>(value, deadline == Long.MAX_VALUE || ttlNanos == 0 ? Long.MAX_VALUE : deadline - ttlNanos);
  }

  /**
   * Completes one key's read: a failure (maybe answered from the near copy), a miss, a value that
   * cannot be decoded, or a value, cached if still valid. Always deregisters the load before
   * completing it: a caller that arrives once the value is out must start a new read, never join
   * this finished one (see NearCache.register).
   */
  private void complete(
      K key, NearLoad<V> load, RedisTransport.@Nullable Read reply, @Nullable Throwable error, long start,
      long loadNanos) {
    if (error != null || reply == null) {
      stats.recordLoadFailure(loadNanos);
      near.deregister(key, load);
      failRead(key, load.future, error != null ? error : new IllegalStateException("no reply"));
      return;
    }
    if (!(reply.value() instanceof byte[] bytes)) {
      // No such key: a miss, not a load; remembered as absent like a value is remembered.
      try {
        near.storeAbsent(key, load, start);
      } finally {
        near.deregister(key, load);
      }
      load.future.complete(null);
      return;
    }
    V value;
    try {
      value = keyspace.decode(key, bytes);
    } catch (CodecException e) {
      stats.recordLoadFailure(loadNanos);
      near.deregister(key, load);
      load.future.completeExceptionally(e);
      return;
    }
    stats.recordLoadSuccess(loadNanos);
    load.deadline = NearCache.redisDeadline(reply.pttl(), start);
    try {
      near.storeValue(key, load, value, reply.pttl(), start);
    } finally {
      near.deregister(key, load);
    }
    load.future.complete(value);
  }

  /**
   * Fails a read, or answers it from the near copy when {@code serveStaleOnError} is set, Redis is
   * unreachable or did not answer in time, and a near copy is present <em>now</em> (not removed by
   * an invalidation or by a write of this process since the read started) and within its Redis TTL.
   */
  private void failRead(K key, CompletableFuture<@Nullable V> future, Throwable error) {
    Throwable cause = RedisTransport.unwrap(error);
    if (options.serveStaleOnError() && RedisTransport.isUnavailable(cause)) {
      NearEntry<V> copy = near.staleCopy(key);
      if (copy != null) {
        staleServed.increment();
        future.complete(copy.value());
        return;
      }
    }
    future.completeExceptionally(CommandTimeouts.completion(redis.failure(key, cause)));
  }

  @Override
  protected @Nullable V getQuietly(K key) {
    return redis.await(load(key)); // Redis itself: another client may have stored it since the miss
  }

  @Override
  protected V storeLoaded(K key, V value) {
    // Store unless another client did meanwhile; then theirs wins, as in a local cache.
    checkOpen();
    if (redis.await(conditionalSetQuietly(key, value, "NX"))) {
      return value;
    }
    V winner = getQuietly(key); // not a second lookup of the caller's: no hit nor miss
    return winner != null ? winner : value;
  }

  @Override
  public Map<K, V> getAll(Iterable<? extends K> keys) {
    Map<K, CompletableFuture<@Nullable V>> pending = startGetAll(keys);
    // One deadline for the whole call, not one per key.
    long deadline = System.nanoTime() + redis.callerBoundNanos();
    Map<K, V> result = new LinkedHashMap<>();
    for (Map.Entry<K, CompletableFuture<@Nullable V>> e : pending.entrySet()) {
      V value = redis.await(e.getValue(), deadline - System.nanoTime());
      if (value != null) {
        result.put(e.getKey(), value);
      }
    }
    return result;
  }

  /**
   * Starts reading {@code keys}: near hits complete at once, each near miss is one concurrent read
   * (sharing reads already in flight). Every key's hit or miss is counted when its future completes.
   */
  Map<K, CompletableFuture<@Nullable V>> startGetAll(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    checkOpen();
    List<K> distinct = new ArrayList<>();
    for (K key : keys) {
      requireNonNull(key, "keys contains null");
      distinct.add(key);
    }
    Map<K, CompletableFuture<@Nullable V>> pending = new LinkedHashMap<>();
    for (K key : distinct) {
      if (!pending.containsKey(key)) {
        pending.put(key, getAsync(key));
      }
    }
    return pending;
  }

  // ------------------------------------------------------------ writes

  @Override
  public void put(K key, V value) {
    redis.await(putAsync(key, value, expireAfterWriteMillis));
  }

  @Override
  public void put(K key, V value, Duration ttl) {
    redis.await(putAsync(key, value, ttl));
  }

  CompletableFuture<Void> putAsync(K key, V value) {
    return putAsync(key, value, expireAfterWriteMillis);
  }

  CompletableFuture<Void> putAsync(K key, V value, Duration ttl) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    Checks.requirePositiveTtl(ttl);
    checkOpen();
    checkPerEntryTtl();
    return putAsync(key, value, RedisKeys.millis(ttl));
  }

  private CompletableFuture<Void> putAsync(K key, V value, @Nullable Long ttlMillis) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    writing(key);
    byte[] redisKey = keyspace.redisKey(key);
    return set(key, redisKey, RedisKeys.setArgs(redisKey, keyspace.encode(key, value), ttlMillis));
  }

  private CompletableFuture<Void> set(K key, byte[] redisKey, Object[] args) {
    return this.<Object>write(key, () -> redis.commands().set(redisKey, args))
        .thenApply(ok -> {
          stats.recordPuts(1);
          return null;
        });
  }

  @Override
  public void putAll(Map<? extends K, ? extends V> entries) {
    requireNonNull(entries, "entries");
    checkOpen();
    entries.forEach((k, v) -> {
      requireNonNull(k, "entries contains a null key");
      requireNonNull(v, "entries contains a null value");
    });
    // Encode everything before sending anything: a codec failure must not leave half the map written.
    Map<K, Object[]> commands = new LinkedHashMap<>();
    entries.forEach((k, v) -> {
      byte[] redisKey = keyspace.redisKey(k);
      commands.put(k, RedisKeys.setArgs(redisKey, keyspace.encode(k, v), expireAfterWriteMillis));
    });
    commands.keySet().forEach(this::writing);
    new PipelinedPuts<>(redis, near, stats).putAll(commands);
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    return redis.await(conditionalSet(key, value, "NX"));
  }

  @Override
  public boolean replace(K key, V value) {
    return redis.await(conditionalSet(key, value, "XX"));
  }

  CompletableFuture<Boolean> conditionalSet(K key, V value, String condition) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    writing(key);
    return conditionalSetQuietly(key, value, condition);
  }

  /** {@link #conditionalSet} without telling a load of the key: a load's own store. */
  private CompletableFuture<Boolean> conditionalSetQuietly(K key, V value, String condition) {
    byte[] redisKey = keyspace.redisKey(key);
    Object[] base = RedisKeys.setArgs(redisKey, keyspace.encode(key, value), expireAfterWriteMillis);
    Object[] args = Arrays.copyOf(base, base.length + 1);
    args[base.length] = condition;
    return this.<Boolean>write(key, () -> redis.commands().setIf(redisKey, args))
        .thenApply(stored -> {
          if (Boolean.TRUE.equals(stored)) {
            stats.recordPuts(1);
            return true;
          }
          return false;
        });
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    return redis.await(compareAndSet(key, oldValue, newValue));
  }

  CompletableFuture<Boolean> compareAndSet(K key, V oldValue, V newValue) {
    requireNonNull(key, "key");
    requireNonNull(oldValue, "oldValue");
    requireNonNull(newValue, "newValue");
    checkOpen();
    writing(key);
    return compareAndSetQuietly(key, oldValue, newValue);
  }

  /** A reload's own write: {@link #compareAndSet} without telling the reload it was overtaken. */
  @Override
  protected boolean replaceReloaded(K key, Written<V> read, V value) {
    return redis.await(compareAndSetQuietly(key, read.value(), value));
  }

  private CompletableFuture<Boolean> compareAndSetQuietly(K key, V oldValue, V newValue) {
    byte[] redisKey = keyspace.redisKey(key);
    String ttl = expireAfterWriteMillis == null ? "" : Long.toString(expireAfterWriteMillis);
    return eval(key, redisKey, COMPARE_AND_SET, keyspace.encode(key, oldValue), keyspace.encode(key, newValue), ttl)
        .thenApply(replaced -> {
          if (replaced) {
            stats.recordPuts(1);
          }
          return replaced;
        });
  }

  @Override
  public boolean remove(K key) {
    return redis.await(removeAsync(key));
  }

  CompletableFuture<Boolean> removeAsync(K key) {
    requireNonNull(key, "key");
    checkOpen();
    removing(key);
    byte[] redisKey = keyspace.redisKey(key);
    return this.<Long>write(key, () -> redis.commands().del(redisKey))
        .thenApply(count -> count != null && count > 0);
  }

  @Override
  public boolean remove(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    removing(key);
    byte[] redisKey = keyspace.redisKey(key);
    return redis.await(eval(key, redisKey, COMPARE_AND_DELETE, keyspace.encode(key, value)));
  }

  @Override
  public boolean expire(K key, Duration ttl) {
    return redis.await(expireAsync(key, ttl));
  }

  CompletableFuture<Boolean> expireAsync(K key, Duration ttl) {
    requireNonNull(key, "key");
    Checks.requireNonNegativeTtl(ttl);
    checkOpen();
    checkPerEntryTtl();
    if (ttl.isZero()) {
      removing(key);
    }
    byte[] redisKey = keyspace.redisKey(key);
    long ms = ttl.isZero() ? 0 : RedisKeys.millis(ttl);
    return this.<Boolean>write(key, () -> redis.commands().pexpire(redisKey, ms))
        .thenApply(Boolean.TRUE::equals);
  }

  @Override
  public void clear() {
    checkOpen();
    clearing();
    try {
      redis.clear(keyspace.pattern());
    } finally {
      near.invalidateAll();
    }
  }

  /**
   * Sends a write of {@code key}. Whatever happens, the key may have changed, so it is invalidated
   * locally before the caller sees the result: when Redis answers or fails, when the cache gives
   * up waiting (Redis may still apply the write), and again if Redis answers after that.
   */
  private <R> CompletableFuture<R> write(K key, Supplier<? extends CompletionStage<R>> command) {
    return redis.<R>send(() -> command.get().whenComplete((reply, error) -> near.invalidate(key)))
        .handle((reply, error) -> {
          if (error == null) {
            return reply;
          }
          Throwable cause = RedisTransport.unwrap(error);
          if (cause instanceof TimeoutException) {
            near.invalidate(key);
          }
          throw redis.failure(key, cause);
        });
  }

  private CompletableFuture<Boolean> eval(K key, byte[] redisKey, String script, Object... args) {
    return this.<Boolean>write(key, () -> redis.commands().evalBoolean(redisKey, script, args))
        .thenApply(Boolean.TRUE::equals);
  }

  // ------------------------------------------------------------ the rest of the API

  @Override
  public long estimatedSize() {
    checkOpen();
    return near.estimatedSize();
  }

  @Override
  public CacheStats stats() {
    checkOpen();
    CacheStats s = stats.snapshot();
    if (!config.recordStats()) {
      return s;
    }
    // Reads answered by the near cache are counted there, once, by its stores.
    return new CacheStats(
        s.hitCount() + near.valueHits(), s.missCount() + near.absentMisses(), s.putCount(),
        s.loadSuccessCount(), s.loadFailureCount(), s.totalLoadTimeNanos(), near.evictionCount());
  }

  @Override
  public AsyncCache<K, V> async() {
    checkOpen();
    return async;
  }

  /** The transport, whose bounds and error mapping the non-blocking view shares. */
  RedisTransport transport() {
    return redis;
  }

  @Override
  protected void release() {
    try {
      if (hub != null) {
        hub.unregister(near.listener());
      }
    } finally {
      near.close();
    }
  }

  @Override
  public List<BackendMetric> backendMetrics() {
    List<BackendMetric> metrics = new ArrayList<>(near.metrics());
    metrics.add(new BackendMetric("cache.redis.roundtrips",
        "Round trips to Redis: each command, and each batch of reads (GET and PTTL of every key in it)",
        BackendMetric.Kind.COUNTER, redis::roundTrips));
    metrics.add(new BackendMetric("cache.redis.read.batches", "Batches of reads sent to Redis",
        BackendMetric.Kind.COUNTER, redis::readBatches));
    metrics.add(new BackendMetric("cache.redis.reads", "Keys read from Redis, in all batches (divided by the batches: the mean batch size)",
        BackendMetric.Kind.COUNTER, redis::batchedReads));
    metrics.add(new BackendMetric("cache.near.stale.served", "Reads answered from an unverified near copy because Redis failed",
        BackendMetric.Kind.COUNTER, staleServed::sum));
    return List.copyOf(metrics);
  }

  // ------------------------------------------------------------ for tests

  /** The value the near cache would serve for {@code key} now, without reading Redis; for tests. */
  @Nullable V nearValueForTest(K key) {
    return near.peek(key);
  }

  /** Whether the near cache would answer "absent" for {@code key} now, without reading Redis; for tests. */
  boolean nearAbsentForTest(K key) {
    return near.peekAbsent(key);
  }

  /** Whether the near cache is currently served (tracking up, or expiry-only); for tests. */
  boolean isCoherent() {
    return near.isCoherent();
  }

  /** Whether Redis refused tracking and the cache fell back to expiry-only; for tests. */
  boolean isFallback() {
    return near.isFallback();
  }

  /** Sets the points where a test holds or observes reads. */
  void testHooks(NearCache.Hooks hooks) {
    near.hooks(hooks);
  }

  /** The client this cache sends its commands through; for tests. */
  RedisClient clientForTest() {
    return client;
  }

  /** The client's tracking hub, if this cache uses one; for tests. */
  @Nullable TrackingHub hubForTest() {
    return hub;
  }
}
