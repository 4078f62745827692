package io.cachet.local;

import static java.util.Objects.requireNonNull;

import io.cachet.AsyncCache;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheLoadException;
import io.cachet.RemovalCause;
import io.cachet.RemovalListener;
import io.cachet.spi.Checks;
import io.cachet.spi.CompletedAsyncCache;
import io.cachet.spi.StatsCounter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What both local stores share: configuration, closing, listener dispatch and argument checks. */
abstract class AbstractLocalCache<K, V> implements Cache<K, V> {

  private static final Logger log = LoggerFactory.getLogger(AbstractLocalCache.class);

  final CacheConfig config;
  final StatsCounter stats;
  final long expireAfterWriteNanos;
  private final @Nullable RemovalListener<K, V> listener;
  private final Executor executor;
  private final Consumer<Cache<?, ?>> onClose;
  private final AsyncCache<K, V> async;
  volatile boolean closed;

  @SuppressWarnings("unchecked")
  AbstractLocalCache(CacheConfig config, Consumer<Cache<?, ?>> onClose) {
    this.config = requireNonNull(config, "config");
    this.onClose = onClose;
    this.stats = config.recordStats() ? StatsCounter.concurrent() : StatsCounter.disabled();
    this.expireAfterWriteNanos =
        config.expireAfterWrite().map(Checks::saturatedNanos).orElse(Long.MAX_VALUE);
    this.listener = (RemovalListener<K, V>) config.removalListener().orElse(null);
    this.executor = config.executor();
    this.async = new CompletedAsyncCache<>(this);
  }

  @Override
  public final String name() {
    return config.name();
  }

  @Override
  public final CacheConfig config() {
    return config;
  }

  @Override
  public final AsyncCache<K, V> async() {
    checkOpen();
    return async;
  }

  @Override
  public final boolean isClosed() {
    return closed;
  }

  @Override
  public final Map<K, V> getAll(Iterable<? extends K> keys) {
    requireNonNull(keys, "keys");
    checkOpen();
    Map<K, V> result = new java.util.LinkedHashMap<>();
    for (K key : keys) {
      V value = get(requireNonNull(key, "keys contains null"));
      if (value != null) {
        result.put(key, value);
      }
    }
    return result;
  }

  @Override
  public final void putAll(Map<? extends K, ? extends V> entries) {
    requireNonNull(entries, "entries");
    checkOpen();
    entries.forEach(
        (key, value) -> {
          requireNonNull(key, "entries contains a null key");
          requireNonNull(value, "entries contains a null value");
        });
    entries.forEach(this::put);
  }

  @Override
  public final <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    Object delegate = delegate();
    if (delegate != null && type.isInstance(delegate)) {
      return type.cast(delegate);
    }
    throw new IllegalArgumentException("cache '" + name() + "' cannot be unwrapped to " + type.getName());
  }

  @Override
  public final void close() {
    if (closed) {
      return;
    }
    closed = true;
    release();
    onClose.accept(this);
  }

  /** Returns the underlying implementation object offered by {@link #unwrap}, if any. */
  @Nullable Object delegate() {
    return null;
  }

  /** Drops every entry without notifying anybody; called once, on close. */
  abstract void release();

  final void checkOpen() {
    if (closed) {
      throw new IllegalStateException("cache '" + config.name() + "' is closed");
    }
  }

  final void checkPerEntryTtl() {
    if (!config.perEntryTtl()) {
      throw new IllegalStateException(
          "cache '" + config.name() + "' was configured with perEntryTtl(false)");
    }
  }

  final boolean hasListener() {
    return listener != null;
  }

  /** Tells the listener, on the configured executor, that an entry left; never throws. */
  final void notifyRemoval(K key, V value, RemovalCause cause) {
    RemovalListener<K, V> l = listener;
    if (l == null || closed) {
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

  /** Wraps a loader failure, keeping one that is already a {@link CacheLoadException}. */
  final CacheLoadException loadFailure(K key, Throwable cause) {
    if (cause instanceof CacheLoadException e) {
      return e;
    }
    return new CacheLoadException(
        "loading key '" + key + "' into cache '" + config.name() + "' failed: " + cause, cause);
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
