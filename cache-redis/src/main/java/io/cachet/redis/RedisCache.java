package io.cachet.redis;

import static java.util.Objects.requireNonNull;

import io.cachet.AsyncCache;
import io.cachet.BackendUnavailableException;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheException;
import io.cachet.CacheLoadException;
import io.cachet.CacheStats;
import io.cachet.Ticker;
import io.cachet.codec.Codec;
import io.cachet.codec.CodecException;
import io.cachet.local.LocalCacheProvider;
import io.cachet.spi.AbstractCache;
import io.cachet.spi.BackendMetric;
import io.cachet.spi.Checks;
import io.cachet.spi.MetricsSource;
import io.cachet.spi.StatsCounter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.redisson.RedissonShutdownException;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.RedisNodeNotFoundException;
import org.redisson.client.RedisReconnectedException;
import org.redisson.client.RedisRetryException;
import org.redisson.client.RedisTimeoutException;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.protocol.RedisCommand;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.client.protocol.decoder.ObjectListReplayDecoder;
import org.redisson.command.CommandAsyncExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache whose truth lives in Redis, read through a local near cache.
 *
 * <h2>Coherence protocol</h2>
 *
 * Near entries are {@link Stamped} with the <em>epoch</em> in which their read was registered. The
 * epoch changes whenever the invalidation channel goes down or comes up (and on a flush), and a
 * near entry is served only while the channel is up ({@code coherent}) and its stamp equals the
 * current epoch. So a disconnect flushes the whole near cache in O(1), and nothing cached before it
 * is served again without re-reading Redis; the stale copies stay only for
 * {@code serveStaleOnError}.
 *
 * <p>A read that misses registers a {@link Load} for its key in {@code loads} <em>before</em>
 * sending {@code GET}; concurrent misses on the key share it (single-flight). An invalidation of
 * the key raises the registered load's {@link Flag} and then removes the near entry. The load
 * stores its value (unless the flag is already raised or the epoch moved) stamped with that same
 * flag, and a near entry whose flag is raised is never served. So whatever the interleaving, once
 * an invalidation has been processed, no value read before it is served from the near cache: the
 * load that read it was either flagged (its entry, stored before or after, is dead) or had already
 * stored and deregistered (the removal takes the entry out). No lock is held and nobody waits.
 * CONCURRENCY.md has the full argument.
 *
 * <p>Writes go to Redis and, when they complete (successfully, with an error, or by timing out),
 * invalidate the key locally in the same way, so a thread always reads its own writes. Every Redis
 * call is bounded by {@code commandTimeout + 250 ms}, is resent only if it never reached Redis
 * (see send), and fails with
 * {@link BackendUnavailableException} when Redis cannot be reached or does not answer in time, or
 * with a plain {@link CacheException} naming the key when Redis answers with an error.
 *
 * <p>Thread-safe. Threads: callers; Redisson's event loops and the JDK's delay scheduler complete
 * loads and writes (they only touch concurrent maps and the near cache, never block); the
 * invalidation channel's thread.
 */
final class RedisCache<K, V> extends AbstractCache<K, V> implements MetricsSource {

  private static final Logger log = LoggerFactory.getLogger(RedisCache.class);

  private static final String COMPARE_AND_SET =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then "
          + "if ARGV[3] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) "
          + "else redis.call('SET', KEYS[1], ARGV[2]) end return 1 end return 0";
  private static final String COMPARE_AND_DELETE =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end return 0";

  /** SCAN with its reply as raw [cursor, [keys...]]. */
  private static final RedisCommand<List<Object>> RAW_SCAN = new RedisCommand<>("SCAN", new ObjectListReplayDecoder<>());

  /** Slack on top of {@code commandTimeout} before the cache gives up on a command itself. */
  private static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  /**
   * How much longer a blocked caller waits than a command may take. Every command is bounded
   * where it is sent, so this only fires if something else went wrong; it keeps a caller from
   * hanging on a bug.
   */
  private static final long BACKSTOP_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final RedisOptions options;
  private final Codec<K> keyCodec;
  private final Codec<V> valueCodec;
  private final byte[] prefix;
  private final RedisClient client;
  private final CommandAsyncExecutor redis;
  /** Multi-key commands must stay within one slot: clear() deletes per primary. */
  private final boolean cluster;
  private final Cache<K, Stamped<V>> near;
  /**
   * Keys Redis did not have, cached as absent with their own maximum age
   * ({@code negativeCacheMaxAge}) and kept coherent exactly like {@link #near}'s entries: every
   * invalidation, flush and epoch change applies to both. Null when negative caching is off.
   */
  private final @Nullable Cache<K, Stamped<Boolean>> absent;
  private final ConcurrentHashMap<K, Load<V>> loads = new ConcurrentHashMap<>();
  private final Ticker ticker;
  private final long operationTimeoutNanos;
  private final @Nullable Long expireAfterWriteMillis;
  private final @Nullable TrackingHub hub;
  private final ChannelListener listener = new ChannelListener();
  private final AsyncCache<K, V> async = new RedisAsyncCache();

  /**
   * A stage each read waits for between Redis's reply (or failure) and completing; already
   * complete, so reads continue inline. Tests return an incomplete stage to hold a read there
   * without blocking any thread (Redisson's event loops must never block).
   */
  volatile Function<Object, CompletionStage<?>> beforeCaching = key -> DONE;

  /**
   * Run by a load that stores its value, after its checks passed: just before and just after the
   * near-cache put; do nothing. Tests use them to land an invalidation between the checks and the
   * store, and to look at what a reader would be served right after the store.
   */
  volatile Consumer<Object> beforeNearPut = key -> {};

  volatile Consumer<Object> afterNearPut = key -> {};

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final AtomicLong epoch = new AtomicLong();
  private volatile boolean coherent;
  private volatile boolean tracking;
  private volatile boolean fallback;
  private final AtomicBoolean warnedFallback = new AtomicBoolean();
  private final LongAdder roundTrips = new LongAdder();
  private final LongAdder nearHits = new LongAdder();
  private final LongAdder nearMisses = new LongAdder();
  private final LongAdder absentHits = new LongAdder();
  private final LongAdder invalidations = new LongAdder();
  private final LongAdder flushes = new LongAdder();
  private final LongAdder staleServed = new LongAdder();

  RedisCache(
      CacheConfig<K, V> config,
      RedisOptions options,
      RedisClient client,
      Consumer<Cache<?, ?>> onClose) {
    super(config, onClose);
    this.options = options;
    this.keyCodec = Checks.keyCodec(config, RedisCacheProvider.NAME);
    this.valueCodec = Checks.valueCodec(config, RedisCacheProvider.NAME);
    this.prefix = options.keyPrefix().getBytes(StandardCharsets.UTF_8);
    this.client = client;
    this.redis = client.executor();
    this.cluster = client.address().topology() == RedisAddress.Topology.CLUSTER;
    this.ticker = config.ticker();
    // Commands are not retried (a resent conditional write could apply twice), so one command
    // timeout plus a little scheduling slack bounds every call.
    this.operationTimeoutNanos = Checks.saturatedNanos(options.commandTimeout()) + SLACK_NANOS;
    this.expireAfterWriteMillis = config.expireAfterWrite().map(RedisCache::millis).orElse(null);
    this.near =
        LocalCacheProvider.createStandalone(
            CacheConfig.builder(config.name() + "-near")
                .keyType(config.keyType())
                .valueType(Stamped.<V>type())
                .maximumSize(config.maximumSize())
                .evictionPolicy(config.evictionPolicy())
                .expireAfterWrite(options.nearCacheMaxAge())
                .perEntryTtl(false)
                .ticker(config.ticker())
                .executor(config.executor())
                .build());
    this.absent = options.negativeCacheMaxAge().isZero() ? null
        : LocalCacheProvider.createStandalone(
            CacheConfig.builder(config.name() + "-absent")
                .keyType(config.keyType())
                .valueType(Stamped.<Boolean>type())
                .maximumSize(config.maximumSize())
                .evictionPolicy(config.evictionPolicy())
                .expireAfterWrite(options.negativeCacheMaxAge())
                .perEntryTtl(false)
                .ticker(config.ticker())
                .executor(config.executor())
                .build());
    this.hub = options.coherence() == Coherence.TRACKING ? client.hub() : null;
    this.coherent = hub == null;
    if (hub != null) {
      hub.register(listener, prefix);
    }
  }

  // ------------------------------------------------------------ reads

  @Override
  public @Nullable V get(K key) {
    return await(getAsync(key));
  }

  private CompletableFuture<@Nullable V> getAsync(K key) {
    requireNonNull(key, "key");
    checkOpen();
    Stamped<V> stamped = near.get(key);
    if (stamped != null && isFresh(stamped)) {
      nearHits.increment();
      stats.recordHits(1);
      return CompletableFuture.completedFuture(stamped.value());
    }
    if (knownAbsent(key)) {
      nearHits.increment();
      absentHits.increment();
      stats.recordMisses(1);
      return CompletableFuture.completedFuture(null);
    }
    nearMisses.increment();
    // Redis is the cache: a value found there is a hit; the near cache has its own metrics.
    return load(key).thenApply(value -> {
      if (value != null) {
        stats.recordHits(1);
      } else {
        stats.recordMisses(1);
      }
      return value;
    });
  }

  /** Whether the near side holds a fresh "Redis has no such key" for {@code key}. */
  private boolean knownAbsent(K key) {
    if (absent == null) {
      return false;
    }
    Stamped<Boolean> marker = absent.get(key);
    return marker != null && isFresh(marker);
  }

  private boolean isFresh(Stamped<?> stamped) {
    return coherent
        && stamped.epoch() == epoch.get()
        && !stamped.invalidated().raised
        && beforeRedisDeadline(stamped);
  }

  private boolean beforeRedisDeadline(Stamped<?> stamped) {
    return stamped.deadline() == Long.MAX_VALUE || ticker.read() - stamped.deadline() < 0;
  }

  /** Reads {@code key} from Redis once per key at a time; caches the result if still valid. */
  private CompletableFuture<@Nullable V> load(K key) {
    Load<V> mine = new Load<>(epoch.get(), coherent);
    Load<V> theirs = register(key, mine);
    if (theirs != null) {
      return theirs.future.copy();
    }
    byte[] redisKey;
    try {
      redisKey = redisKey(key);
    } catch (CacheException e) {
      loads.remove(key, mine);
      mine.future.completeExceptionally(e);
      return mine.future.copy();
    }
    long start = ticker.read();
    // GET and PTTL go out together: one round trip of waiting, and about twice a GET's CPU in
    // Redis (a Lua script doing both costs ~25 times a GET). They are not atomic, and need not be:
    // a write between them also invalidates the key, which flags this load (see the class notes),
    // so a value is never cached with the TTL of another.
    CompletableFuture<Object> value =
        send(() -> redis.readAsync(redisKey, ByteArrayCodec.INSTANCE, RedisCommands.GET, redisKey), true);
    CompletableFuture<Long> ttl =
        send(() -> redis.readAsync(redisKey, ByteArrayCodec.INSTANCE, RedisCommands.PTTL, redisKey), false);
    CompletableFuture.allOf(value, ttl)
        .whenComplete((ignored, error) -> afterReply(key, () -> {
          try {
            Object raw = error == null ? value.join() : null;
            Object pttl = error == null ? ttl.join() : null;
            complete(key, mine, raw, pttl, error, start, ticker.read() - start);
          } catch (Throwable t) {
            loads.remove(key, mine);
            mine.future.completeExceptionally(t); // no-op if already completed
          }
        }));
    return mine.future.copy();
  }

  /** Runs {@code then} once the {@link #beforeCaching} stage (normally already done) completes. */
  private void afterReply(Object key, Runnable then) {
    CompletionStage<?> gate;
    try {
      gate = beforeCaching.apply(key);
    } catch (RuntimeException e) {
      gate = DONE;
    }
    gate.whenComplete((ignored, hookError) -> then.run());
  }

  /**
   * Completes one key's read: a failure (maybe answered from the near copy), a miss, a value that
   * cannot be decoded, or a value, cached if still valid. Always deregisters the load before
   * completing it: a caller that arrives once the value is out must start a new read, never join
   * this finished one (see register).
   */
  private void complete(
      K key, Load<V> load, @Nullable Object raw, @Nullable Object pttl, @Nullable Throwable error, long start,
      long loadNanos) {
    if (error != null) {
      stats.recordLoadFailure(loadNanos);
      loads.remove(key, load);
      failRead(key, load.future, error);
      return;
    }
    if (!(raw instanceof byte[] bytes)) {
      // No such key: a miss, not a load; remembered as absent like a value is remembered.
      try {
        if (absent != null) {
          storeIfStillValid(absent, key, load, Boolean.TRUE, Long.MAX_VALUE);
        }
      } finally {
        loads.remove(key, load);
      }
      load.future.complete(null);
      return;
    }
    V value;
    try {
      value = decode(key, bytes);
    } catch (CodecException e) {
      stats.recordLoadFailure(loadNanos);
      loads.remove(key, load);
      load.future.completeExceptionally(e);
      return;
    }
    stats.recordLoadSuccess(loadNanos);
    try {
      cacheIfStillValid(key, load, value, pttl, start);
    } finally {
      loads.remove(key, load);
    }
    load.future.complete(value);
  }

  /**
   * Stores {@code value} unless an invalidation or an epoch change got there first, stamped with
   * the load's epoch and flag: an invalidation that raises the flag later (before the load
   * deregisters) makes the entry dead at once, wherever the put stands. See the class notes and
   * CONCURRENCY.md.
   */
  private void cacheIfStillValid(K key, Load<V> load, V value, @Nullable Object pttl, long start) {
    long deadline = Long.MAX_VALUE;
    if (pttl instanceof Long ms && ms >= 0) {
      // The key expires in Redis ms after Redis answered PTTL, which was after we sent it at
      // start: a deadline counted from start never outlives the key.
      deadline = start + TimeUnit.MILLISECONDS.toNanos(ms);
    } else if (pttl instanceof Long ms && ms == -2) {
      return; // deleted between GET and PTTL: its invalidation is on its way; cache nothing
    }
    storeIfStillValid(near, key, load, value, deadline);
  }

  /** Stores a value or an absence marker in {@code store} under the rule of cacheIfStillValid. */
  private <T> void storeIfStillValid(Cache<K, Stamped<T>> store, K key, Load<V> load, T value, long deadline) {
    if (!load.cacheable || load.invalidated.raised || load.epoch != epoch.get() || !coherent || isClosed()) {
      return;
    }
    try {
      beforeNearPut.accept(key);
      store.put(key, new Stamped<>(value, load.epoch, deadline, load.invalidated));
      afterNearPut.accept(key);
    } catch (RuntimeException e) {
      if (!isClosed()) {
        log.warn("Cache '{}' could not store a value read from Redis in its near cache", name(), e);
      }
    }
  }

  /**
   * Registers {@code mine} as the in-flight read of {@code key}, or returns the read already in
   * flight to join. A read that an invalidation has flagged is not joined: it may return a value
   * older than a write whose invalidation this caller has already seen, so {@code mine} replaces it
   * (its own callers still get its result).
   */
  private @Nullable Load<V> register(K key, Load<V> mine) {
    while (true) {
      Load<V> theirs = loads.putIfAbsent(key, mine);
      if (theirs == null) {
        return null;
      }
      if (!theirs.invalidated.raised) {
        return theirs;
      }
      if (loads.replace(key, theirs, mine)) {
        return null;
      }
    }
  }

  /**
   * Fails a read, or answers it from the near copy when {@code serveStaleOnError} is set, Redis is
   * unreachable or did not answer in time, and a near copy is present <em>now</em> (not removed by
   * an invalidation or by a write of this process since the read started) and within its Redis TTL.
   */
  private void failRead(K key, CompletableFuture<@Nullable V> future, Throwable error) {
    Throwable cause = unwrap(error);
    if (options.serveStaleOnError() && isUnavailable(cause)) {
      Stamped<V> copy = nearCopy(key);
      if (copy != null && !copy.invalidated().raised && beforeRedisDeadline(copy)) {
        staleServed.increment();
        future.complete(copy.value());
        return;
      }
    }
    future.completeExceptionally(failure(key, cause));
  }

  private @Nullable Stamped<V> nearCopy(K key) {
    try {
      return near.get(key);
    } catch (IllegalStateException e) {
      return null; // closed
    }
  }

  @Override
  protected @Nullable V getQuietly(K key) {
    return await(load(key)); // Redis itself: another client may have stored it since the miss
  }

  @Override
  protected V storeLoaded(K key, V value) {
    // Store unless another client did meanwhile; then theirs wins, as in a local cache.
    if (putIfAbsent(key, value)) {
      return value;
    }
    V winner = get(key);
    return winner != null ? winner : value;
  }

  @Override
  public Map<K, V> getAll(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    checkOpen();
    Map<K, CompletableFuture<@Nullable V>> pending = new LinkedHashMap<>();
    Map<K, Boolean> toFetch = new LinkedHashMap<>();
    for (K key : keys) {
      requireNonNull(key, "keys contains null");
      if (pending.containsKey(key)) {
        continue;
      }
      Stamped<V> stamped = near.get(key);
      if (stamped != null && isFresh(stamped)) {
        nearHits.increment();
        pending.put(key, CompletableFuture.completedFuture(stamped.value()));
      } else if (knownAbsent(key)) {
        nearHits.increment();
        absentHits.increment();
        pending.put(key, CompletableFuture.completedFuture(null));
      } else {
        nearMisses.increment();
        toFetch.put(key, Boolean.TRUE);
        pending.put(key, null);
      }
    }
    pending.putAll(loadAll(toFetch.keySet()));
    // One deadline for the whole call, not one per key.
    long deadline = System.nanoTime() + operationTimeoutNanos + BACKSTOP_NANOS;
    Map<K, V> result = new LinkedHashMap<>();
    for (Map.Entry<K, CompletableFuture<@Nullable V>> e : pending.entrySet()) {
      V value = await(e.getValue(), deadline - System.nanoTime());
      if (value != null) {
        stats.recordHits(1);
        result.put(e.getKey(), value);
      } else {
        stats.recordMisses(1);
      }
    }
    return result;
  }

  /** Loads several keys, sharing loads already in flight: each near miss is one concurrent read. */
  private Map<K, CompletableFuture<@Nullable V>> loadAll(Iterable<K> keys) {
    Map<K, CompletableFuture<@Nullable V>> futures = new LinkedHashMap<>();
    keys.forEach(key -> futures.put(key, load(key)));
    return futures;
  }

  // ------------------------------------------------------------ writes

  @Override
  public void put(K key, V value) {
    await(putAsync(key, value, expireAfterWriteMillis));
  }

  @Override
  public void put(K key, V value, Duration ttl) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    Checks.requirePositiveTtl(ttl);
    checkOpen();
    checkPerEntryTtl();
    await(putAsync(key, value, millis(ttl)));
  }

  private CompletableFuture<Void> putAsync(K key, V value, @Nullable Long ttlMillis) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    byte[] redisKey = redisKey(key);
    return set(key, redisKey, setArgs(redisKey, encode(key, value), ttlMillis));
  }

  private CompletableFuture<Void> set(K key, byte[] redisKey, Object[] args) {
    return this.<Object>write(key, () -> redis.writeAsync(redisKey, ByteArrayCodec.INSTANCE, RedisCommands.SET, args))
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
      byte[] redisKey = redisKey(k);
      commands.put(k, setArgs(redisKey, encode(k, v), expireAfterWriteMillis));
    });
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    commands.forEach((k, args) -> writes.add(set(k, (byte[]) args[0], args)));
    await(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)));
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    return await(conditionalSet(key, value, "NX"));
  }

  @Override
  public boolean replace(K key, V value) {
    return await(conditionalSet(key, value, "XX"));
  }

  private CompletableFuture<Boolean> conditionalSet(K key, V value, String condition) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    byte[] redisKey = redisKey(key);
    Object[] base = setArgs(redisKey, encode(key, value), expireAfterWriteMillis);
    Object[] args = Arrays.copyOf(base, base.length + 1);
    args[base.length] = condition;
    return this.<Boolean>write(key, () -> redis.writeAsync(redisKey, ByteArrayCodec.INSTANCE, RedisCommands.SET_BOOLEAN, args))
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
    return await(compareAndSet(key, oldValue, newValue));
  }

  private CompletableFuture<Boolean> compareAndSet(K key, V oldValue, V newValue) {
    requireNonNull(key, "key");
    requireNonNull(oldValue, "oldValue");
    requireNonNull(newValue, "newValue");
    checkOpen();
    byte[] redisKey = redisKey(key);
    String ttl = expireAfterWriteMillis == null ? "" : Long.toString(expireAfterWriteMillis);
    return eval(key, redisKey, COMPARE_AND_SET, encode(key, oldValue), encode(key, newValue), ttl)
        .thenApply(replaced -> {
          if (replaced) {
            stats.recordPuts(1);
          }
          return replaced;
        });
  }

  @Override
  public boolean remove(K key) {
    return await(removeAsync(key));
  }

  private CompletableFuture<Boolean> removeAsync(K key) {
    requireNonNull(key, "key");
    checkOpen();
    byte[] redisKey = redisKey(key);
    return this.<Long>write(key, () -> redis.writeAsync(redisKey, ByteArrayCodec.INSTANCE, RedisCommands.DEL, redisKey))
        .thenApply(count -> count != null && count > 0);
  }

  @Override
  public boolean remove(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    byte[] redisKey = redisKey(key);
    return await(eval(key, redisKey, COMPARE_AND_DELETE, encode(key, value)));
  }

  @Override
  public boolean expire(K key, Duration ttl) {
    return await(expireAsync(key, ttl));
  }

  private CompletableFuture<Boolean> expireAsync(K key, Duration ttl) {
    requireNonNull(key, "key");
    Checks.requireNonNegativeTtl(ttl);
    checkOpen();
    checkPerEntryTtl();
    byte[] redisKey = redisKey(key);
    long ms = ttl.isZero() ? 0 : millis(ttl);
    return this.<Boolean>write(key, () -> redis.writeAsync(redisKey, ByteArrayCodec.INSTANCE, RedisCommands.PEXPIRE, redisKey, ms))
        .thenApply(Boolean.TRUE::equals);
  }

  @Override
  public void clear() {
    checkOpen();
    String pattern = escapeGlob(options.keyPrefix()) + "*";
    if (cluster) {
      // SCAN covers one node; Redisson's deleteByPattern scans and deletes on every primary.
      try {
        await(this.<Long>send(() -> client.redisson().getKeys().deleteByPatternAsync(pattern))
            .exceptionallyCompose(error -> CompletableFuture.failedFuture(failure(null, error))));
      } finally {
        invalidateAllLocally();
      }
      return;
    }
    try {
      String cursor = "0";
      do {
        String at = cursor;
        List<Object> reply =
            await(this.<List<Object>>send(() ->
                    redis.readAsync(new byte[] {0}, ByteArrayCodec.INSTANCE, RAW_SCAN, at, "MATCH", pattern, "COUNT", 1000))
                .exceptionallyCompose(error -> CompletableFuture.failedFuture(failure(null, error))));
        cursor = new String((byte[]) reply.get(0), StandardCharsets.US_ASCII);
        @SuppressWarnings("unchecked")
        List<Object> keys = (List<Object>) reply.get(1);
        if (!keys.isEmpty()) {
          Object[] batch = keys.toArray();
          await(this.<Object>send(() -> redis.writeAsync((byte[]) batch[0], ByteArrayCodec.INSTANCE, RedisCommands.UNLINK, batch))
              .exceptionallyCompose(error -> CompletableFuture.failedFuture(failure(null, error))));
        }
      } while (!cursor.equals("0"));
    } finally {
      invalidateAllLocally();
    }
  }

  // ------------------------------------------------------------ plumbing

  /**
   * Sends one command through Redisson; the returned future completes with Redis's reply, the
   * failure, or a {@link TimeoutException} after {@code commandTimeout + 250 ms}, whichever comes
   * first.
   *
   * <p>Redisson is configured not to retry: after a response timeout it would resend the command,
   * and a conditional write that Redis had in fact applied would then report {@code false}. The
   * only failure resent here is one where the command provably never reached Redis (Redisson could
   * not connect, or could not write it to a connection that had just died), at most
   * {@value #MAX_RESENDS} times, {@value #RESEND_DELAY_MILLIS} ms apart, within the same bound.
   */
  private <R> CompletableFuture<R> send(Supplier<? extends CompletionStage<R>> command) {
    return send(command, true);
  }

  /**
   * As {@link #send(Supplier)}; {@code newRoundTrip} false for a command sent together with
   * another that already counted the round trip.
   */
  private <R> CompletableFuture<R> send(Supplier<? extends CompletionStage<R>> command, boolean newRoundTrip) {
    CompletableFuture<R> reply = new CompletableFuture<>();
    if (newRoundTrip) {
      roundTrips.increment();
    }
    attempt(command, reply, System.nanoTime() + operationTimeoutNanos, 0);
    return reply.orTimeout(operationTimeoutNanos, TimeUnit.NANOSECONDS);
  }

  private static final int MAX_RESENDS = 2;
  private static final long RESEND_DELAY_MILLIS = 100;

  private <R> void attempt(
      Supplier<? extends CompletionStage<R>> command, CompletableFuture<R> reply, long deadline, int resends) {
    try {
      command.get().whenComplete((r, e) -> {
        if (e == null) {
          reply.complete(r);
        } else if (resends < MAX_RESENDS
            && neverSent(unwrap(e))
            && !reply.isDone()
            && deadline - System.nanoTime() > TimeUnit.MILLISECONDS.toNanos(RESEND_DELAY_MILLIS)) {
          CompletableFuture.delayedExecutor(RESEND_DELAY_MILLIS, TimeUnit.MILLISECONDS)
              .execute(() -> attempt(command, reply, deadline, resends + 1));
        } else {
          reply.completeExceptionally(e);
        }
      });
    } catch (RuntimeException e) {
      reply.completeExceptionally(e);
    }
  }

  /**
   * Whether Redis cannot have received the command: Redisson found no connection, or writing to
   * the connection failed (a write that reached the socket completes its promise first).
   */
  private static boolean neverSent(Throwable cause) {
    return cause instanceof RedisConnectionException; // WriteRedisConnectionException included
  }

  /**
   * Sends a write of {@code key}. Whatever happens, the key may have changed, so it is invalidated
   * locally before the caller sees the result: when Redis answers or fails, when the cache gives
   * up waiting (Redis may still apply the write), and again if Redis answers after that.
   */
  private <R> CompletableFuture<R> write(K key, Supplier<? extends CompletionStage<R>> command) {
    return this.<R>send(() -> command.get().whenComplete((reply, error) -> invalidateLocally(key)))
        .handle((reply, error) -> {
          if (error == null) {
            return reply;
          }
          Throwable cause = unwrap(error);
          if (cause instanceof TimeoutException) {
            invalidateLocally(key);
          }
          throw failure(key, cause);
        });
  }

  private CompletableFuture<Boolean> eval(K key, byte[] redisKey, String script, Object... args) {
    return this.<Boolean>write(key, () ->
            redis.evalWriteAsync(
                routing(redisKey), ByteArrayCodec.INSTANCE, RedisCommands.EVAL_BOOLEAN, script, List.of(redisKey), args))
        .thenApply(Boolean.TRUE::equals);
  }

  /** Redisson routes scripts by a String key; a single server ignores it. */
  private static String routing(byte[] redisKey) {
    return new String(redisKey, StandardCharsets.ISO_8859_1);
  }

  private static Object[] setArgs(byte[] redisKey, byte[] value, @Nullable Long ttlMillis) {
    return ttlMillis == null
        ? new Object[] {redisKey, value}
        : new Object[] {redisKey, value, "PX", ttlMillis};
  }

  private byte[] redisKey(K key) {
    byte[] encoded;
    try {
      encoded = keyCodec.encode(key);
    } catch (RuntimeException e) {
      throw new CodecException("cannot encode key '" + key + "' of cache '" + name() + "' with " + keyCodec, e);
    }
    if (prefix.length == 0) {
      return encoded;
    }
    byte[] full = Arrays.copyOf(prefix, prefix.length + encoded.length);
    System.arraycopy(encoded, 0, full, prefix.length, encoded.length);
    return full;
  }

  private byte[] encode(K key, V value) {
    try {
      return valueCodec.encode(value);
    } catch (RuntimeException e) {
      throw new CodecException("cannot encode the value of key '" + key + "' of cache '" + name() + "' with " + valueCodec, e);
    }
  }

  private V decode(K key, byte[] raw) {
    try {
      return valueCodec.decode(raw);
    } catch (RuntimeException e) {
      throw new CodecException(
          "key '" + key + "' of cache '" + name() + "' holds " + raw.length + " bytes that " + valueCodec
              + " cannot decode (written by another client?)",
          e);
    }
  }

  /**
   * Forgets {@code key} locally: raises the flag of its registered read (so whatever that read
   * stores, before or after, is never served), then removes the near entry (which takes out what a
   * read that already deregistered stored). Never throws: it runs in callbacks whose futures must
   * complete, even after close.
   */
  private void invalidateLocally(K key) {
    Load<V> load = loads.get(key);
    if (load != null) {
      load.invalidated.raised = true;
    }
    try {
      near.remove(key);
      if (absent != null) {
        absent.remove(key);
      }
    } catch (RuntimeException e) {
      if (!isClosed()) {
        log.warn("Cache '{}' could not remove a key from its near cache", name(), e);
      }
    }
  }

  /**
   * Forgets every key locally. The epoch moves first: every near entry and every read registered
   * before, whenever it stores, carries an older epoch and is never served as fresh.
   */
  private void invalidateAllLocally() {
    epoch.incrementAndGet();
    for (Load<V> load : loads.values()) {
      load.invalidated.raised = true;
    }
    clearNear();
  }

  private void clearNear() {
    try {
      near.clear();
      if (absent != null) {
        absent.clear();
      }
    } catch (RuntimeException e) {
      if (!isClosed()) {
        log.warn("Cache '{}' could not clear its near cache", name(), e);
      }
    }
  }

  private static Throwable unwrap(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /**
   * Whether {@code cause} means Redis could not be reached or did not answer in time (as opposed
   * to answering with an error): Redisson's connection and timeout failures, a server that is
   * loading or busy, a client shutting down, and our own bound.
   */
  static boolean isUnavailable(Throwable cause) {
    return cause instanceof TimeoutException
        || cause instanceof BackendUnavailableException
        || cause instanceof RedisConnectionException
        || cause instanceof RedisTimeoutException
        || cause instanceof RedisRetryException
        || cause instanceof RedisNodeNotFoundException
        || cause instanceof RedisReconnectedException
        || cause instanceof RedissonShutdownException
        || cause instanceof CancellationException
        || cause instanceof IOException;
  }

  /** The exception a caller sees for a failed command on {@code key} (null: no single key). */
  private CacheException failure(@Nullable K key, Throwable error) {
    Throwable cause = unwrap(error);
    if (cause instanceof CacheException ce) {
      return ce;
    }
    String which = key == null ? "" : " for key '" + key + "'";
    if (cause instanceof TimeoutException || cause instanceof RedisTimeoutException) {
      return new BackendUnavailableException(
          "Redis at " + options.address() + " did not answer within " + Duration.ofNanos(operationTimeoutNanos)
              + which + " of cache '" + name() + "'", cause);
    }
    if (isUnavailable(cause)) {
      return new BackendUnavailableException(
          "Redis at " + options.address() + " is unavailable" + which + " of cache '" + name() + "': " + describe(cause), cause);
    }
    return new CacheException(
        "Redis at " + options.address() + " rejected the command" + which + " of cache '" + name() + "': " + describe(cause), cause);
  }

  /** Redisson's message up to where it starts listing the channel and the command's arguments. */
  private static String describe(Throwable cause) {
    String message = String.valueOf(cause.getMessage());
    int cut = message.length();
    for (String marker : new String[] {". channel:", ", channel:", " channel:", "command:", "Command:", "params:"}) {
      int at = message.indexOf(marker);
      if (at >= 0 && at < cut) {
        cut = at;
      }
    }
    return message.substring(0, cut).strip();
  }

  private <T> T await(CompletionStage<T> stage) {
    return await(stage, operationTimeoutNanos + BACKSTOP_NANOS);
  }

  private <T> T await(CompletionStage<T> stage, long timeoutNanos) {
    CompletableFuture<T> future = stage.toCompletableFuture();
    try {
      return future.get(Math.max(0, timeoutNanos), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheException("interrupted while waiting for Redis", e);
    } catch (TimeoutException e) {
      throw failure(null, e);
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e);
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new CacheException("Redis call failed for cache '" + name() + "'", cause);
    }
  }

  private static long millis(Duration duration) {
    long ms = Checks.saturatedNanos(duration) / 1_000_000L;
    return Math.max(1, ms);
  }

  private static String escapeGlob(String text) {
    StringBuilder sb = new StringBuilder();
    for (char c : text.toCharArray()) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
        sb.append('\\');
      }
      sb.append(c);
    }
    return sb.toString();
  }

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
    return new CacheStats(
        s.hitCount(), s.missCount(), s.putCount(), s.loadSuccessCount(), s.loadFailureCount(),
        s.totalLoadTimeNanos(), near.stats().evictionCount());
  }

  @Override
  public AsyncCache<K, V> async() {
    checkOpen();
    return async;
  }

  @Override
  protected void release() {
    try {
      if (hub != null) {
        hub.unregister(listener);
      }
    } finally {
      near.close();
      if (absent != null) {
        absent.close();
      }
    }
  }

  @Override
  public List<BackendMetric> backendMetrics() {
    return List.of(
        new BackendMetric("cache.near.hits", "Reads answered by the near cache", BackendMetric.Kind.COUNTER, nearHits::sum),
        new BackendMetric("cache.near.absent.hits", "Reads answered by the near cache's record that Redis has no such key", BackendMetric.Kind.COUNTER, absentHits::sum),
        new BackendMetric("cache.near.misses", "Reads the near cache could not answer", BackendMetric.Kind.COUNTER, nearMisses::sum),
        new BackendMetric("cache.redis.roundtrips", "Commands sent to Redis", BackendMetric.Kind.COUNTER, roundTrips::sum),
        new BackendMetric("cache.near.invalidations", "Invalidations received from Redis for this cache's keys", BackendMetric.Kind.COUNTER, invalidations::sum),
        new BackendMetric("cache.near.flushes", "Times the near cache was flushed because invalidations may have been lost", BackendMetric.Kind.COUNTER, flushes::sum),
        new BackendMetric("cache.near.stale.served", "Reads answered from an unverified near copy because Redis failed", BackendMetric.Kind.COUNTER, staleServed::sum),
        new BackendMetric("cache.near.tracking", "1 while invalidations are being received, 0 otherwise", BackendMetric.Kind.GAUGE, () -> tracking ? 1 : 0),
        new BackendMetric("cache.near.expiry.only", "1 when the near cache relies on expiry alone (configured, or Redis refused tracking)", BackendMetric.Kind.GAUGE, () -> hub == null || fallback ? 1 : 0));
  }

  /** The value the near cache would serve for {@code key} now, without reading Redis; for tests. */
  @Nullable V nearValueForTest(K key) {
    Stamped<V> stamped = near.get(key);
    return stamped != null && isFresh(stamped) ? stamped.value() : null;
  }

  /** Whether the near cache would answer "absent" for {@code key} now, without reading Redis; for tests. */
  boolean nearAbsentForTest(K key) {
    return knownAbsent(key);
  }

  /** Whether the near cache is currently served (tracking up, or expiry-only); for tests. */
  boolean isCoherent() {
    return coherent;
  }

  /** Whether Redis refused tracking and the cache fell back to expiry-only; for tests. */
  boolean isFallback() {
    return fallback;
  }

  /** The Redisson executor this cache sends its commands through; for tests. */
  CommandAsyncExecutor redisForTest() {
    return redis;
  }

  /** The client's tracking hub, if this cache uses one; for tests. */
  @Nullable TrackingHub hubForTest() {
    return hub;
  }

  // ------------------------------------------------------------ types

  /**
   * A near-cache value, the epoch its read was registered in, the ticker reading at which its key
   * expires in Redis ({@code Long.MAX_VALUE}: no TTL), and its read's invalidation flag.
   */
  record Stamped<V>(V value, long epoch, long deadline, Flag invalidated) {

    /** The class of {@code Stamped<V>}, for the near cache's configuration. */
    @SuppressWarnings("unchecked") // erasure: Stamped.class is the class of every Stamped<V>
    static <V> Class<Stamped<V>> type() {
      return (Class<Stamped<V>>) (Class<?>) Stamped.class;
    }
  }

  /** Raised once, never lowered; shared by a read and the near entry it stores. */
  static final class Flag {
    volatile boolean raised;
  }

  /** An in-flight read of one key. */
  static final class Load<V> {
    final long epoch;
    final boolean cacheable;
    final CompletableFuture<@Nullable V> future = new CompletableFuture<>();
    /** Raised by an invalidation of the key, a write of it by this process, or a flush. */
    final Flag invalidated = new Flag();

    Load(long epoch, boolean cacheable) {
      this.epoch = epoch;
      this.cacheable = cacheable;
    }
  }

  private final class ChannelListener implements TrackingHub.Listener {

    @Override
    public void up() {
      epoch.incrementAndGet();
      coherent = true;
      tracking = true;
      log.debug("Cache '{}' receives invalidations from every primary of {}", name(), options.address());
    }

    @Override
    public void down(Throwable cause) {
      boolean wasCoherent = coherent;
      tracking = false;
      coherent = false;
      epoch.incrementAndGet();
      for (Load<V> load : loads.values()) {
        load.invalidated.raised = true;
      }
      if (!options.serveStaleOnError()) {
        clearNear();
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
      invalidateLocally(key);
      invalidations.increment(); // after: the metric says the invalidation was applied
    }

    @Override
    public void invalidateAll() {
      invalidateAllLocally();
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
            options.address(), reason, name(), options.nearCacheMaxAge());
      }
    }
  }

  /** The non-blocking view: the same operations, never blocking the caller. */
  private final class RedisAsyncCache implements AsyncCache<K, V> {

    @Override
    public Cache<K, V> sync() {
      return RedisCache.this;
    }

    @Override
    public CompletionStage<@Nullable V> get(K key) {
      return bounded(() -> getAsync(key));
    }

    @Override
    public CompletionStage<Map<K, V>> getAll(Iterable<? extends K> keys) {
      requireNonNull(keys, "keys");
      checkOpen();
      Map<K, Boolean> toFetch = new LinkedHashMap<>();
      Map<K, V> hits = new LinkedHashMap<>();
      Map<K, Boolean> knownAbsent = new LinkedHashMap<>();
      for (K key : keys) {
        requireNonNull(key, "keys contains null");
        if (hits.containsKey(key) || toFetch.containsKey(key) || knownAbsent.containsKey(key)) {
          continue;
        }
        Stamped<V> stamped = near.get(key);
        if (stamped != null && isFresh(stamped)) {
          nearHits.increment();
          stats.recordHits(1);
          hits.put(key, stamped.value());
        } else if (knownAbsent(key)) {
          nearHits.increment();
          absentHits.increment();
          stats.recordMisses(1);
          knownAbsent.put(key, Boolean.TRUE);
        } else {
          nearMisses.increment();
          toFetch.put(key, Boolean.TRUE);
        }
      }
      Map<K, CompletableFuture<@Nullable V>> loads = loadAll(toFetch.keySet());
      return bounded(() -> CompletableFuture.allOf(loads.values().toArray(CompletableFuture[]::new)).thenApply(ignored -> {
        Map<K, V> result = new LinkedHashMap<>(hits);
        loads.forEach((k, f) -> {
          V v = f.join();
          if (v != null) {
            stats.recordHits(1);
            result.put(k, v);
          } else {
            stats.recordMisses(1);
          }
        });
        return result;
      }));
    }

    @Override
    public CompletionStage<Void> put(K key, V value) {
      return bounded(() -> putAsync(key, value, expireAfterWriteMillis));
    }

    @Override
    public CompletionStage<Void> put(K key, V value, Duration ttl) {
      requireNonNull(key, "key");
      requireNonNull(value, "value");
      Checks.requirePositiveTtl(ttl);
      checkOpen();
      checkPerEntryTtl();
      return bounded(() -> putAsync(key, value, millis(ttl)));
    }

    @Override
    public CompletionStage<Boolean> putIfAbsent(K key, V value) {
      return bounded(() -> conditionalSet(key, value, "NX"));
    }

    @Override
    public CompletionStage<Boolean> replace(K key, V oldValue, V newValue) {
      return bounded(() -> compareAndSet(key, oldValue, newValue));
    }

    @Override
    public CompletionStage<Boolean> remove(K key) {
      return bounded(() -> removeAsync(key));
    }

    @Override
    public CompletionStage<Boolean> expire(K key, Duration ttl) {
      return bounded(() -> expireAsync(key, ttl));
    }

    /**
     * Starts an operation: argument errors and use after close are thrown; a runtime failure (a
     * codec that cannot encode) fails the stage, as the blocking form would throw it. The stage is
     * bounded like a blocking caller's wait.
     */
    private <T> CompletionStage<T> bounded(Supplier<CompletableFuture<T>> operation) {
      CompletableFuture<T> future;
      try {
        future = operation.get();
      } catch (CacheException e) {
        return CompletableFuture.failedFuture(e);
      }
      return future
          .copy()
          .orTimeout(operationTimeoutNanos + BACKSTOP_NANOS, TimeUnit.NANOSECONDS)
          .exceptionallyCompose(error -> CompletableFuture.failedFuture(failure(null, error)));
    }
  }
}
