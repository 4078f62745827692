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
import io.cachet.spi.BackendMetric;
import io.cachet.spi.Checks;
import io.cachet.spi.MetricsSource;
import io.cachet.spi.StatsCounter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.jspecify.annotations.Nullable;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.command.CommandAsyncExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache whose truth lives in Redis, read through a local near cache.
 *
 * <h2>Coherence protocol</h2>
 *
 * Near entries are {@link Stamped} with the <em>epoch</em> in which they were loaded. The epoch
 * changes whenever the invalidation channel goes down or comes up, and a near entry is served only
 * while the channel is up ({@code coherent}) and its stamp equals the current epoch. So a
 * disconnect flushes the whole near cache in O(1), and nothing cached before it is served again
 * without re-reading Redis; the stale copies stay only for {@code serveStaleOnError}.
 *
 * <p>A read that misses registers a {@link Load} for its key <em>before</em> sending {@code GET};
 * concurrent misses on the key share it (single-flight). An invalidation for the key sets the
 * load's {@code invalidated} flag and then removes the near entry; the load, when its reply
 * arrives, stores the value and then re-checks the flag (and the epoch), removing what it stored if
 * either changed. Whichever order the two run in, a value read before a concurrent write is never
 * left in the near cache after that write's invalidation was received.
 *
 * <p>Writes go to Redis and, when they complete (successfully or not), invalidate the key locally
 * in the same way, so a thread always reads its own writes. Every Redis call is bounded by
 * {@code commandTimeout} (plus one retry) and fails with {@link BackendUnavailableException}.
 *
 * <p>Thread-safe. Threads: callers; Redisson's event loops complete loads and writes (they only
 * touch concurrent maps and the near cache, never block); the invalidation channel's thread.
 */
final class RedisCache<K, V> implements Cache<K, V>, MetricsSource {

  private static final Logger log = LoggerFactory.getLogger(RedisCache.class);

  private static final String COMPARE_AND_SET =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then "
          + "if ARGV[3] ~= '' then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) "
          + "else redis.call('SET', KEYS[1], ARGV[2]) end return 1 end return 0";
  /** GET and PTTL in one round trip, so a near copy never outlives the key's TTL in Redis. */
  private static final String GET_WITH_TTL =
      "return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}";
  private static final String MGET_WITH_TTL =
      "local r = {} for i, k in ipairs(KEYS) do "
          + "r[2 * i - 1] = redis.call('GET', k) r[2 * i] = redis.call('PTTL', k) end return r";
  private static final String COMPARE_AND_DELETE =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end return 0";

  private final CacheConfig config;
  private final RedisOptions options;
  private final Codec<K> keyCodec;
  private final Codec<V> valueCodec;
  private final byte[] prefix;
  private final CommandAsyncExecutor redis;
  private final Cache<K, Stamped<V>> near;
  private final ConcurrentHashMap<K, Load<V>> loads = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<K, CompletableFuture<@Nullable V>> loaderCalls = new ConcurrentHashMap<>();
  private final Consumer<Cache<?, ?>> onClose;
  private final Ticker ticker;
  private final StatsCounter stats;
  private final long operationTimeoutNanos;
  private final @Nullable Long expireAfterWriteMillis;
  private final @Nullable InvalidationChannel channel;
  private final AsyncCache<K, V> async = new RedisAsyncCache();

  /**
   * A stage each read waits for between Redis's reply and caching; already complete, so reads
   * continue inline. Tests return an incomplete stage to hold a read there without blocking any
   * thread (Redisson's event loops must never block).
   */
  volatile Function<Object, CompletionStage<?>> beforeCaching = key -> DONE;

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final AtomicLong epoch = new AtomicLong();
  private volatile boolean coherent;
  private volatile boolean fallback;
  private volatile boolean closed;
  private final AtomicBoolean warnedFallback = new AtomicBoolean();
  private final LongAdder roundTrips = new LongAdder();
  private final LongAdder nearHits = new LongAdder();
  private final LongAdder nearMisses = new LongAdder();
  private final LongAdder invalidations = new LongAdder();
  private final LongAdder flushes = new LongAdder();
  private final LongAdder staleServed = new LongAdder();

  @SuppressWarnings("unchecked")
  RedisCache(CacheConfig config, RedisOptions options, CommandAsyncExecutor redis, Consumer<Cache<?, ?>> onClose) {
    this.config = config;
    this.options = options;
    this.keyCodec = (Codec<K>) config.keyCodec();
    this.valueCodec = (Codec<V>) config.valueCodec();
    this.prefix = options.keyPrefix().getBytes(StandardCharsets.UTF_8);
    this.redis = redis;
    this.onClose = onClose;
    this.ticker = config.ticker();
    this.stats = config.recordStats() ? StatsCounter.concurrent() : StatsCounter.disabled();
    // One retry is configured on the client; leave room for it and a little scheduling slack.
    this.operationTimeoutNanos = options.commandTimeout().multipliedBy(2).plusMillis(250).toNanos();
    this.expireAfterWriteMillis = config.expireAfterWrite().map(RedisCache::millis).orElse(null);
    this.near =
        LocalCacheProvider.createStandalone(
            CacheConfig.builder(config.name() + "-near")
                .maximumSize(config.maximumSize())
                .evictionPolicy(config.evictionPolicy())
                .expireAfterWrite(options.nearCacheMaxAge())
                .perEntryTtl(false)
                .ticker(config.ticker())
                .executor(config.executor())
                .build());
    if (options.coherence() == Coherence.TRACKING) {
      URI uri = URI.create(options.address());
      this.channel =
          new InvalidationChannel(
              config.name(),
              uri,
              options.username().orElse(null),
              options.password().orElse(null),
              prefix,
              options.connectTimeout(),
              Duration.ofSeconds(1),
              new ChannelListener());
      this.coherent = false;
      channel.start();
    } else {
      this.channel = null;
      this.coherent = true;
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
    nearMisses.increment();
    // Redis is the cache: a value found there is a hit; the near cache has its own metrics.
    return load(key, stamped).thenApply(value -> {
      if (value != null) {
        stats.recordHits(1);
      } else {
        stats.recordMisses(1);
      }
      return value;
    });
  }

  private boolean isFresh(Stamped<V> stamped) {
    return coherent
        && stamped.epoch() == epoch.get()
        && (stamped.deadline() == Long.MAX_VALUE || ticker.read() - stamped.deadline() < 0);
  }

  /** Reads {@code key} from Redis once per key at a time; caches the result if still valid. */
  private CompletableFuture<@Nullable V> load(K key, @Nullable Stamped<V> stale) {
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
    roundTrips.increment();
    redis
        .<List<Object>, List<Object>>evalReadAsync(
            routing(redisKey), ByteArrayCodec.INSTANCE, RedisCommands.EVAL_LIST, GET_WITH_TTL, List.of(redisKey))
        .whenComplete((reply, error) -> beforeCaching.apply(key).whenComplete((ignored, hookError) -> {
          try {
            complete(key, mine, stale, reply, error, ticker.read() - start);
          } catch (RuntimeException e) {
            loads.remove(key, mine);
            mine.future.completeExceptionally(e); // no-op if already completed
          }
        }));
    return mine.future.copy();
  }

  /**
   * Completes a single-key read. Deregisters the load before completing it: a caller that arrives
   * once the value is out must start a new read, never join this finished one (see register).
   */
  private void complete(
      K key, Load<V> mine, @Nullable Stamped<V> stale, @Nullable List<Object> reply,
      @Nullable Throwable error,
      long elapsed) {
    if (error != null) {
      stats.recordLoadFailure(elapsed);
      loads.remove(key, mine);
      if (options.serveStaleOnError() && stale != null) {
        staleServed.increment();
        mine.future.complete(stale.value());
      } else {
        mine.future.completeExceptionally(unavailable(error));
      }
      return;
    }
    Object raw = reply.isEmpty() ? null : reply.get(0);
    if (!(raw instanceof byte[] bytes)) {
      loads.remove(key, mine);
      mine.future.complete(null); // no such key: a miss, not a failed load
      return;
    }
    V value;
    try {
      value = decode(key, bytes);
    } catch (CodecException e) {
      stats.recordLoadFailure(elapsed);
      loads.remove(key, mine);
      mine.future.completeExceptionally(e);
      return;
    }
    stats.recordLoadSuccess(elapsed);
    try {
      cacheIfStillValid(key, mine, value, reply.size() > 1 ? reply.get(1) : null);
    } finally {
      loads.remove(key, mine);
    }
    mine.future.complete(value);
  }

  private void cacheIfStillValid(K key, Load<V> load, V value, @Nullable Object pttl) {
    if (!load.cacheable || load.epoch != epoch.get() || load.invalidated) {
      return;
    }
    long deadline = Long.MAX_VALUE;
    if (pttl instanceof Long ms && ms >= 0) {
      // The key expires in Redis after ms: the near copy must not outlive it.
      deadline = ticker.read() + TimeUnit.MILLISECONDS.toNanos(ms);
    }
    Stamped<V> stamped = new Stamped<>(value, load.epoch, deadline);
    near.put(key, stamped);
    // Re-check after the put: an invalidation that raced us either saw our entry (and removed
    // it) or set the flag before removing, which we see here. See the class notes.
    if (load.invalidated || load.epoch != epoch.get()) {
      near.remove(key, stamped);
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
      if (!theirs.invalidated) {
        return theirs;
      }
      if (loads.replace(key, theirs, mine)) {
        return null;
      }
    }
  }

  @Override
  public @Nullable V get(K key, Function<? super K, ? extends @Nullable V> loader) {
    requireNonNull(key, "key");
    requireNonNull(loader, "loader");
    V present = get(key);
    if (present != null) {
      return present;
    }
    // One loader call per key at a time in this process; the others wait for its result.
    CompletableFuture<@Nullable V> mine = new CompletableFuture<>();
    CompletableFuture<@Nullable V> theirs = loaderCalls.putIfAbsent(key, mine);
    if (theirs != null) {
      try {
        return theirs.join();
      } catch (CompletionException e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        throw cause instanceof CacheLoadException cle ? cle : loadFailure(key, cause);
      }
    }
    try {
      V raced = await(load(key, null)); // someone may have stored it since our miss
      if (raced != null) {
        mine.complete(raced);
        return raced;
      }
      V loaded;
      long start = ticker.read();
      try {
        loaded = loader.apply(key);
      } catch (RuntimeException e) {
        stats.recordLoadFailure(ticker.read() - start);
        CacheLoadException failure = loadFailure(key, e);
        mine.completeExceptionally(failure);
        throw failure;
      }
      if (loaded == null) {
        stats.recordLoadFailure(ticker.read() - start);
        mine.complete(null);
        return null;
      }
      stats.recordLoadSuccess(ticker.read() - start);
      // Store unless another client did meanwhile; then theirs wins, as in a local cache.
      V winner = putIfAbsent(key, loaded) ? loaded : get(key);
      V result = winner != null ? winner : loaded;
      mine.complete(result);
      return result;
    } catch (RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      loaderCalls.remove(key, mine);
    }
  }

  private CacheLoadException loadFailure(K key, Throwable cause) {
    return new CacheLoadException(
        "loading key '" + key + "' into cache '" + name() + "' failed: " + cause, cause);
  }

  @Override
  public Map<K, V> getAll(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    checkOpen();
    Map<K, CompletableFuture<@Nullable V>> pending = new LinkedHashMap<>();
    Map<K, @Nullable Stamped<V>> toFetch = new LinkedHashMap<>();
    for (K key : keys) {
      requireNonNull(key, "keys contains null");
      if (pending.containsKey(key)) {
        continue;
      }
      Stamped<V> stamped = near.get(key);
      if (stamped != null && isFresh(stamped)) {
        nearHits.increment();
        pending.put(key, CompletableFuture.completedFuture(stamped.value()));
      } else {
        nearMisses.increment();
        toFetch.put(key, stamped);
        pending.put(key, null);
      }
    }
    pending.putAll(loadAll(toFetch));
    Map<K, V> result = new LinkedHashMap<>();
    for (Map.Entry<K, CompletableFuture<@Nullable V>> e : pending.entrySet()) {
      V value = await(e.getValue());
      if (value != null) {
        stats.recordHits(1);
        result.put(e.getKey(), value);
      } else {
        stats.recordMisses(1);
      }
    }
    return result;
  }

  /** Loads several keys with one MGET, sharing loads already in flight. */
  private Map<K, CompletableFuture<@Nullable V>> loadAll(Map<K, @Nullable Stamped<V>> keys) {
    Map<K, CompletableFuture<@Nullable V>> futures = new LinkedHashMap<>();
    List<K> owned = new ArrayList<>();
    List<Load<V>> ownedLoads = new ArrayList<>();
    List<Object> redisKeys = new ArrayList<>();
    for (K key : keys.keySet()) {
      Load<V> mine = new Load<>(epoch.get(), coherent);
      Load<V> theirs = register(key, mine);
      if (theirs != null) {
        futures.put(key, theirs.future.copy());
        continue;
      }
      try {
        redisKeys.add(redisKey(key));
      } catch (CacheException e) {
        loads.remove(key, mine);
        mine.future.completeExceptionally(e);
        futures.put(key, mine.future.copy());
        continue;
      }
      owned.add(key);
      ownedLoads.add(mine);
      futures.put(key, mine.future.copy());
    }
    if (owned.isEmpty()) {
      return futures;
    }
    long start = ticker.read();
    roundTrips.increment();
    redis
        .<List<Object>, List<Object>>evalReadAsync(
            routing((byte[]) redisKeys.get(0)), ByteArrayCodec.INSTANCE, RedisCommands.EVAL_LIST, MGET_WITH_TTL, redisKeys)
        .whenComplete((values, error) -> {
          long elapsed = ticker.read() - start;
          for (int i = 0; i < owned.size(); i++) {
            K key = owned.get(i);
            Load<V> load = ownedLoads.get(i);
            try {
              if (error != null) {
                loads.remove(key, load);
                Stamped<V> stale = keys.get(key);
                if (options.serveStaleOnError() && stale != null) {
                  staleServed.increment();
                  load.future.complete(stale.value());
                } else {
                  load.future.completeExceptionally(unavailable(error));
                }
                continue;
              }
              Object raw = values.get(2 * i);
              if (!(raw instanceof byte[] bytes)) {
                loads.remove(key, load);
                load.future.complete(null);
                continue;
              }
              V value = decode(key, bytes);
              cacheIfStillValid(key, load, value, values.get(2 * i + 1));
              loads.remove(key, load); // before completing, as in load()
              load.future.complete(value);
            } catch (RuntimeException e) {
              loads.remove(key, load);
              load.future.completeExceptionally(e);
            }
          }
          if (error == null) {
            stats.recordLoadSuccess(elapsed);
          } else {
            stats.recordLoadFailure(elapsed);
          }
        });
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
    checkPerEntryTtl();
    await(putAsync(key, value, millis(ttl)));
  }

  private void checkPerEntryTtl() {
    checkOpen();
    if (!config.perEntryTtl()) {
      throw new IllegalStateException("cache '" + name() + "' was configured with perEntryTtl(false)");
    }
  }

  private CompletableFuture<Void> putAsync(K key, V value, @Nullable Long ttlMillis) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    byte[] redisKey = redisKey(key);
    Object[] args = setArgs(redisKey, encode(key, value), ttlMillis);
    return write(key, redisKey, RedisCommands.SET, args).thenApply(ok -> {
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
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    entries.forEach((k, v) -> writes.add(putAsync(k, v, expireAfterWriteMillis)));
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
    return this.<Boolean>write(key, redisKey, RedisCommands.SET_BOOLEAN, args).thenApply(stored -> {
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
    return this.<Long>write(key, redisKey, RedisCommands.DEL, redisKey).thenApply(count -> count != null && count > 0);
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
    checkPerEntryTtl();
    byte[] redisKey = redisKey(key);
    long ms = ttl.isZero() ? 0 : millis(ttl);
    return write(key, redisKey, RedisCommands.PEXPIRE, redisKey, ms);
  }

  @Override
  public void clear() {
    checkOpen();
    String pattern = escapeGlob(options.keyPrefix()) + "*";
    try {
      List<Object> batch = new ArrayList<>();
      String cursor = "0";
      do {
        roundTrips.increment();
        List<Object> reply =
            await(redis.<List<Object>, List<Object>>readAsync(new byte[] {0}, ByteArrayCodec.INSTANCE, RAW_SCAN, cursor, "MATCH", pattern, "COUNT", 1000)
                .toCompletableFuture());
        cursor = new String((byte[]) reply.get(0), StandardCharsets.US_ASCII);
        @SuppressWarnings("unchecked")
        List<Object> keys = (List<Object>) reply.get(1);
        batch.addAll(keys);
        if (!batch.isEmpty()) {
          roundTrips.increment();
          await(redis.<Long, Long>writeAsync((byte[]) batch.get(0), ByteArrayCodec.INSTANCE, RedisCommands.UNLINK, batch.toArray())
              .toCompletableFuture());
          batch.clear();
        }
      } while (!cursor.equals("0"));
    } finally {
      invalidateAllLocally();
    }
  }

  // ------------------------------------------------------------ plumbing

  /** SCAN with its reply as raw [cursor, [keys...]]. */
  private static final org.redisson.client.protocol.RedisCommand<List<Object>> RAW_SCAN =
      new org.redisson.client.protocol.RedisCommand<>("SCAN", new org.redisson.client.protocol.decoder.ObjectListReplayDecoder<>());

  private <R> CompletableFuture<R> write(K key, byte[] redisKey, org.redisson.client.protocol.RedisCommand<R> command, Object... args) {
    roundTrips.increment();
    CompletableFuture<R> result = new CompletableFuture<>();
    redis.<R, R>writeAsync(redisKey, ByteArrayCodec.INSTANCE, command, args).whenComplete((reply, error) -> {
      // Whatever happened, the key may have changed: never serve the old near copy after this.
      invalidateLocally(key);
      if (error != null) {
        result.completeExceptionally(unavailable(error));
      } else {
        result.complete(reply);
      }
    });
    return result;
  }

  private CompletableFuture<Boolean> eval(K key, byte[] redisKey, String script, Object... args) {
    roundTrips.increment();
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    redis
        .<Boolean, Boolean>evalWriteAsync(
            routing(redisKey),
            ByteArrayCodec.INSTANCE,
            RedisCommands.EVAL_BOOLEAN,
            script,
            List.of(redisKey),
            args)
        .whenComplete((reply, error) -> {
          invalidateLocally(key);
          if (error != null) {
            result.completeExceptionally(unavailable(error));
          } else {
            result.complete(Boolean.TRUE.equals(reply));
          }
        });
    return result;
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

  private void invalidateLocally(K key) {
    Load<V> load = loads.get(key);
    if (load != null) {
      load.invalidated = true;
    }
    near.remove(key);
  }

  private void invalidateAllLocally() {
    epoch.incrementAndGet();
    for (Load<V> load : loads.values()) {
      load.invalidated = true;
    }
    near.clear();
  }

  private BackendUnavailableException unavailable(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof BackendUnavailableException e) {
      return e;
    }
    return new BackendUnavailableException(
        "Redis at " + options.address() + " is unavailable for cache '" + name() + "': " + cause.getMessage(), cause);
  }

  private <T> T await(CompletionStage<T> stage) {
    CompletableFuture<T> future = stage.toCompletableFuture();
    try {
      return future.get(operationTimeoutNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheException("interrupted while waiting for Redis", e);
    } catch (TimeoutException e) {
      throw new BackendUnavailableException(
          "Redis at " + options.address() + " did not answer within " + Duration.ofNanos(operationTimeoutNanos)
              + " for cache '" + name() + "'", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof CacheException ce) {
        throw ce;
      }
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

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("cache '" + name() + "' is closed");
    }
  }

  // ------------------------------------------------------------ Cache basics

  @Override
  public String name() {
    return config.name();
  }

  @Override
  public CacheConfig config() {
    return config;
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
  public <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    throw new IllegalArgumentException("cache '" + name() + "' cannot be unwrapped to " + type.getName());
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (channel != null) {
      channel.close();
    }
    near.close();
    onClose.accept(this);
  }

  @Override
  public List<BackendMetric> backendMetrics() {
    return List.of(
        new BackendMetric("cache.near.hits", "Reads answered by the near cache", BackendMetric.Kind.COUNTER, nearHits::sum),
        new BackendMetric("cache.near.misses", "Reads the near cache could not answer", BackendMetric.Kind.COUNTER, nearMisses::sum),
        new BackendMetric("cache.redis.roundtrips", "Commands sent to Redis", BackendMetric.Kind.COUNTER, roundTrips::sum),
        new BackendMetric("cache.near.invalidations", "Invalidations received from Redis", BackendMetric.Kind.COUNTER, invalidations::sum),
        new BackendMetric("cache.near.flushes", "Times the near cache was flushed because invalidations may have been lost", BackendMetric.Kind.COUNTER, flushes::sum),
        new BackendMetric("cache.near.stale.served", "Reads answered from an unverified near copy because Redis failed", BackendMetric.Kind.COUNTER, staleServed::sum),
        new BackendMetric("cache.near.tracking", "1 while invalidations are being received, 0 otherwise", BackendMetric.Kind.GAUGE, () -> channel != null && coherent && !fallback ? 1 : 0),
        new BackendMetric("cache.near.expiry.only", "1 when the near cache relies on expiry alone (configured, or Redis refused tracking)", BackendMetric.Kind.GAUGE, () -> channel == null || fallback ? 1 : 0));
  }

  /** Whether the near cache is currently served (tracking up, or expiry-only); for tests. */
  boolean isCoherent() {
    return coherent;
  }

  /** Whether Redis refused tracking and the cache fell back to expiry-only; for tests. */
  boolean isFallback() {
    return fallback;
  }

  /** Drops the invalidation connection as if Redis had; for tests. */
  void dropInvalidationChannelForTest() {
    if (channel != null) {
      channel.disconnectForTest();
    }
  }

  // ------------------------------------------------------------ types

  /**
   * A near-cache value, the epoch it was loaded in, and the ticker reading at which its key
   * expires in Redis ({@code Long.MAX_VALUE}: no TTL).
   */
  record Stamped<V>(V value, long epoch, long deadline) {}

  /** An in-flight read of one key. */
  static final class Load<V> {
    final long epoch;
    final boolean cacheable;
    final CompletableFuture<@Nullable V> future = new CompletableFuture<>();
    volatile boolean invalidated;

    Load(long epoch, boolean cacheable) {
      this.epoch = epoch;
      this.cacheable = cacheable;
    }
  }

  private final class ChannelListener implements InvalidationChannel.Listener {

    @Override
    public void up() {
      epoch.incrementAndGet();
      coherent = true;
      log.debug("Cache '{}' receives invalidations from {}", name(), options.address());
    }

    @Override
    public void down(Throwable cause) {
      boolean wasCoherent = coherent;
      coherent = false;
      epoch.incrementAndGet();
      for (Load<V> load : loads.values()) {
        load.invalidated = true;
      }
      if (!options.serveStaleOnError()) {
        near.clear();
      }
      if (wasCoherent) {
        flushes.increment();
      }
    }

    @Override
    public void invalidate(byte[] redisKey) {
      invalidations.increment();
      if (!startsWith(redisKey, prefix)) {
        return;
      }
      K key;
      try {
        key = keyCodec.decode(Arrays.copyOfRange(redisKey, prefix.length, redisKey.length));
      } catch (RuntimeException e) {
        return; // not a key this cache can hold
      }
      invalidateLocally(key);
    }

    @Override
    public void invalidateAll() {
      invalidations.increment();
      flushes.increment();
      invalidateAllLocally();
    }

    @Override
    public void unsupported(String reason) {
      fallback = true;
      epoch.incrementAndGet();
      coherent = true;
      if (warnedFallback.compareAndSet(false, true)) {
        log.warn(
            "Redis at {} does not support client tracking ({}); cache '{}' falls back to expiry-only coherence: "
                + "near copies may be stale for up to nearCacheMaxAge={}",
            options.address(), reason, name(), options.nearCacheMaxAge());
      }
    }

    private boolean startsWith(byte[] bytes, byte[] start) {
      if (bytes.length < start.length) {
        return false;
      }
      for (int i = 0; i < start.length; i++) {
        if (bytes[i] != start[i]) {
          return false;
        }
      }
      return true;
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
      return bounded(getAsync(key));
    }

    @Override
    public CompletionStage<Map<K, V>> getAll(Iterable<? extends K> keys) {
      requireNonNull(keys, "keys");
      checkOpen();
      Map<K, @Nullable Stamped<V>> toFetch = new LinkedHashMap<>();
      Map<K, V> hits = new LinkedHashMap<>();
      for (K key : keys) {
        requireNonNull(key, "keys contains null");
        Stamped<V> stamped = near.get(key);
        if (stamped != null && isFresh(stamped)) {
          nearHits.increment();
          stats.recordHits(1);
          hits.put(key, stamped.value());
        } else {
          nearMisses.increment();
          toFetch.put(key, stamped);
        }
      }
      Map<K, CompletableFuture<@Nullable V>> loads = loadAll(toFetch);
      return bounded(CompletableFuture.allOf(loads.values().toArray(CompletableFuture[]::new)).thenApply(ignored -> {
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
      return bounded(putAsync(key, value, expireAfterWriteMillis));
    }

    @Override
    public CompletionStage<Void> put(K key, V value, Duration ttl) {
      requireNonNull(key, "key");
      requireNonNull(value, "value");
      Checks.requirePositiveTtl(ttl);
      checkPerEntryTtl();
      return bounded(putAsync(key, value, millis(ttl)));
    }

    @Override
    public CompletionStage<Boolean> putIfAbsent(K key, V value) {
      return bounded(conditionalSet(key, value, "NX"));
    }

    @Override
    public CompletionStage<Boolean> replace(K key, V oldValue, V newValue) {
      return bounded(compareAndSet(key, oldValue, newValue));
    }

    @Override
    public CompletionStage<Boolean> remove(K key) {
      return bounded(removeAsync(key));
    }

    @Override
    public CompletionStage<Boolean> expire(K key, Duration ttl) {
      return bounded(expireAsync(key, ttl));
    }

    private <T> CompletionStage<T> bounded(CompletableFuture<T> future) {
      return future
          .orTimeout(operationTimeoutNanos, TimeUnit.NANOSECONDS)
          .exceptionallyCompose(error -> {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof TimeoutException) {
              return CompletableFuture.failedFuture(new BackendUnavailableException(
                  "Redis at " + options.address() + " did not answer within " + Duration.ofNanos(operationTimeoutNanos)
                      + " for cache '" + name() + "'", cause));
            }
            return CompletableFuture.failedFuture(cause);
          });
    }
  }
}
