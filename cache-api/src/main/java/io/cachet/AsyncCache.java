package io.cachet;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * The non-blocking view of a {@link Cache}: the same operations, each returning a stage that
 * completes with the result or with the exception the blocking form would throw.
 *
 * <p>Argument errors (a null key, a negative duration) and use after close are thrown directly,
 * not through the stage. Thread-safe.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public interface AsyncCache<K, V> {

  /** Returns the blocking view of the same cache. */
  Cache<K, V> sync();

  /** Non-blocking {@link Cache#get(Object)}. */
  CompletionStage<@Nullable V> get(K key);

  /** Non-blocking {@link Cache#getAll(Iterable)}. */
  CompletionStage<Map<K, V>> getAll(Iterable<? extends K> keys);

  /** Non-blocking {@link Cache#put(Object, Object)}. */
  CompletionStage<Void> put(K key, V value);

  /** Non-blocking {@link Cache#put(Object, Object, Duration)}. */
  CompletionStage<Void> put(K key, V value, Duration ttl);

  /** Non-blocking {@link Cache#putIfAbsent(Object, Object)}. */
  CompletionStage<Boolean> putIfAbsent(K key, V value);

  /** Non-blocking {@link Cache#replace(Object, Object, Object)}. */
  CompletionStage<Boolean> replace(K key, V oldValue, V newValue);

  /** Non-blocking {@link Cache#remove(Object)}. */
  CompletionStage<Boolean> remove(K key);

  /** Non-blocking {@link Cache#expire(Object, Duration)}. */
  CompletionStage<Boolean> expire(K key, Duration ttl);
}
