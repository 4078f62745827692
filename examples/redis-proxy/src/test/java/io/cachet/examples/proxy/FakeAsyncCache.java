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
 * hits); every other read returns a stage the test completes by hand (a Redis round trip).
 */
final class FakeAsyncCache implements AsyncCache<String, byte[]> {

  final Map<String, byte[]> values = new ConcurrentHashMap<>();
  final Map<String, CompletableFuture<byte @Nullable []>> slow = new ConcurrentHashMap<>();
  final List<String> reads = new CopyOnWriteArrayList<>();
  volatile boolean recordReads = true;

  @Override
  public Cache<String, byte[]> sync() {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<byte @Nullable []> get(String key) {
    if (recordReads) {
      reads.add(key);
    }
    byte[] value = values.get(key);
    if (value != null) {
      return CompletableFuture.completedFuture(value);
    }
    return slow.computeIfAbsent(key, k -> new CompletableFuture<>());
  }

  @Override
  public CompletionStage<Map<String, byte[]>> getAll(Iterable<? extends String> keys) {
    Map<String, byte[]> found = new LinkedHashMap<>();
    for (String key : keys) {
      reads.add(key);
      byte[] value = values.get(key);
      if (value != null) {
        found.put(key, value);
      }
    }
    return CompletableFuture.completedFuture(found);
  }

  @Override
  public CompletionStage<Void> put(String key, byte[] value) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Void> put(String key, byte[] value, Duration ttl) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Boolean> putIfAbsent(String key, byte[] value) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Boolean> replace(String key, byte[] oldValue, byte[] newValue) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Boolean> remove(String key) {
    throw new UnsupportedOperationException();
  }

  @Override
  public CompletionStage<Boolean> expire(String key, Duration ttl) {
    throw new UnsupportedOperationException();
  }
}
