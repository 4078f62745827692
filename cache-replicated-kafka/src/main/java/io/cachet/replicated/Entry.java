package io.cachet.replicated;

import org.jspecify.annotations.Nullable;

/**
 * What a replica knows about one key: its value ({@code null} after a tombstone) and the record that
 * last touched it. Immutable; the apply thread replaces entries, readers see one or the other.
 *
 * @param value the value, {@code null} when the key is absent
 * @param deadline absolute expiry, epoch ms; 0 for none
 * @param partition the key's partition
 * @param offset the offset of the key's latest record, applied or void
 * @param timestamp the Kafka timestamp of that record
 * @param anchored whether that record alone reproduces this state (compaction may keep only it)
 * @param writer the node that wrote that record; the first one asked to anchor the key
 * @param appliedAtMillis local wall-clock time the record was applied
 */
record Entry<V>(
    @Nullable V value,
    long deadline,
    int partition,
    long offset,
    long timestamp,
    boolean anchored,
    String writer,
    long appliedAtMillis) {

  /** Returns whether the entry holds a value that has not expired at {@code nowMillis}. */
  boolean isLive(long nowMillis) {
    return value != null && (deadline == 0 || nowMillis < deadline);
  }
}
