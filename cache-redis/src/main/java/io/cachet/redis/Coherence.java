package io.cachet.redis;

import java.util.Locale;

/** How a Redis-backed cache's near cache learns that a key changed in Redis. */
public enum Coherence {

  /**
   * Redis server-assisted client-side caching ({@code CLIENT TRACKING}, broadcast mode): a write by
   * any client to a key under the cache's prefix removes the near copy. Falls back to
   * {@link #EXPIRY} (with a warning and a metric) against a server that refuses tracking. The
   * default.
   */
  TRACKING,

  /** No invalidation: a near copy is served until it reaches {@code nearCacheMaxAge}. */
  EXPIRY;

  static Coherence parse(String text) {
    for (Coherence c : values()) {
      if (c.name().equals(text.toUpperCase(Locale.ROOT))) {
        return c;
      }
    }
    throw new IllegalArgumentException("coherence must be tracking or expiry, was '" + text + "'");
  }
}
