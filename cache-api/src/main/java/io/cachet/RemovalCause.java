package io.cachet;

/** Why an entry left a cache. */
public enum RemovalCause {

  /** Removed by the application: {@code remove}, {@code clear} or a conditional remove. */
  EXPLICIT,

  /** Its value was replaced by a write to the same key. */
  REPLACED,

  /** Its time to live ran out. */
  EXPIRED,

  /** Evicted because the cache was full. */
  SIZE;

  /** Returns whether the cache removed the entry on its own (expiry or size) rather than the caller. */
  public boolean wasEvicted() {
    return this == EXPIRED || this == SIZE;
  }
}
