package io.cachet.replicated;

import io.cachet.Ticker;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How long ago the replica was last confirmed caught up with its topic: every record up to the
 * topic's end offsets taken at that moment applied (at start-up once the replay is done, then by a
 * read barrier every {@link #CHECK_EVERY_NANOS}, which fails while Kafka is out of reach).
 *
 * <p>Why it matters: replicas forget a tombstone {@link Replica#FORGET_TOMBSTONES_AFTER_MS} of record
 * time after it was written, and a conditional record on a key that has no entry is taken as
 * valid. A conditional record decided on a view older than that (a node paused, frozen or cut off
 * from Kafka for that long, yet still deciding) could name a record of the key that a forgotten
 * tombstone replaced, and bring a removed value back on every node. So conditional records
 * (conditional writes, the stores of loads, anchors, expiry removals) are decided only on a view at
 * most {@link #MAX_AGE_NANOS} old and handed to the producer within as long again, or not at all
 * ({@link Writer}). Thread-safe.
 */
final class ViewAge {

  /**
   * The oldest view a conditional record may be decided on, and the longest it may then wait to be
   * handed to the producer: together 80% of the tombstones' window, leaving the rest for clock
   * differences between nodes.
   */
  static final long MAX_AGE_NANOS = TimeUnit.MILLISECONDS.toNanos(Replica.FORGET_TOMBSTONES_AFTER_MS * 2 / 5);
  /** How often a ready replica confirms it is caught up. */
  static final long CHECK_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final Ticker ticker;
  /** The ticker reading as of which the replica was last confirmed caught up. */
  private final AtomicLong caughtUpAt;
  private volatile boolean confirmed;

  ViewAge(Ticker ticker) {
    this.ticker = ticker;
    this.caughtUpAt = new AtomicLong(ticker.read());
  }

  /** Records that the replica has applied everything the topic held at ticker reading {@code asOf}. */
  void caughtUpAsOf(long asOf) {
    caughtUpAt.accumulateAndGet(asOf, (a, b) -> a - b >= 0 ? a : b);
    confirmed = true;
  }

  /** Whether a conditional record may be decided now. */
  boolean fresh() {
    return confirmed && ageNanos() < MAX_AGE_NANOS;
  }

  /** Nanoseconds since the view was last confirmed; meaningful once it was. */
  long ageNanos() {
    return ticker.read() - caughtUpAt.get();
  }

  /** The ticker reading now. */
  long now() {
    return ticker.read();
  }

  /** Whether a confirmation is due (another one is not waited for meanwhile: see {@link Applier}). */
  boolean checkDue() {
    return !confirmed || ageNanos() >= CHECK_EVERY_NANOS;
  }
}
