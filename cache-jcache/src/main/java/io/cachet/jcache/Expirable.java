package io.cachet.jcache;

import java.io.Serializable;
import org.jspecify.annotations.Nullable;

/**
 * What a JCache cache stores in its backing Cachet cache: the value and the wall-clock millisecond
 * at which it expires. Immutable; a change of expiry stores a new holder.
 *
 * <p>JCache expiry lives here rather than in the backend because JCache needs to see an entry
 * expire: an access past its deadline fires an {@code EXPIRED} event and counts an eviction.
 * Deadlines are wall-clock (from the configured {@link java.time.InstantSource}) so that a remote
 * backend shared by several JVMs agrees on them.
 */
final class Expirable implements Serializable {

  private static final long serialVersionUID = 1L;

  /** The deadline of an entry that never expires. */
  static final long ETERNAL = Long.MAX_VALUE;

  private final Object value;
  private final long expireAtMillis;

  Expirable(Object value, long expireAtMillis) {
    this.value = value;
    this.expireAtMillis = expireAtMillis;
  }

  Object value() {
    return value;
  }

  long expireAtMillis() {
    return expireAtMillis;
  }

  boolean isEternal() {
    return expireAtMillis == ETERNAL;
  }

  boolean isExpired(long nowMillis) {
    return expireAtMillis != ETERNAL && nowMillis >= expireAtMillis;
  }

  /** Returns a holder of the same value that expires at {@code expireAtMillis}. */
  Expirable withExpiry(long expireAtMillis) {
    return new Expirable(value, expireAtMillis);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Expirable e && e.expireAtMillis == expireAtMillis && e.value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode() * 31 + Long.hashCode(expireAtMillis);
  }

  @Override
  public String toString() {
    // Never the value: it may be sensitive and end up in a log line.
    return "Expirable{expireAtMillis=" + (isEternal() ? "never" : expireAtMillis) + "}";
  }
}
