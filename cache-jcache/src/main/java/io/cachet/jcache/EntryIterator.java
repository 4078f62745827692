package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import java.util.Iterator;
import java.util.NoSuchElementException;
import javax.cache.Cache;
import org.jspecify.annotations.Nullable;

/**
 * A {@link CachetCache}'s iterator over a weakly consistent view of its keys; each entry is read
 * like {@code get} but never loaded: found by {@code hasNext()}, which refreshes its access expiry
 * (as Caffeine's JCache iterator does), and counted as a hit when {@code next()} returns it. {@code remove()} is
 * {@code Cache.remove(key)}. Not thread-safe, as iterators are not.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class EntryIterator<K, V> implements Iterator<Cache.Entry<K, V>> {

  private final CachetCache<K, V> cache;
  private final Iterator<Object> keys;
  private Cache.@Nullable Entry<K, V> next;
  /** How long reading {@link #next} took, for the statistics' get time. */
  private long nextReadNanos;
  private Cache.@Nullable Entry<K, V> last;

  EntryIterator(CachetCache<K, V> cache, Iterator<Object> keys) {
    this.cache = cache;
    this.keys = keys;
  }

  @Override
  public boolean hasNext() {
    cache.checkOpen();
    while (next == null && keys.hasNext()) {
      long start = cache.iterationReadStart();
      next = cache.readForIteration(keys.next());
      nextReadNanos = cache.iterationReadTime(start);
    }
    return next != null;
  }

  @Override
  public Cache.Entry<K, V> next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    last = next;
    next = null;
    cache.recordIterationHit(nextReadNanos);
    return requireNonNull(last);
  }

  @Override
  public void remove() {
    Cache.Entry<K, V> current = last;
    if (current == null) {
      throw new IllegalStateException("next() was not called, or remove() was already called");
    }
    last = null;
    cache.remove(current.getKey());
  }
}
