package io.cachet.local;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.RemovalCause;
import io.cachet.RemovalListener;
import io.cachet.spi.AbstractCache;
import io.cachet.spi.Checks;
import io.cachet.spi.CompletedAsyncCache;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both local stores add to the SPI's {@link AbstractCache}: the async view, expiry arithmetic
 * and removal-listener dispatch.
 */
abstract class AbstractLocalCache<K, V> extends AbstractCache<K, V> {

  private static final Logger log = LoggerFactory.getLogger(AbstractLocalCache.class);

  final long expireAfterWriteNanos;
  private final @Nullable RemovalListener<? super K, ? super V> listener;
  private final Executor executor;
  private final AsyncCache<K, V> async;

  AbstractLocalCache(CacheConfig<K, V> config, Consumer<Cache<?, ?>> onClose) {
    super(config, onClose);
    this.expireAfterWriteNanos =
        config.expireAfterWrite().map(Checks::saturatedNanos).orElse(Long.MAX_VALUE);
    this.listener = config.removalListener().orElse(null);
    this.executor = config.executor();
    this.async = new CompletedAsyncCache<>(this);
  }

  @Override
  public final AsyncCache<K, V> async() {
    checkOpen();
    return async;
  }

  final boolean hasListener() {
    return listener != null;
  }

  /** Adds {@code count} evictions to the statistics. */
  final void recordEvictions(int count) {
    stats.recordEvictions(count);
  }

  /** Tells the listener, on the configured executor, that an entry left; never throws. */
  final void notifyRemoval(K key, V value, RemovalCause cause) {
    RemovalListener<? super K, ? super V> l = listener;
    if (l == null || isClosed()) {
      return;
    }
    Runnable task =
        () -> {
          try {
            l.onRemoval(key, value, cause);
          } catch (RuntimeException e) {
            log.warn("Removal listener of cache '{}' threw for cause {}", config.name(), cause, e);
          }
        };
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      log.warn("Executor of cache '{}' rejected a removal notification; running it here", config.name(), e);
      task.run();
    }
  }

  /** Returns {@code now + nanos}, saturating at {@link Long#MAX_VALUE} (meaning never). */
  static long deadline(long now, long nanos) {
    if (nanos == Long.MAX_VALUE) {
      return Long.MAX_VALUE;
    }
    long sum = now + nanos;
    return ((now ^ sum) & (nanos ^ sum)) < 0 ? Long.MAX_VALUE : sum;
  }

  static long ttlNanos(Duration ttl) {
    return Checks.saturatedNanos(ttl);
  }
}
