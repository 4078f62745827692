package io.cachet.replicated;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a replica knows about one key: its value ({@code null} after a tombstone) and the record that
 * last touched it. Immutable; the apply thread replaces entries, readers see one or the other.
 *
 * <p>Most entries of a large replica hold a value without a deadline whose latest record applied:
 * they are {@link Plain}, 32 bytes with compressed references, holding only the value, the
 * partition and the offset. The record's timestamp, writer and local apply time matter only for
 * tombstones (forgotten by record time), entries with a deadline (removed by their writer) and
 * unanchored keys (anchored by their writer, after a delay): those are {@link Full}. Build entries
 * with {@link #of}.
 */
abstract sealed class Entry<V> permits Entry.Plain, Entry.Full {

  private final @Nullable V value;
  private final int partition;
  private final long offset;

  private Entry(@Nullable V value, int partition, long offset) {
    this.value = value;
    this.partition = partition;
    this.offset = offset;
  }

  /**
   * Returns an entry.
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
  static <V> Entry<V> of(@Nullable V value, long deadline, int partition, long offset, long timestamp,
      boolean anchored, String writer, long appliedAtMillis) {
    return value != null && deadline == 0 && anchored
        ? new Plain<>(value, partition, offset)
        : new Full<>(value, deadline, partition, offset, timestamp, anchored, writer, appliedAtMillis);
  }

  /** Returns the value, {@code null} when the key is absent. */
  final @Nullable V value() {
    return value;
  }

  /** Returns the key's partition. */
  final int partition() {
    return partition;
  }

  /** Returns the offset of the key's latest record, applied or void. */
  final long offset() {
    return offset;
  }

  /** Returns the absolute expiry, epoch ms; 0 for none. */
  abstract long deadline();

  /** Returns the Kafka timestamp of the key's latest record; 0 where it does not matter (a plain entry). */
  abstract long timestamp();

  /** Returns whether the key's latest record alone reproduces this state. */
  abstract boolean anchored();

  /** Returns the node that wrote the key's latest record; empty where it does not matter (a plain entry). */
  abstract String writer();

  /** Returns the local wall-clock time the key's latest record was applied; 0 for a plain entry. */
  abstract long appliedAtMillis();

  /** Returns whether the entry holds a value that has not expired at {@code nowMillis}. */
  final boolean isLive(long nowMillis) {
    long deadline = deadline();
    return value != null && (deadline == 0 || nowMillis < deadline);
  }

  @Override
  public final boolean equals(Object o) {
    return o instanceof Entry<?> e && Objects.equals(value, e.value) && partition == e.partition && offset == e.offset
        && deadline() == e.deadline() && timestamp() == e.timestamp() && anchored() == e.anchored()
        && writer().equals(e.writer()) && appliedAtMillis() == e.appliedAtMillis();
  }

  @Override
  public final int hashCode() {
    return Objects.hash(value, partition, offset, deadline(), anchored());
  }

  @Override
  public final String toString() {
    return "Entry[offset=" + partition + "-" + offset + ", present=" + (value != null) + ", deadline=" + deadline()
        + ", anchored=" + anchored() + ", writer=" + writer() + "]";
  }

  /** A value without a deadline, anchored. */
  static final class Plain<V> extends Entry<V> {

    private Plain(V value, int partition, long offset) {
      super(value, partition, offset);
    }

    @Override
    long deadline() {
      return 0;
    }

    @Override
    long timestamp() {
      return 0;
    }

    @Override
    boolean anchored() {
      return true;
    }

    @Override
    String writer() {
      return "";
    }

    @Override
    long appliedAtMillis() {
      return 0;
    }
  }

  /** Any other state: a tombstone, a value with a deadline, or an unanchored key. */
  static final class Full<V> extends Entry<V> {

    private final long deadline;
    private final long timestamp;
    private final boolean anchored;
    private final String writer;
    private final long appliedAtMillis;

    private Full(@Nullable V value, long deadline, int partition, long offset, long timestamp, boolean anchored,
        String writer, long appliedAtMillis) {
      super(value, partition, offset);
      this.deadline = deadline;
      this.timestamp = timestamp;
      this.anchored = anchored;
      this.writer = writer;
      this.appliedAtMillis = appliedAtMillis;
    }

    @Override
    long deadline() {
      return deadline;
    }

    @Override
    long timestamp() {
      return timestamp;
    }

    @Override
    boolean anchored() {
      return anchored;
    }

    @Override
    String writer() {
      return writer;
    }

    @Override
    long appliedAtMillis() {
      return appliedAtMillis;
    }
  }
}
