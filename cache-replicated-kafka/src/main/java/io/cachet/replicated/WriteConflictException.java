package io.cachet.replicated;

import io.cachet.CacheException;

/**
 * A conditional write ({@code putIfAbsent}, {@code replace}, {@code remove(key, value)}, {@code
 * expire}, or the store of {@code get(key, loader)}) lost to concurrent writes of the same key on
 * every attempt it had time for within its write timeout. Each record it wrote was applied as void
 * and none is still on its way, so the write did not take effect: the key holds what the concurrent
 * writes left, and the write may be retried. Unlike a {@link ReplicationTimeoutException}, nothing
 * of it can still take effect.
 */
public class WriteConflictException extends CacheException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public WriteConflictException(String message) {
    super(message, null);
  }
}
