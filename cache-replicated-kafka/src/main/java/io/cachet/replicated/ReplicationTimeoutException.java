package io.cachet.replicated;

import io.cachet.CacheTimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * A write reached the log but the local replica did not apply it within the write timeout, or a
 * read barrier did not reach its target in time. The write was not lost: its record is in the log
 * and every replica applies it. An unconditional write ({@code put}, {@code remove(key)}) takes
 * effect then; a conditional one ({@code putIfAbsent}, {@code replace}, {@code remove(key, value)})
 * takes effect only if its condition still holds when its record is applied in log order (another
 * node's write of the key may come first): read the key to know.
 */
public class ReplicationTimeoutException extends CacheTimeoutException {

  private static final long serialVersionUID = 1L;

  private final int partition;
  private final long targetOffset;
  private final long reachedOffset;

  /** Creates an exception naming the partition, the offset waited for and the offset reached. */
  public ReplicationTimeoutException(
      String message, int partition, long targetOffset, long reachedOffset, @Nullable Throwable cause) {
    super(message, cause);
    this.partition = partition;
    this.targetOffset = targetOffset;
    this.reachedOffset = reachedOffset;
  }

  /** Returns the partition waited on. */
  public int partition() {
    return partition;
  }

  /** Returns the offset the replica had to apply. */
  public long targetOffset() {
    return targetOffset;
  }

  /** Returns the next offset the replica would have applied when the wait ended. */
  public long reachedOffset() {
    return reachedOffset;
  }
}
