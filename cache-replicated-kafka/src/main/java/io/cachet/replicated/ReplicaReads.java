package io.cachet.replicated;

import io.cachet.CacheNotReadyException;
import io.cachet.spi.StatsCounter;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The reads of a replicated cache, each answered from one whole replica. A rebuild marks the node
 * not ready and then empties the replica to replay the log; a read that passed the readiness check
 * just before could otherwise find the map half emptied and report present keys absent. So a read
 * takes the replica's reset stamp before the check ({@link #begin}) and, once it has looked the
 * keys up, fails with {@link CacheNotReadyException} (as a read during the rebuild does) if a reset
 * began since. Thread-safe.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class ReplicaReads<K, V> {

  private final String name;
  private final String topic;
  private final Replica<K, V> replica;
  private final StatsCounter stats;
  private final InstantSource clock;
  private final Runnable requireReadable;

  /** @param requireReadable throws unless the cache serves reads now (open, running, replayed) */
  ReplicaReads(String name, String topic, Replica<K, V> replica, StatsCounter stats, InstantSource clock,
      Runnable requireReadable) {
    this.name = name;
    this.topic = topic;
    this.replica = replica;
    this.stats = stats;
    this.clock = clock;
    this.requireReadable = requireReadable;
  }

  /** Checks that the cache serves reads now, and returns the stamp to pass to the read. */
  long begin() {
    long stamp = replica.resetStamp(); // first: a rebuild marks the node not ready before it resets
    requireReadable.run();
    return stamp;
  }

  /** Returns the entry of {@code key}, not counted in the statistics. */
  @Nullable Entry<V> entry(K key, long stamp) {
    Entry<V> entry = replica.get(key);
    requireNoResetSince(stamp);
    return entry;
  }

  /**
   * Returns the live value of {@code key}, or {@code null}, counting a hit or a miss.
   *
   * @throws io.cachet.CacheException when this node cannot decode the value ({@link Unreadable})
   */
  @Nullable V get(K key, long stamp) {
    return counted(key, entry(key, stamp));
  }

  /** As {@link #get}, counting a hit but no miss ({@code get(key, loader)}'s lookup: its load counts that). */
  @Nullable V getCountingHits(K key, long stamp) {
    Entry<V> entry = entry(key, stamp);
    if (entry == null || !entry.isLive(clock.millis())) {
      return null;
    }
    Unreadable.check(entry.value(), name, key, "read");
    stats.recordHits(1);
    return entry.value();
  }

  /**
   * Returns the live values of {@code keys}, in their order, counting a hit or a miss per key.
   *
   * @throws io.cachet.CacheException when this node cannot decode one of the values ({@link Unreadable})
   */
  Map<K, V> getAll(List<K> keys, long stamp) {
    List<@Nullable Entry<V>> entries = new ArrayList<>(keys.size());
    for (K key : keys) {
      entries.add(replica.get(key));
    }
    requireNoResetSince(stamp);
    long now = clock.millis();
    for (int i = 0; i < keys.size(); i++) { // a read that fails counts nothing
      Entry<V> entry = entries.get(i);
      if (entry != null && entry.isLive(now)) {
        Unreadable.check(entry.value(), name, keys.get(i), "read");
      }
    }
    Map<K, V> found = new LinkedHashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      V value = counted(keys.get(i), entries.get(i));
      if (value != null) {
        found.put(keys.get(i), value);
      }
    }
    return found;
  }

  private @Nullable V counted(K key, @Nullable Entry<V> entry) {
    if (entry != null && entry.isLive(clock.millis())) {
      Unreadable.check(entry.value(), name, key, "read");
      stats.recordHits(1);
      return entry.value();
    }
    stats.recordMisses(1);
    return null;
  }

  private void requireNoResetSince(long stamp) {
    if (!replica.unchangedSince(stamp)) {
      throw new CacheNotReadyException("cache '" + name + "' began rebuilding its replica from topic '" + topic
          + "' during the read", null);
    }
  }
}
