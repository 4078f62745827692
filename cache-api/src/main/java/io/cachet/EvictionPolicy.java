package io.cachet;

/** How a bounded cache chooses the entry to evict when it is full. */
public enum EvictionPolicy {

  /**
   * Exact least-recently-used: when a new key would exceed the capacity, the key least recently
   * read or written is evicted, and the size never exceeds the capacity once an operation returns.
   */
  LRU,

  /**
   * Caffeine's W-TinyLFU: admits and evicts by recency and frequency for a near-optimal hit ratio.
   * The size may exceed the capacity briefly while eviction catches up. The default.
   */
  TINY_LFU
}
