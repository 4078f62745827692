package io.cachet.redis;

import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/** An in-flight read of one key. */
final class NearLoad<V> {
  final boolean cacheable;
  final CompletableFuture<@Nullable V> future = new CompletableFuture<>();
  /** The entry this read may store, with its epoch and its invalidation flag. */
  final NearEntry<V> entry;
  /** The key's Redis deadline as read ({@link NearCache#redisDeadline}); set before the future completes. */
  volatile long deadline = Long.MAX_VALUE;

  NearLoad(long epoch, boolean cacheable) {
    this.entry = new NearEntry<>(epoch);
    this.cacheable = cacheable;
  }
}
