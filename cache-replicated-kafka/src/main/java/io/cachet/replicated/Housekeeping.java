package io.cachet.replicated;

import io.cachet.replicated.RecordMeta.Op;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * The periodic upkeep of one cache's topic, run by the apply thread every 250 ms once the replica is
 * ready: anchors for keys whose latest record is void, removal records for expired entries, and the
 * periodic snapshot. Records are sent without waiting for them. Apply thread only, except the
 * counters, which any thread may read.
 */
final class Housekeeping<K, V> {

  /** How long the writer of a void record leaves it before anchoring it (its own retry usually lands first). */
  static final long OWN_ANCHOR_DELAY_MS = 2_000;
  /** How long any other node leaves an unanchored key or an expired entry before taking it on. */
  static final long FALLBACK_DELAY_MS = 30_000;
  private static final long HOUSEKEEPING_INTERVAL_MS = 250;

  private final String nodeId;
  private final Replica<K, V> replica;
  private final Writer<K, V> writer;
  private final SnapshotStore<K, V> snapshots;
  private final LongAdder anchorsWritten = new LongAdder();
  private final LongAdder expiredRemoved = new LongAdder();
  // Apply thread only.
  private final Map<K, Long> anchorAttempts = new HashMap<>();
  private long nextHousekeeping;

  Housekeeping(String nodeId, Replica<K, V> replica, Writer<K, V> writer, SnapshotStore<K, V> snapshots) {
    this.nodeId = nodeId;
    this.replica = replica;
    this.writer = writer;
    this.snapshots = snapshots;
  }

  /**
   * Writes anchors for unanchored keys and removals for expired entries, and saves a due snapshot;
   * at most every 250 ms (apply thread, once ready).
   */
  void run(long now) {
    if (now < nextHousekeeping) {
      return;
    }
    nextHousekeeping = now + HOUSEKEEPING_INTERVAL_MS;
    for (Map.Entry<K, Entry<V>> e : replica.pollExpired(now)) {
      Entry<V> entry = e.getValue();
      boolean mine = entry.writer().equals(nodeId);
      if (mine || now >= entry.deadline() + FALLBACK_DELAY_MS) {
        // Removes the expired value so compaction can drop the key; void if the key changed meanwhile.
        writer.send(e.getKey(), Op.EXPIRED, true, entry.offset(), null, 0, -1);
        expiredRemoved.increment();
        replica.retryExpiry(e.getKey(), entry, now + FALLBACK_DELAY_MS);
      } else {
        replica.retryExpiry(e.getKey(), entry, entry.deadline() + FALLBACK_DELAY_MS + jitter());
      }
    }
    Map<K, Entry<V>> unanchored = replica.unanchored();
    anchorAttempts.keySet().removeIf(k -> !unanchored.containsKey(k));
    for (Map.Entry<K, Entry<V>> e : unanchored.entrySet()) {
      Entry<V> entry = e.getValue();
      boolean mine = entry.writer().equals(nodeId);
      long age = now - entry.appliedAtMillis();
      Long attempted = anchorAttempts.get(e.getKey());
      if ((attempted != null && attempted == entry.offset()) || age < (mine ? OWN_ANCHOR_DELAY_MS : FALLBACK_DELAY_MS)) {
        continue;
      }
      boolean live = entry.isLive(now);
      writer.send(e.getKey(), Op.ANCHOR, true, entry.offset(), live ? entry.value() : null, live ? entry.deadline() : 0,
          -1);
      anchorsWritten.increment();
      anchorAttempts.put(e.getKey(), entry.offset());
    }
    snapshots.saveIfDue(now);
  }

  private static long jitter() {
    return ThreadLocalRandom.current().nextLong(1_000);
  }

  /** Returns how many anchor records were sent. */
  long anchors() {
    return anchorsWritten.sum();
  }

  /** Returns how many removal records for expired entries were sent. */
  long expiredRemovals() {
    return expiredRemoved.sum();
  }
}
