package io.cachet.replicated;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.IntToLongFunction;

/**
 * The rounds in which a ready replica confirms each partition caught up ({@link ViewAge}): every
 * {@link ViewAge#CHECK_EVERY_NANOS} it asks for the topic's end offsets, and records each partition
 * caught up as of then once the replica has applied up to its end. Apply thread only, but for the
 * answers, which arrive on the admin client's thread.
 *
 * <p>A partition Kafka gives no end for within the write timeout records nothing in that round, so
 * its view ages and conditional records of its keys stop being decided on it. One that lags behind
 * its end keeps that end, and is waited for until reaching it would no longer confirm a usable view.
 * Neither holds up the others: a round starts every {@code CHECK_EVERY_NANOS} for the partitions
 * that wait for nothing, whatever the others still wait for.
 */
final class CatchUpRounds {

  /** {@link #targets}: Kafka has not answered yet (the admin client's thread sets the end). */
  private static final long AWAITED = -2;
  /** {@link #targets}: confirmed, or given up, in this round. */
  private static final long NONE = -1;

  private final ViewAge viewAge;
  private final IntToLongFunction position;
  private final Consumer<BiConsumer<Integer, Long>> endOffsets;
  private final long writeTimeoutNanos;
  /** Per partition, the end offset it waits for, {@link #AWAITED} or {@link #NONE}; replaced by each round. */
  private AtomicLongArray targets;
  /** Per partition, the view-age reading when its end offset was asked for. */
  private final long[] asOf;
  /** The view-age reading when the last round started. */
  private long roundStarted;

  /**
   * @param position the replica's position in a partition
   * @param endOffsets asks Kafka for each partition's end offset, handing each answer to its argument
   */
  CatchUpRounds(ViewAge viewAge, IntToLongFunction position, Consumer<BiConsumer<Integer, Long>> endOffsets,
      long writeTimeoutNanos) {
    this.viewAge = viewAge;
    this.position = position;
    this.endOffsets = endOffsets;
    this.writeTimeoutNanos = writeTimeoutNanos;
    this.targets = new AtomicLongArray(viewAge.partitions());
    this.asOf = new long[viewAge.partitions()];
    for (int p = 0; p < targets.length(); p++) {
      targets.set(p, NONE); // no round yet
    }
    this.roundStarted = viewAge.now();
  }

  /** Confirms the partitions seen to have reached their ends, and starts a round when one is due. */
  void run() {
    long now = viewAge.now();
    for (int p = 0; p < targets.length(); p++) {
      long target = targets.get(p);
      if (target >= 0 && position.applyAsLong(p) >= target) {
        viewAge.caughtUpAsOf(p, asOf[p]);
        targets.set(p, NONE);
      } else if (target == AWAITED && now - asOf[p] >= writeTimeoutNanos) {
        targets.set(p, NONE); // no answer in time: this partition is not confirmed this round
      } else if (target >= 0 && now - asOf[p] >= ViewAge.MAX_AGE_NANOS) {
        targets.set(p, NONE); // reached this late, the confirmation would be stale anyway
      }
    }
    if (now - roundStarted < ViewAge.CHECK_EVERY_NANOS) {
      return;
    }
    // A round of its own: an answer to an earlier round, however late, lands in that round's array.
    // A partition still behind a known end keeps it; the others ask again.
    AtomicLongArray round = new AtomicLongArray(targets.length());
    for (int p = 0; p < round.length(); p++) {
      long target = targets.get(p);
      if (target >= 0) {
        round.set(p, target);
      } else {
        round.set(p, AWAITED);
        asOf[p] = now;
      }
    }
    targets = round;
    roundStarted = now;
    endOffsets.accept((p, end) -> round.compareAndSet(p, AWAITED, end));
  }
}
