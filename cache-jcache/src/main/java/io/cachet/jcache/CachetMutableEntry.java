package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import java.util.function.Function;
import javax.cache.processor.MutableEntry;
import org.jspecify.annotations.Nullable;

/**
 * The entry an entry processor works on. Its changes are recorded and applied to the cache when the
 * processor returns, and dropped if it throws. Used by one thread, under the key's lock.
 *
 * <p>The net effect decides what the cache does: setting a value on an entry that existed is an
 * update, on one that did not a creation; removing one that existed is a removal; creating and then
 * removing within one invocation does nothing; removing an absent entry still deletes it from the
 * cache writer, as {@code Cache.remove(key)} would.
 */
final class CachetMutableEntry<K, V> implements MutableEntry<K, V> {

  /** What the processor's changes amount to. */
  enum Action {
    /** Nothing, or only {@link #exists()}. */
    NONE,
    /** The existing value was read. */
    READ,
    /** An absent value was loaded through the cache loader. */
    LOADED,
    /** A value was set on an entry that did not exist. */
    CREATED,
    /** A value was set on an entry that existed. */
    UPDATED,
    /** The entry was removed. */
    DELETED
  }

  private final K key;
  private final boolean existed;
  private final @Nullable Function<K, @Nullable V> loader;
  private final Class<?> valueType;
  private @Nullable V value;
  private Action action = Action.NONE;
  private boolean modified;

  /**
   * @param value the current value (a copy for store-by-value caches), or null if absent
   * @param loader loads an absent value when the processor reads it, or null without read-through
   */
  CachetMutableEntry(
      K key, @Nullable V value, @Nullable Function<K, @Nullable V> loader, Class<?> valueType) {
    this.key = key;
    this.value = value;
    this.existed = value != null;
    this.loader = loader;
    this.valueType = valueType;
  }

  @Override
  public K getKey() {
    return key;
  }

  @Override
  public @Nullable V getValue() {
    if (value != null) {
      if (action == Action.NONE) {
        action = Action.READ;
      }
      return value;
    }
    if (!modified && action == Action.NONE && loader != null) {
      V loaded = loader.apply(key);
      if (loaded != null) {
        value = loaded;
        action = Action.LOADED;
      }
    }
    return value;
  }

  @Override
  public boolean exists() {
    return value != null;
  }

  @Override
  public void remove() {
    value = null;
    modified = true;
    // Creating and removing within one invocation leaves the cache as it was.
    action = (action == Action.CREATED) ? Action.NONE : Action.DELETED;
  }

  @Override
  public void setValue(V value) {
    requireNonNull(value, "value");
    if (!valueType.isInstance(value)) {
      throw new ClassCastException(
          "value of type " + value.getClass().getName() + " is not a " + valueType.getName());
    }
    this.value = value;
    modified = true;
    action = existed ? Action.UPDATED : Action.CREATED;
  }

  Action action() {
    return action;
  }

  /** Returns the value the processor left, without loading or counting as a read. */
  @Nullable V value() {
    return value;
  }

  boolean existed() {
    return existed;
  }

  @Override
  public <T> T unwrap(Class<T> type) {
    requireNonNull(type, "type");
    if (type.isInstance(this)) {
      return type.cast(this);
    }
    throw new IllegalArgumentException("a mutable entry cannot be unwrapped to " + type.getName());
  }

  @Override
  public String toString() {
    return "CachetMutableEntry{key=" + key + ", action=" + action + "}";
  }
}
