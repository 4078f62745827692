package io.cachet.examples.cluster;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.FakeTicker;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * A node cache on the {@code local} backend, created through the same CacheManager API as the
 * replicated one, with a fake clock, a readiness switch and an optional failure for writes.
 */
final class LocalNodeCache implements NodeCache {

  final FakeTicker ticker = new FakeTicker();
  final CacheManager manager = CacheManager.create();
  final Cache<String, String> cache;
  volatile boolean ready = true;
  volatile @Nullable RuntimeException writeFailure;
  volatile @Nullable RuntimeException readFailure;
  /** When set, writes wait for it to complete (a write in flight, as on a slow Kafka). */
  volatile @Nullable CompletableFuture<Void> writeGate;

  LocalNodeCache(long capacity) {
    this(capacity, b -> b);
  }

  LocalNodeCache(long capacity, UnaryOperator<CacheConfig.Builder<String, String>> extra) {
    cache = manager.create(extra.apply(CacheConfig.builder("test")
            .backend("local")
            .maximumSize(capacity)
            .ticker(ticker)
            .clock(ticker))
        .build());
  }

  @Override
  public AsyncCache<String, String> async() {
    AsyncCache<String, String> real = cache.async();
    return new AsyncCache<>() {
      @Override
      public Cache<String, String> sync() {
        return cache;
      }

      @Override
      public CompletionStage<@Nullable String> get(String key) {
        RuntimeException e = readFailure;
        return e != null ? CompletableFuture.failedFuture(e) : real.get(key);
      }

      @Override
      public CompletionStage<java.util.Map<String, String>> getAll(Iterable<? extends String> keys) {
        return real.getAll(keys);
      }

      @Override
      public CompletionStage<Void> put(String key, String value) {
        RuntimeException e = writeFailure;
        CompletableFuture<Void> gate = writeGate;
        if (gate != null) {
          return gate.thenCompose(v -> real.put(key, value));
        }
        return e != null ? CompletableFuture.failedFuture(e) : real.put(key, value);
      }

      @Override
      public CompletionStage<Void> put(String key, String value, java.time.Duration ttl) {
        RuntimeException e = writeFailure;
        return e != null ? CompletableFuture.failedFuture(e) : real.put(key, value, ttl);
      }

      @Override
      public CompletionStage<Boolean> putIfAbsent(String key, String value) {
        return real.putIfAbsent(key, value);
      }

      @Override
      public CompletionStage<Boolean> replace(String key, String oldValue, String newValue) {
        return real.replace(key, oldValue, newValue);
      }

      @Override
      public CompletionStage<Boolean> remove(String key) {
        RuntimeException e = writeFailure;
        return e != null ? CompletableFuture.failedFuture(e) : real.remove(key);
      }

      @Override
      public CompletionStage<Boolean> expire(String key, java.time.Duration ttl) {
        return real.expire(key, ttl);
      }
    };
  }

  @Override
  public ReplicaState state() {
    return ready
        ? new ReplicaState(true, 10, 10, 1.0, 0, 0, cache.estimatedSize())
        : new ReplicaState(false, 3, 10, 0.3, 7, 0, cache.estimatedSize());
  }

  @Override
  public void close() {
    manager.close();
  }
}
