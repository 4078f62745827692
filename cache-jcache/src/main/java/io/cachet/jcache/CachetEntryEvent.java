package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import javax.cache.Cache;
import javax.cache.event.CacheEntryEvent;
import javax.cache.event.EventType;
import org.jspecify.annotations.Nullable;

/**
 * An entry event. For {@code CREATED} the value is the new one and no old value is available; for
 * {@code UPDATED} both are; for {@code REMOVED} and {@code EXPIRED} the value and the old value are
 * both the value that left. Immutable.
 */
final class CachetEntryEvent<K, V> extends CacheEntryEvent<K, V> {

  private static final long serialVersionUID = 1L;

  private final K key;
  private final @Nullable V value;
  private final @Nullable V oldValue;
  private final boolean oldValueAvailable;

  CachetEntryEvent(
      Cache<K, V> source, EventType type, K key, @Nullable V value, @Nullable V oldValue,
      boolean oldValueAvailable) {
    super(requireNonNull(source, "source"), requireNonNull(type, "type"));
    this.key = requireNonNull(key, "key");
    this.value = value;
    this.oldValue = oldValue;
    this.oldValueAvailable = oldValueAvailable;
  }

  @Override
  public K getKey() {
    return key;
  }

  @Override
  public @Nullable V getValue() {
    return value;
  }

  @Override
  public @Nullable V getOldValue() {
    return oldValue;
  }

  @Override
  public boolean isOldValueAvailable() {
    return oldValueAvailable;
  }

  @Override
  public <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    throw new IllegalArgumentException("a cache entry event cannot be unwrapped to " + type.getName());
  }

  @Override
  public String toString() {
    return "CachetEntryEvent{type=" + getEventType() + ", cache=" + getSource().getName() + "}";
  }
}
