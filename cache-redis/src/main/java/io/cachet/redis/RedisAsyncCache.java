package io.cachet.redis;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The non-blocking view of a {@link RedisCache}: the same operations, never blocking the caller.
 * Argument errors and use after close are thrown; a runtime failure (a codec that cannot encode)
 * fails the stage, as the blocking form would throw it. Every stage is bounded like a blocking
 * caller's wait. Thread-safe.
 */
final class RedisAsyncCache<K, V> implements AsyncCache<K, V> {

  private final RedisCache<K, V> cache;

  RedisAsyncCache(RedisCache<K, V> cache) {
    this.cache = cache;
  }

  @Override
  public Cache<K, V> sync() {
    return cache;
  }

  @Override
  public CompletionStage<@Nullable V> get(K key) {
    return bounded(() -> cache.getAsync(key));
  }

  @Override
  public CompletionStage<Map<K, V>> getAll(Iterable<? extends K> keys) {
    Map<K, CompletableFuture<@Nullable V>> pending = cache.startGetAll(keys);
    return bounded(() -> CompletableFuture.allOf(pending.values().toArray(CompletableFuture[]::new)).thenApply(ignored -> {
      Map<K, V> result = new LinkedHashMap<>();
      pending.forEach((k, f) -> {
        V v = f.join();
        if (v != null) {
          result.put(k, v);
        }
      });
      return result;
    }));
  }

  @Override
  public CompletionStage<Void> put(K key, V value) {
    return bounded(() -> cache.putAsync(key, value));
  }

  @Override
  public CompletionStage<Void> put(K key, V value, Duration ttl) {
    return bounded(() -> cache.putAsync(key, value, ttl));
  }

  @Override
  public CompletionStage<Boolean> putIfAbsent(K key, V value) {
    return bounded(() -> cache.conditionalSet(key, value, "NX"));
  }

  @Override
  public CompletionStage<Boolean> replace(K key, V oldValue, V newValue) {
    return bounded(() -> cache.compareAndSet(key, oldValue, newValue));
  }

  @Override
  public CompletionStage<Boolean> remove(K key) {
    return bounded(() -> cache.removeAsync(key));
  }

  @Override
  public CompletionStage<Boolean> expire(K key, Duration ttl) {
    return bounded(() -> cache.expireAsync(key, ttl));
  }

  /** Starts an operation and bounds its stage; a {@link CacheException} on the way fails the stage. */
  private <T> CompletionStage<T> bounded(Supplier<CompletableFuture<T>> operation) {
    CompletableFuture<T> future;
    try {
      future = operation.get();
    } catch (CacheException e) {
      return CompletableFuture.failedFuture(e);
    }
    RedisTransport redis = cache.transport();
    return redis.withBackstop(future.copy())
        .exceptionallyCompose(error -> CompletableFuture.failedFuture(CommandTimeouts.completion(redis.failure(null, error))));
  }
}
