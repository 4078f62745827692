package io.cachet.replicated;

import io.cachet.replicated.RecordMeta.Op;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The periodic upkeep of one cache's topic, run by the apply thread every 250 ms once the replica is
 * ready: anchors for keys whose latest record is void, removal records for expired entries, and the
 * periodic snapshot. Records are sent without waiting for them. Apply thread only, except the
 * figures, which any thread may read, and {@link #anchorSent}, which the producer's thread calls.
 *
 * <p>Anchors are retried until one is in the log: a key stays unanchored until an anchor (or any
 * record that applies) lands, so an anchor that could not be sent, or whose fate is unknown, is
 * sent again ({@link #FAILED_ANCHOR_BACKOFF_MS} after a reported failure, {@code anchorRetryMillis}
 * after a send with no news). A lost anchor would be permanent divergence once the cleaner keeps
 * only the void record. The age of the oldest unanchored void record is exported and logged at WARN
 * past {@link #UNANCHORED_WARN_AFTER_MS}: it must stay well below the topic's
 * {@code min.compaction.lag.ms}.
 */
final class Housekeeping<K, V> {

  /** The cache's one logger name: operators' log settings refer to it. */
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);

  /** How long the writer of a void record leaves it before anchoring it (its own retry usually lands first). */
  static final long OWN_ANCHOR_DELAY_MS = 2_000;
  /** How long any other node leaves an unanchored key or an expired entry before taking it on. */
  static final long FALLBACK_DELAY_MS = 30_000;
  /** How long after a failed anchor send the key's anchor is sent again. */
  static final long FAILED_ANCHOR_BACKOFF_MS = 1_000;
  /** The age of the oldest unanchored void record past which a WARN is logged (then once a minute). */
  static final long UNANCHORED_WARN_AFTER_MS = 60_000;
  static final long HOUSEKEEPING_INTERVAL_MS = 250;

  private final String name;
  private final String nodeId;
  private final Replica<K, V> replica;
  private final RecordSender<K, V> sender;
  private final SnapshotStore<K, V> snapshots;
  private final long anchorRetryMillis;
  private final LongAdder anchorsWritten = new LongAdder();
  private final LongAdder anchorsFailed = new LongAdder();
  private final LongAdder expiredRemoved = new LongAdder();
  /** Anchor sends that failed, reported by the producer's thread and handled by the apply thread. */
  private final ConcurrentLinkedQueue<Sent<K>> failedAnchors = new ConcurrentLinkedQueue<>();
  private volatile int unanchoredKeys;
  private volatile long oldestUnanchoredMillis;
  // Apply thread only.
  private final Map<K, Sent<K>> anchorAttempts = new HashMap<>();
  /**
   * The offset of each expired entry whose removal is on its way (queued, or in the producer): not
   * sent again until that one is done, however long a backlog holds it. Set on the apply thread,
   * cleared on the thread that completes the send.
   */
  private final ConcurrentHashMap<K, Long> expiryInFlight = new ConcurrentHashMap<>();
  private long nextHousekeeping;
  private long nextWarning;
  /** When a record that could not be made (a codec that refuses a key or value) may next be logged. */
  private long nextRefusalWarning;

  /**
   * Expired entries whose removal one run sends, at most: 10,000 every 250 ms, 40,000 a second,
   * well under what a producer sends and a tenth of the send queue ({@link Sender#MAX_QUEUED_RECORDS}).
   */
  static final int MAX_EXPIRED_PER_RUN = 10_000;

  /** Anchors one run sends, at most, for the same reason; the keys left are due in the next run. */
  static final int MAX_ANCHORS_PER_RUN = 10_000;

  /** An anchor sent for the void record at {@code offset}; sent again from {@code retryAt} unless it lands. */
  private record Sent<K>(K key, long offset, long retryAt) {}

  /**
   * @param anchorRetryMillis how long after sending an anchor that has not landed it is sent again;
   *     longer than a send can take (the producer's delivery timeout), so that a slow anchor is
   *     rarely doubled (a doubled anchor is harmless: it is void, and anchored in turn)
   */
  Housekeeping(String name, String nodeId, Replica<K, V> replica, RecordSender<K, V> sender,
      SnapshotStore<K, V> snapshots, long anchorRetryMillis) {
    this.name = name;
    this.nodeId = nodeId;
    this.replica = replica;
    this.sender = sender;
    this.snapshots = snapshots;
    this.anchorRetryMillis = anchorRetryMillis;
  }

  /**
   * Writes anchors for unanchored keys and removals for expired entries, and saves a due snapshot;
   * at most every 250 ms (apply thread, once ready).
   */
  void run(long now) {
    run(now, () -> { });
  }

  /** As {@link #run(long)}, running {@code progress} during a long step (a snapshot save). */
  void run(long now, Runnable progress) {
    if (now < nextHousekeeping) {
      return;
    }
    nextHousekeeping = now + HOUSEKEEPING_INTERVAL_MS;
    // A bounded share per run: entries that expire together (a bulk load with one TTL) must not
    // hold the apply thread for seconds, nor fill the send queue that the application's writes use.
    for (Map.Entry<K, Entry<V>> e : replica.pollExpired(now, MAX_EXPIRED_PER_RUN)) {
      Entry<V> entry = e.getValue();
      boolean mine = entry.writer().equals(nodeId);
      if (mine || now >= entry.deadline() + FALLBACK_DELAY_MS) {
        // Removes the expired value so compaction can drop the key; void if the key changed meanwhile.
        // Tried again while the entry stays (until a later record replaces it), once this one is done.
        sendExpiryRemoval(e.getKey(), entry, now);
        replica.retryExpiry(e.getKey(), entry, now + FALLBACK_DELAY_MS);
      } else {
        replica.retryExpiry(e.getKey(), entry, entry.deadline() + FALLBACK_DELAY_MS + jitter());
      }
    }
    anchor(now);
    snapshots.saveIfDue(now, progress);
  }

  private void sendExpiryRemoval(K key, Entry<V> entry, long now) {
    Long offset = entry.offset();
    if (offset.equals(expiryInFlight.get(key))) {
      return; // its removal is still on its way
    }
    expiryInFlight.put(key, offset); // before the send: the callback may run first
    boolean queued = false;
    try {
      queued = sender.send(key, Op.EXPIRED, true, offset, null, 0, error -> {
        expiryInFlight.remove(key, offset);
        if (error == null) {
          expiredRemoved.increment();
        }
      });
    } catch (RuntimeException refused) {
      refused(key, "the removal of its expired value", refused, now);
    } finally {
      if (!queued) {
        expiryInFlight.remove(key, offset);
      }
    }
  }

  private void anchor(long now) {
    Map<K, Entry<V>> unanchored = replica.unanchored();
    for (Sent<K> failed; (failed = failedAnchors.poll()) != null; ) {
      Sent<K> attempt = anchorAttempts.get(failed.key());
      if (attempt != null && attempt.offset() == failed.offset()) {
        anchorAttempts.put(failed.key(), new Sent<>(failed.key(), failed.offset(), now + FAILED_ANCHOR_BACKOFF_MS));
      }
    }
    anchorAttempts.keySet().removeIf(k -> !unanchored.containsKey(k));
    long oldest = Long.MAX_VALUE;
    int sent = 0;
    for (Map.Entry<K, Entry<V>> e : unanchored.entrySet()) {
      K key = e.getKey();
      Entry<V> entry = e.getValue();
      oldest = Math.min(oldest, entry.timestamp());
      Sent<K> attempt = anchorAttempts.get(key);
      boolean due;
      if (attempt != null && attempt.offset() == entry.offset()) {
        due = now >= attempt.retryAt();
      } else {
        long age = now - entry.appliedAtMillis();
        due = age >= (entry.writer().equals(nodeId) ? OWN_ANCHOR_DELAY_MS : FALLBACK_DELAY_MS);
      }
      if (!due || sent >= MAX_ANCHORS_PER_RUN) {
        continue; // (past the cap, the loop still finds the oldest unanchored key for the gauge)
      }
      sent++;
      boolean live = entry.isLive(now);
      long offset = entry.offset();
      boolean queued;
      try {
        queued = sender.send(key, Op.ANCHOR, true, offset, live ? entry.value() : null,
            live ? entry.deadline() : 0, error -> anchorSent(key, offset, error));
      } catch (RuntimeException refused) {
        refused(key, "its anchor", refused, now);
        queued = false;
      }
      if (!queued) {
        anchorsFailed.increment();
      }
      anchorAttempts.put(key, new Sent<>(key, offset, now + (queued ? anchorRetryMillis : FAILED_ANCHOR_BACKOFF_MS)));
    }
    unanchoredKeys = unanchored.size();
    long age = unanchored.isEmpty() ? 0 : Math.max(0, now - oldest);
    oldestUnanchoredMillis = age;
    if (age > UNANCHORED_WARN_AFTER_MS && now >= nextWarning) {
      nextWarning = now + UNANCHORED_WARN_AFTER_MS;
      LOG.warn("Cache '{}': {} key(s) still have a void record as their latest record, the oldest written {} s ago;"
              + " their anchors have not reached the log ({} anchor send(s) failed so far) and are being retried."
              + " If this lasts longer than the topic's min.compaction.lag.ms, a node that replays the topic may"
              + " hold a different value for them", name, unanchored.size(), age / 1000, anchorsFailed.sum());
    }
  }

  /**
   * A record for {@code key} could not be made: the key or value codec refused it (an exception
   * from user code). It is tried again like a record that could not be sent; the apply thread goes
   * on, as one key must not stop the replica. Logged at WARN at most once a minute.
   */
  private void refused(K key, String what, RuntimeException error, long now) {
    if (now >= nextRefusalWarning) {
      nextRefusalWarning = now + UNANCHORED_WARN_AFTER_MS;
      LOG.warn("Cache '{}' could not make the record for {} of key '{}' and will try again (further failures"
          + " are logged at most once a minute)", name, what, key, error);
    }
  }

  /** Notes whether the anchor for the void record at {@code offset} reached the log (producer thread). */
  private void anchorSent(K key, long offset, @Nullable Exception error) {
    if (error == null) {
      anchorsWritten.increment();
      return;
    }
    if (error == Sender.DROPPED) {
      return; // not sent (a backlog held it too long): sent again at its retry time, not sooner
    }
    anchorsFailed.increment();
    failedAnchors.add(new Sent<>(key, offset, 0));
  }

  private static long jitter() {
    return ThreadLocalRandom.current().nextLong(1_000);
  }

  /** Returns how many anchor records reached the log. */
  long anchors() {
    return anchorsWritten.sum();
  }

  /**
   * Returns how many anchor records could not be queued or did not reach the log (each is sent
   * again); not those the send thread dropped unsent, which a backlog held too long.
   */
  long anchorsFailed() {
    return anchorsFailed.sum();
  }

  /** Returns how many removal records for expired entries reached the log. */
  long expiredRemovals() {
    return expiredRemoved.sum();
  }

  /** Returns how many keys had a void record as their latest record at the last run. */
  int unanchoredKeys() {
    return unanchoredKeys;
  }

  /** Returns the age, by record time, of the oldest void record that is its key's latest; 0 when none. */
  long oldestUnanchoredMillis() {
    return oldestUnanchoredMillis;
  }
}
