package io.cachet.jcache;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One reentrant lock per key that is in use, created on demand and dropped when no thread holds or
 * waits for it. Thread-safe.
 *
 * <p>A JCache cache is the only writer of its backing store, so holding a key's lock makes any
 * sequence of reads and writes of that key atomic: compare-and-set operations, loads and writes
 * through, and entry processors. Unlike striped locks, a slow loader or entry processor never
 * blocks a different key.
 */
final class KeyLocks {

  /** A lock and the number of threads holding or waiting for it ({@code users}, guarded by the map). */
  static final class Handle {
    private final ReentrantLock lock = new ReentrantLock();
    private int users;
  }

  private final ConcurrentHashMap<Object, Handle> handles = new ConcurrentHashMap<>();

  /** Blocks until the calling thread holds {@code key}'s lock; release it with {@link #unlock}. */
  Handle lock(Object key) {
    Handle handle =
        handles.compute(
            key,
            (k, existing) -> {
              Handle h = existing != null ? existing : new Handle();
              h.users++;
              return h;
            });
    handle.lock.lock();
    return handle;
  }

  /** Releases a lock taken with {@link #lock} for the same key. */
  void unlock(Object key, Handle handle) {
    handle.lock.unlock();
    handles.computeIfPresent(key, (k, h) -> --h.users == 0 ? null : h);
  }

  /** Returns the number of keys with a lock in use; for tests. */
  int inUse() {
    return handles.size();
  }
}
