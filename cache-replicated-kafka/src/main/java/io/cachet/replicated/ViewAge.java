package io.cachet.replicated;

import io.cachet.Ticker;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How long ago each partition of the replica was last confirmed caught up with the topic: every
 * record up to the partition's end offset taken at that moment applied (for every partition when
 * a replay ends, then per partition by the apply thread every {@link #CHECK_EVERY_NANOS}, against
 * end offsets that Kafka does not give while out of reach).
 *
 * <p>Why it matters: replicas forget a tombstone {@link Replica#FORGET_TOMBSTONES_AFTER_MS} of record
 * time after it was written, and a conditional record on a key that has no entry is taken as
 * valid. A conditional record decided on a view older than that (a node paused, frozen or cut off
 * from Kafka for that long, yet still deciding) could name a record of the key that a forgotten
 * tombstone replaced, and bring a removed value back on every node. So conditional records
 * (conditional writes, the stores of loads, anchors, expiry removals) are decided only on a view of
 * their key's partition at most {@link #MAX_AGE_NANOS} old, and reach the log within as long
 * again, the producer's own bounds included, or are not sent at all ({@link Writer}). Thread-safe.
 */
final class ViewAge {

  /**
   * The oldest view a conditional record may be decided on, and the longest it may then take to
   * reach the log: together 80% of the tombstones' window, leaving the rest for clock differences
   * between nodes. The second part includes the producer's own bounds ({@link #sendBy}).
   */
  static final long MAX_AGE_NANOS = TimeUnit.MILLISECONDS.toNanos(Replica.FORGET_TOMBSTONES_AFTER_MS * 2 / 5);
  /** How often a ready replica confirms it is caught up. */
  static final long CHECK_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final Ticker ticker;
  /** Per partition, the ticker reading as of which it was last confirmed caught up. */
  private final AtomicLongArray caughtUpAt;
  /** Per partition, 1 once it was confirmed at all. */
  private final AtomicLongArray confirmed;
  /** The ticker reading when the cache started: a partition never confirmed is as old as the cache. */
  private final long createdAt;

  ViewAge(Ticker ticker, int partitions) {
    this.ticker = ticker;
    this.caughtUpAt = new AtomicLongArray(partitions);
    this.confirmed = new AtomicLongArray(partitions);
    this.createdAt = ticker.read();
  }

  /** Records that {@code partition} has applied everything the topic held at ticker reading {@code asOf}. */
  void caughtUpAsOf(int partition, long asOf) {
    caughtUpAt.accumulateAndGet(partition, asOf, (a, b) -> confirmed.get(partition) == 0 || b - a > 0 ? b : a);
    confirmed.set(partition, 1);
  }

  /** {@link #caughtUpAsOf} for every partition. */
  void allCaughtUpAsOf(long asOf) {
    for (int p = 0; p < caughtUpAt.length(); p++) {
      caughtUpAsOf(p, asOf);
    }
  }

  /** Whether a conditional record of a key in {@code partition} may be decided now. */
  boolean fresh(int partition) {
    return freshSince(asOf(partition));
  }

  /**
   * The ticker reading as of which {@code partition} was last confirmed; one too old to be fresh
   * if it never was. A writer reads it before it reads the replica, and checks it with
   * {@link #freshSince} once it has decided: a pause in between counts against the view.
   */
  long asOf(int partition) {
    // The flag first: it is set after the reading, so once it is seen the reading is too.
    return confirmed.get(partition) == 1 ? caughtUpAt.get(partition) : ticker.read() - 2 * MAX_AGE_NANOS;
  }

  /** Whether a view as of {@code asOf} is recent enough now to decide a conditional record on. */
  boolean freshSince(long asOf) {
    return ticker.read() - asOf < MAX_AGE_NANOS;
  }

  /**
   * The latest ticker reading at which a record decided on a view as of {@code asOf} may be handed
   * to the producer, which may then hold it {@code producerBoundNanos} more (blocked in
   * {@code send}, then until its delivery timeout): so that it reaches the log, if at all, within
   * {@code 2 * MAX_AGE_NANOS} of its view.
   */
  static long sendBy(long asOf, long producerBoundNanos) {
    return asOf + 2 * MAX_AGE_NANOS - producerBoundNanos;
  }

  /**
   * Nanoseconds since {@code partition} was last confirmed caught up, or since the cache started if
   * it never was.
   */
  long ageNanos(int partition) {
    long since = confirmed.get(partition) == 1 ? caughtUpAt.get(partition) : createdAt; // the flag first, as in asOf
    return ticker.read() - since;
  }

  /**
   * {@link #ageNanos} of the least recently confirmed partition: once it passes {@link
   * #MAX_AGE_NANOS}, conditional records of that partition's keys fail.
   */
  long oldestAgeNanos() {
    long oldest = 0L;
    for (int p = 0; p < caughtUpAt.length(); p++) {
      oldest = Math.max(oldest, ageNanos(p));
    }
    return oldest;
  }

  /** The ticker reading now. */
  long now() {
    return ticker.read();
  }

  /** The number of partitions. */
  int partitions() {
    return caughtUpAt.length();
  }
}
