package io.cachet.replicated;

import static java.util.Objects.requireNonNull;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The non-blocking view of a replicated cache: completes on the configured executor, never on
 * Kafka's threads or the apply thread, so a caller that blocks in a callback cannot stall
 * replication. Thread-safe.
 */
final class AsyncView<K, V> implements AsyncCache<K, V> {

  private final ReplicatedKafkaCache<K, V> cache;
  private final CacheWrites<K, V> writes;
  private final Executor executor;

  AsyncView(ReplicatedKafkaCache<K, V> cache, CacheWrites<K, V> writes, Executor executor) {
    this.cache = cache;
    this.writes = writes;
    this.executor = executor;
  }

  @Override
  public Cache<K, V> sync() {
    return cache;
  }

  @Override
  public CompletionStage<@Nullable V> get(K key) {
    requireNonNull(key, "key");
    return start(() -> cache.getAsync(key));
  }

  @Override
  public CompletionStage<Map<K, V>> getAll(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    return start(() -> cache.getAllAsync(keys));
  }

  @Override
  public CompletionStage<Void> put(K key, V value) {
    return start(() -> writes.put(key, value, null));
  }

  @Override
  public CompletionStage<Void> put(K key, V value, Duration ttl) {
    requireNonNull(ttl, "ttl");
    return start(() -> writes.put(key, value, ttl));
  }

  @Override
  public CompletionStage<Boolean> putIfAbsent(K key, V value) {
    return start(() -> writes.putIfAbsent(key, value));
  }

  @Override
  public CompletionStage<Boolean> replace(K key, V oldValue, V newValue) {
    return start(() -> writes.replace(key, oldValue, newValue));
  }

  @Override
  public CompletionStage<Boolean> remove(K key) {
    return start(() -> writes.remove(key));
  }

  @Override
  public CompletionStage<Boolean> expire(K key, Duration ttl) {
    requireNonNull(ttl, "ttl");
    return start(() -> writes.expire(key, ttl));
  }

  /** Argument errors throw; everything else completes the returned stage, on the executor. */
  private <T> CompletionStage<T> start(Supplier<CompletableFuture<T>> operation) {
    CompletableFuture<T> inner;
    try {
      inner = operation.get();
    } catch (NullPointerException | IllegalArgumentException | IllegalStateException e) {
      throw e;
    } catch (RuntimeException e) {
      inner = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<T> outer = new CompletableFuture<>();
    // executor.execute, not whenCompleteAsync: CompletableFuture swaps the common pool for a new
    // thread per task when the pool has fewer than two threads (a 2-CPU machine).
    inner.whenComplete((value, error) -> {
      try {
        executor.execute(() -> {
          if (error != null) {
            outer.completeExceptionally(Futures.unwrap(error));
          } else {
            outer.complete(value);
          }
        });
      } catch (RuntimeException rejected) {
        outer.completeExceptionally(rejected);
      }
    });
    return outer;
  }
}
