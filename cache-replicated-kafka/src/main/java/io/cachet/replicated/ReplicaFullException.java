package io.cachet.replicated;

import io.cachet.CacheException;

/**
 * A write of a new key was refused because the replica already holds the cache's
 * {@code maximumSize} entries. Replicated caches never evict (every node would have to evict the
 * same keys), so the bound is enforced when a new key is written; nothing was changed.
 */
public class ReplicaFullException extends CacheException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message. */
  public ReplicaFullException(String message) {
    super(message, null);
  }
}
