package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import java.util.Objects;
import javax.cache.Cache;
import org.jspecify.annotations.Nullable;

/** A key and value, as returned by a cache's iterator and passed to a cache writer. Immutable. */
final class CachetEntry<K, V> implements Cache.Entry<K, V> {

  private final K key;
  private final V value;

  CachetEntry(K key, V value) {
    this.key = requireNonNull(key, "key");
    this.value = requireNonNull(value, "value");
  }

  @Override
  public K getKey() {
    return key;
  }

  @Override
  public V getValue() {
    return value;
  }

  @Override
  public <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    throw new IllegalArgumentException("a cache entry cannot be unwrapped to " + type.getName());
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof Cache.Entry<?, ?> e
        && Objects.equals(key, e.getKey())
        && Objects.equals(value, e.getValue());
  }

  @Override
  public int hashCode() {
    return key.hashCode() ^ value.hashCode();
  }

  @Override
  public String toString() {
    return "CachetEntry{key=" + key + "}";
  }
}
