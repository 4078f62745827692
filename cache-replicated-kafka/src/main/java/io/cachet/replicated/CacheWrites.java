package io.cachet.replicated;

import static java.util.Objects.requireNonNull;

import io.cachet.replicated.RecordMeta.Op;
import io.cachet.replicated.Writer.Applied;
import io.cachet.replicated.Writer.Decider;
import io.cachet.replicated.Writer.Decision;
import io.cachet.spi.Checks;
import io.cachet.spi.StatsCounter;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write operations of one replicated cache, as futures: checks each one's arguments and decides,
 * from the key's live entry, the state its record writes and the answer it returns once applied.
 * A "no" answer is written too, as a record restating the state it saw (docs/replication.md).
 * Thread-safe; the sync API and the async view both call it.
 */
final class CacheWrites<K, V> {

  /** The cache's one logger name: operators' log settings refer to it. */
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);

  private final String name;
  private final boolean perEntryTtl;
  private final long maximumSize;
  private final @Nullable Duration defaultTtl;
  private final InstantSource clock;
  private final StatsCounter stats;
  private final Replica<K, V> replica;
  private final Writer<K, V> writer;
  private final Runnable requireWritable;
  private final Consumer<K> removing;
  private final Consumer<K> writing;

  /**
   * @param requireWritable throws unless the cache takes writes now (open, running, ready)
   * @param removing tells a load of the key in flight that the key is being removed
   *     ({@code AbstractCache.removing})
   * @param writing tells a load of the key in flight that the key is being written
   *     ({@code AbstractCache.writing})
   */
  CacheWrites(String name, boolean perEntryTtl, long maximumSize, @Nullable Duration defaultTtl, InstantSource clock,
      StatsCounter stats, Replica<K, V> replica, Writer<K, V> writer, Runnable requireWritable,
      Consumer<K> removing, Consumer<K> writing) {
    this.name = name;
    this.perEntryTtl = perEntryTtl;
    this.maximumSize = maximumSize;
    this.defaultTtl = defaultTtl;
    this.clock = clock;
    this.stats = stats;
    this.replica = replica;
    this.writer = writer;
    this.requireWritable = requireWritable;
    this.removing = removing;
    this.writing = writing;
  }

  /** Writes {@code key} as {@code decider} decides, once the cache takes writes. */
  private <R> CompletableFuture<R> write(K key, Op op, Decider<V, R> decider) {
    requireWritable.run();
    return writer.write(key, op, decider);
  }

  /**
   * Writes a removal of {@code key} the caller asked for, its arguments checked: once the cache
   * takes writes, a load of the key in flight learns of it first, so that the value it loaded
   * before the removal does not outlive it. A removal refused here tells the load nothing.
   */
  private <R> CompletableFuture<R> removal(K key, Op op, Decider<V, R> decider) {
    requireWritable.run();
    removing.accept(key);
    return writer.write(key, op, decider);
  }

  /** As {@link #removal}, for a write of a value the caller asked for. */
  private <R> CompletableFuture<R> userWrite(K key, Op op, Decider<V, R> decider) {
    requireWritable.run();
    writing.accept(key);
    return writer.write(key, op, decider);
  }

  /** Returns the absolute deadline of a value written at {@code now}: {@code ttl}, else the default; 0 for none. */
  private long deadlineFor(@Nullable Duration ttl, long now) {
    Duration d = ttl != null ? ttl : defaultTtl;
    if (d == null) {
      return 0;
    }
    long millis = Math.max(1, saturatedMillis(d));
    return now > Long.MAX_VALUE - millis ? Long.MAX_VALUE : now + millis;
  }

  private static long saturatedMillis(Duration d) {
    try {
      return d.toMillis();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /**
   * New keys are refused once the replica holds maximumSize values; replicas never evict. A key
   * whose value has expired but is still held (its removal record has not landed) is not new: the
   * size counts it, and writing it adds nothing.
   */
  private void checkCapacity(K key) {
    Entry<V> held = replica.get(key);
    if ((held == null || held.value() == null) && replica.size() >= maximumSize) {
      throw new ReplicaFullException("cache '" + name + "' holds " + replica.size()
          + " entries, its maximumSize is " + maximumSize + "; key '" + key + "' was not written");
    }
  }

  CompletableFuture<Void> put(K key, V value, @Nullable Duration ttl) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    if (ttl != null) {
      requireTtlAllowed();
      Checks.requirePositiveTtl(ttl);
    }
    // Counted once, when the record applied: never for a write that failed, never per attempt.
    return userWrite(key, Op.PUT, (live, now) ->
        admit(key, new Decision<>(Op.PUT, false, value, deadlineFor(ttl, now), a -> {
          stats.recordPuts(1);
          return null;
        })));
  }

  CompletableFuture<Boolean> putIfAbsent(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    return userWrite(key, Op.PUT_IF_ABSENT, (live, now) -> {
      if (live != null) {
        return restate(Op.PUT_IF_ABSENT, live, a -> false);
      }
      return admit(key, new Decision<>(Op.PUT_IF_ABSENT, true, value, deadlineFor(null, now), a -> {
        stats.recordPuts(1);
        return true;
      }));
    });
  }

  /**
   * Stores {@code value}, loaded by {@code get(key, loader)}, unless the key holds a live value;
   * completes with the value the key holds afterwards.
   */
  CompletableFuture<V> storeLoaded(K key, V value) {
    return write(key, Op.PUT_IF_ABSENT, (live, now) -> live != null
        ? restate(Op.PUT_IF_ABSENT, live, a -> live.value())
        : admit(key, new Decision<>(Op.PUT_IF_ABSENT, true, value, deadlineFor(null, now), a -> {
          stats.recordPuts(1); // a value stored counts as a put (AbstractCache.storeLoaded)
          return value;
        })));
  }

  CompletableFuture<Boolean> replace(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    return userWrite(key, Op.REPLACE, (live, now) -> live == null
        ? restate(Op.REPLACE, null, a -> false)
        : new Decision<>(Op.REPLACE, true, value, deadlineFor(null, now), a -> {
          stats.recordPuts(1); // a replace that applied stored a value, as on every backend
          return true;
        }));
  }

  CompletableFuture<Boolean> replace(K key, V oldValue, V newValue) {
    requireNonNull(key, "key");
    requireNonNull(oldValue, "oldValue");
    requireNonNull(newValue, "newValue");
    requireWritable.run();
    writing.accept(key);
    return replaceReloaded(key, oldValue, newValue);
  }

  /** {@code replace(key, oldValue, newValue)} as a reload's own write: no load of the key is told. */
  CompletableFuture<Boolean> replaceReloaded(K key, V oldValue, V newValue) {
    return write(key, Op.REPLACE_IF_EQUAL, (live, now) -> live == null || !live.value().equals(oldValue)
        ? restate(Op.REPLACE_IF_EQUAL, live, a -> false)
        : new Decision<>(Op.REPLACE_IF_EQUAL, true, newValue, deadlineFor(null, now), a -> {
          stats.recordPuts(1); // a replace that applied stored a value, as on every backend
          return true;
        }));
  }

  CompletableFuture<Boolean> remove(K key) {
    requireNonNull(key, "key");
    return removal(key, Op.REMOVE, (live, now) -> new Decision<>(Op.REMOVE, false, null, 0, Applied::wasPresent));
  }

  CompletableFuture<Boolean> remove(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    return removal(key, Op.REMOVE_IF_EQUAL, (live, now) -> live == null || !live.value().equals(value)
        ? restate(Op.REMOVE_IF_EQUAL, live, a -> false)
        : new Decision<>(Op.REMOVE_IF_EQUAL, true, null, 0, a -> true));
  }

  /** Sets {@code key}'s time to live; zero removes it. */
  CompletableFuture<Boolean> expire(K key, Duration ttl) {
    requireNonNull(key, "key");
    requireNonNull(ttl, "ttl");
    requireTtlAllowed();
    Checks.requireNonNegativeTtl(ttl);
    Decider<V, Boolean> decider = (live, now) -> {
      if (live == null) {
        return restate(Op.EXPIRE, null, a -> false);
      }
      return ttl.isZero()
          ? new Decision<>(Op.EXPIRE, true, null, 0, a -> true)
          : new Decision<>(Op.EXPIRE, true, live.value(), deadlineFor(ttl, now), a -> true);
    };
    return ttl.isZero() ? removal(key, Op.EXPIRE, decider) : write(key, Op.EXPIRE, decider);
  }

  /**
   * The keys this replica holds a value for, which {@code clear()} removes with {@link #clear}
   * one by one ({@link BulkWrites}); checks first that the cache takes writes.
   */
  List<K> keysToClear() {
    requireWritable.run();
    List<K> keys = new ArrayList<>();
    for (Map.Entry<K, Entry<V>> e : replica.entries()) {
      if (e.getValue().value() != null) {
        keys.add(e.getKey());
      }
    }
    LOG.debug("Cache '{}' clearing {} key(s) at {}", name, keys.size(), clock.millis());
    return keys;
  }

  /** Removes {@code key}, whatever it holds, as part of a {@code clear()}: one tombstone. */
  CompletableFuture<Boolean> clear(K key) {
    return write(key, Op.CLEAR, (live, t) -> new Decision<>(Op.CLEAR, false, null, 0, Applied::wasPresent));
  }

  /** A record that keeps the key as it is: the answer is "no", and the log must say so at this point. */
  private static <V, R> Decision<V, R> restate(Op op, @Nullable Entry<V> live, Function<Applied, R> result) {
    return live == null
        ? new Decision<>(op, true, null, 0, result)
        : new Decision<>(op, true, live.value(), live.deadline(), result);
  }

  /** Returns {@code decision} unless it would add a key to a full replica. */
  private <R> Decision<V, R> admit(K key, Decision<V, R> decision) {
    checkCapacity(key);
    return decision;
  }

  private void requireTtlAllowed() {
    if (!perEntryTtl) {
      throw new IllegalStateException("cache '" + name + "' does not allow per-entry TTLs: it was built with perEntryTtl(false)");
    }
  }
}
