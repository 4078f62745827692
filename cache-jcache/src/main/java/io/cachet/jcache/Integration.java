package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.cache.Cache;
import javax.cache.expiry.Duration;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheLoaderException;
import javax.cache.integration.CacheWriter;
import javax.cache.integration.CacheWriterException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application code a {@link CachetCache} calls out to: its cache loader and cache writer
 * (either may be absent) and its expiry policy. Maps their failures to what JCache callers expect:
 * a loader's to {@link CacheLoaderException}, a writer's to {@link CacheWriterException}, and an
 * expiry policy's to a logged warning and a safe default. Called under key locks; thread-safe as
 * far as the application's code is.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class Integration<K, V> {

  private static final Logger log = LoggerFactory.getLogger(CachetCache.class);

  /** Deadline sentinel: keep the current deadline. */
  static final long UNCHANGED = Long.MIN_VALUE;
  /** Deadline sentinel: the entry expires now. */
  static final long IMMEDIATELY = Long.MIN_VALUE + 1;

  private final String name;
  private final @Nullable CacheLoader<K, V> loader;
  private final @Nullable CacheWriter<K, V> writer;
  private final ExpiryPolicy expiry;

  Integration(
      String name, @Nullable CacheLoader<K, V> loader, @Nullable CacheWriter<K, V> writer, ExpiryPolicy expiry) {
    this.name = name;
    this.loader = loader;
    this.writer = writer;
    this.expiry = expiry;
  }

  boolean hasLoader() {
    return loader != null;
  }

  boolean hasWriter() {
    return writer != null;
  }

  /** The loader, the writer and the expiry policy, for closing those that are {@code Closeable}. */
  List<Object> resources() {
    return java.util.Arrays.asList(loader, writer, expiry);
  }

  // ---------------------------------------------------------------- loader

  @Nullable V load(K key) {
    try {
      return requireNonNull(loader).load(key);
    } catch (CacheLoaderException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CacheLoaderException("the cache loader of cache '" + name + "' failed: " + e, e);
    }
  }

  Map<K, V> loadAll(List<K> keysToLoad) {
    try {
      Map<K, V> loaded = requireNonNull(loader).loadAll(keysToLoad);
      return loaded == null ? Map.of() : loaded;
    } catch (CacheLoaderException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CacheLoaderException("the cache loader of cache '" + name + "' failed: " + e, e);
    }
  }

  // ---------------------------------------------------------------- writer

  /** Writes through; a failure leaves the cache unchanged (the caller has not stored yet). */
  void writeThrough(K key, V value) {
    if (writer == null) {
      return;
    }
    try {
      writer.write(new CachetEntry<>(key, value));
    } catch (RuntimeException e) {
      throw writerFailure(e);
    }
  }

  void deleteThrough(K key) {
    if (writer == null) {
      return;
    }
    try {
      writer.delete(key);
    } catch (RuntimeException e) {
      throw writerFailure(e);
    }
  }

  /**
   * Writes {@code entries} through with one {@code writeAll}; on failure, leaves in {@code entries}
   * those the writer did not write (the writer removes those it wrote) and returns the failure.
   */
  @Nullable CacheWriterException writeAll(Collection<Cache.Entry<? extends K, ? extends V>> entries) {
    try {
      requireNonNull(writer).writeAll(entries);
      return null;
    } catch (RuntimeException e) {
      return writerFailure(e);
    }
  }

  /**
   * Deletes {@code keys} through with one {@code deleteAll}; on failure, leaves in {@code keys}
   * those the writer did not delete and returns the failure.
   */
  @Nullable CacheWriterException deleteAll(Collection<?> keys) {
    try {
      requireNonNull(writer).deleteAll(keys);
      return null;
    } catch (RuntimeException e) {
      return writerFailure(e);
    }
  }

  private CacheWriterException writerFailure(RuntimeException e) {
    if (e instanceof CacheWriterException writerException) {
      return writerException;
    }
    return new CacheWriterException("the cache writer of cache '" + name + "' failed: " + e, e);
  }

  // ---------------------------------------------------------------- expiry

  /** The deadline of an entry created at {@code now}: a time, {@link Expirable#ETERNAL} or {@link #IMMEDIATELY}. */
  long creationDeadline(long now) {
    Duration duration = ask(expiry::getExpiryForCreation, "a creation; the entry never expires", Duration.ETERNAL);
    long deadline = deadline(duration, now);
    return deadline == UNCHANGED ? Expirable.ETERNAL : deadline;
  }

  /** The deadline of an entry updated at {@code now}, or one of the sentinels. */
  long updateDeadline(long now) {
    return deadline(ask(expiry::getExpiryForUpdate, "an update; expiry unchanged", null), now);
  }

  /** The deadline of an entry read at {@code now}, or one of the sentinels. */
  long accessDeadline(long now) {
    return deadline(ask(expiry::getExpiryForAccess, "an access; expiry unchanged", null), now);
  }

  /** The policy's answer, or {@code onFailure} (logged) when it throws. */
  private @Nullable Duration ask(
      Supplier<@Nullable Duration> policy, String failureOutcome, @Nullable Duration onFailure) {
    try {
      return policy.get();
    } catch (RuntimeException e) {
      log.warn("The expiry policy of cache '{}' failed for {}", name, failureOutcome, e);
      return onFailure;
    }
  }

  /** Turns a policy's answer into a deadline or one of the sentinels. */
  private static long deadline(@Nullable Duration duration, long now) {
    if (duration == null) {
      return UNCHANGED;
    }
    if (duration.isEternal()) {
      return Expirable.ETERNAL;
    }
    if (duration.isZero()) {
      return IMMEDIATELY;
    }
    long millis = duration.getTimeUnit().toMillis(duration.getDurationAmount());
    long sum = now + millis;
    return ((now ^ sum) & (millis ^ sum)) < 0 || sum == Long.MAX_VALUE ? Expirable.ETERNAL : sum;
  }
}
