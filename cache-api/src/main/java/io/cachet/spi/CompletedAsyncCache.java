package io.cachet.spi;

import static java.util.Objects.requireNonNull;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The {@link AsyncCache} view of a cache whose operations never block for long, such as a local
 * one: each call runs the blocking operation and returns an already completed stage.
 *
 * <p>Argument and state errors are thrown directly; failures of the operation itself complete the
 * stage exceptionally. Thread-safe if the cache is.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class CompletedAsyncCache<K, V> implements AsyncCache<K, V> {

  private final Cache<K, V> cache;

  /** Wraps {@code cache}. */
  public CompletedAsyncCache(Cache<K, V> cache) {
    this.cache = requireNonNull(cache, "cache");
  }

  @Override
  public Cache<K, V> sync() {
    return cache;
  }

  @Override
  public CompletionStage<@Nullable V> get(K key) {
    requireNonNull(key, "key");
    return run(() -> cache.get(key));
  }

  @Override
  public CompletionStage<Map<K, V>> getAll(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    return run(() -> cache.getAll(keys));
  }

  @Override
  public CompletionStage<Void> put(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    return run(
        () -> {
          cache.put(key, value);
          return null;
        });
  }

  @Override
  public CompletionStage<Void> put(K key, V value, Duration ttl) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    Checks.requirePositiveTtl(ttl);
    return run(
        () -> {
          cache.put(key, value, ttl);
          return null;
        });
  }

  @Override
  public CompletionStage<Boolean> putIfAbsent(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    return run(() -> cache.putIfAbsent(key, value));
  }

  @Override
  public CompletionStage<Boolean> replace(K key, V oldValue, V newValue) {
    requireNonNull(key, "key");
    requireNonNull(oldValue, "oldValue");
    requireNonNull(newValue, "newValue");
    return run(() -> cache.replace(key, oldValue, newValue));
  }

  @Override
  public CompletionStage<Boolean> remove(K key) {
    requireNonNull(key, "key");
    return run(() -> cache.remove(key));
  }

  @Override
  public CompletionStage<Boolean> expire(K key, Duration ttl) {
    requireNonNull(key, "key");
    Checks.requireNonNegativeTtl(ttl);
    return run(() -> cache.expire(key, ttl));
  }

  private <T> CompletionStage<T> run(Supplier<T> operation) {
    if (cache.isClosed()) {
      throw new IllegalStateException("cache '" + cache.name() + "' is closed");
    }
    try {
      return CompletableFuture.completedFuture(operation.get());
    } catch (IllegalStateException | IllegalArgumentException | NullPointerException e) {
      throw e;
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
