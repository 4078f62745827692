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

  /** Every removal goes through this cache: an entry that left without one was evicted or expired. */
  @Override
  protected final boolean removalsAreLocal() {
    return true;
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

  /**
   * Tells the listener, on the configured executor, that an entry left; never throws. Whatever the
   * listener throws, an {@link Error} too (an {@code AssertionError} of a test), is logged and goes
   * no further, as in Caffeine: the change it reports is done, and the other removals of the same
   * operation are still to be told.
   */
  final void notifyRemoval(K key, V value, RemovalCause cause) {
    if (listener == null || isClosed()) {
      return;
    }
    Runnable task = () -> tellListener(key, value, cause);
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      log.warn("Executor of cache '{}' rejected a removal notification; running it here", config.name(), e);
      task.run();
    }
  }

  /**
   * Runs the listener on this thread (the executor's, where it reports a removal it was handed);
   * never throws, as {@link #notifyRemoval} explains.
   */
  final void tellListener(K key, V value, RemovalCause cause) {
    RemovalListener<? super K, ? super V> l = listener;
    if (l == null) {
      return;
    }
    try {
      l.onRemoval(key, value, cause);
    } catch (Throwable e) {
      log.warn("Removal listener of cache '{}' threw for cause {}", config.name(), cause, e);
    }
  }

  /**
   * Times to live of this many nanoseconds or more (about 146 years) never expire: a deadline is
   * compared with ticker readings by their difference, so it must stay within half the ticker's
   * range of them.
   */
  static final long NEVER_NANOS = 1L << 62;

  /**
   * Returns the ticker reading {@code nanos} after {@code now}, wrapping past {@link
   * Long#MAX_VALUE} as the ticker itself may (only differences of readings matter), or {@link
   * Long#MAX_VALUE}, meaning never, for {@code nanos} of {@link #NEVER_NANOS} or more. A deadline
   * that falls on {@code Long.MAX_VALUE} itself comes a nanosecond early.
   */
  static long deadline(long now, long nanos) {
    if (nanos >= NEVER_NANOS) {
      return Long.MAX_VALUE;
    }
    long sum = now + nanos;
    return sum == Long.MAX_VALUE ? sum - 1 : sum;
  }

  static long ttlNanos(Duration ttl) {
    return Checks.saturatedNanos(ttl);
  }
}
