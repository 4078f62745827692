package io.cachet.examples.proxy;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * An {@link AsyncCache} for handler tests: keys in {@link #values} answer at once (near-cache
 * hits); every other read returns a stage the test completes by hand (a Redis round trip). The
 * maps are keyed by each key's bytes read as ISO-8859-1 (one char per byte, so any key maps).
 */
final class FakeAsyncCache implements AsyncCache<RedisKey, byte[]> {

  final Map<String, byte[]> values = new ConcurrentHashMap<>();
  final Map<String, CompletableFuture<byte @Nullable []>> slow = new ConcurrentHashMap<>();
  final List<String> reads = new CopyOnWriteArrayList<>();
  /** Keys whose reads fail with this error (a key holding another type than a string, in Redis). */
  final Map<String, RuntimeException> failing = new ConcurrentHashMap<>();
  volatile boolean recordReads = true;

  @Override
  public Cache<RedisKey, byte[]> sync() {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<byte @Nullable []> get(RedisKey redisKey) {
    String key = name(redisKey);
    if (recordReads) {
      reads.add(key);
    }
    RuntimeException failure = failing.get(key);
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    byte[] value = values.get(key);
    if (value != null) {
      return CompletableFuture.completedFuture(value);
    }
    return slow.computeIfAbsent(key, k -> new CompletableFuture<>());
  }

  /** When set, every getAll returns it (the test completes it), after recording the keys. */
  volatile @Nullable CompletableFuture<Map<RedisKey, byte[]>> slowGetAll;

  @Override
  public CompletionStage<Map<RedisKey, byte[]>> getAll(Iterable<? extends RedisKey> keys) {
    CompletableFuture<Map<RedisKey, byte[]>> slowAll = slowGetAll;
    if (slowAll != null) {
      keys.forEach(k -> reads.add(name(k)));
      return slowAll;
    }
    Map<RedisKey, byte[]> found = new LinkedHashMap<>();
    for (RedisKey redisKey : keys) {
      String key = name(redisKey);
      reads.add(key);
      RuntimeException failure = failing.get(key);
      if (failure != null) {
        return CompletableFuture.failedFuture(failure); // one key's failure fails the whole read, as on Redis
      }
      byte[] value = values.get(key);
      if (value != null) {
        found.put(redisKey, value);
      }
    }
    return CompletableFuture.completedFuture(found);
  }

  @Override
  public CompletionStage<Void> put(RedisKey key, byte[] value) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Void> put(RedisKey key, byte[] value, Duration ttl) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Boolean> putIfAbsent(RedisKey key, byte[] value) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Boolean> replace(RedisKey key, byte[] oldValue, byte[] newValue) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Boolean> remove(RedisKey key) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Boolean> expire(RedisKey key, Duration ttl) {
    throw new UnsupportedOperationException();
  }

  /** The test's name for a key: its bytes as ISO-8859-1. */
  static String name(RedisKey key) {
    return new String(RedisKey.CODEC.encode(key), java.nio.charset.StandardCharsets.ISO_8859_1);
  }
}
