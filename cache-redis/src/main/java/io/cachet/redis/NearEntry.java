package io.cachet.redis;

import org.jspecify.annotations.Nullable;

/**
 * A near entry: the epoch its read was registered in, its value (null in the absent store), the
 * ticker reading at which its key expires in Redis ({@code Long.MAX_VALUE}: no TTL), and its
 * read's invalidation flag. Created with its read, which sets value and deadline once, before
 * publishing it in a store; the flag is raised once, never lowered, before or after that. One
 * object, so a near hit reads one entry, not an entry and a separate flag.
 */
final class NearEntry<V> {
  final long epoch;
  private @Nullable V value;
  private long deadline = Long.MAX_VALUE;
  /**
   * Whether {@link #deadline} is the read's maximum age rather than its key's TTL in Redis (a
   * slow read whose age ran out first): the key's write time cannot be derived from it.
   */
  private boolean ageBounded;
  /** Raised by an invalidation of the key, a write of it by this process, or a flush. */
  volatile boolean invalidated;

  NearEntry(long epoch) {
    this.epoch = epoch;
  }

  /** Sets what the read found; once, by the read, before the entry is published in a store. */
  void set(@Nullable V value, long deadline, boolean ageBounded) {
    this.value = value;
    this.deadline = deadline;
    this.ageBounded = ageBounded;
  }

  /** The value read; only called on entries of the value store, which always have one. */
  V value() {
    return value;
  }

  long deadline() {
    return deadline;
  }

  /** Whether {@link #deadline()} is its key's TTL in Redis (or none), from which a write time follows. */
  boolean deadlineIsTtl() {
    return !ageBounded;
  }

  /** The class of {@code NearEntry<V>}, for the near store's configuration. */
  @SuppressWarnings("unchecked") // erasure: NearEntry.class is the class of every NearEntry<V>
  static <V> Class<NearEntry<V>> type() {
    return (Class<NearEntry<V>>) (Class<?>) NearEntry.class;
  }
}
