package io.cachet.jcache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One reentrant lock per key that is in use, created on demand and dropped when no thread holds or
 * waits for it. Thread-safe.
 *
 * <p>A JCache cache is the only writer of its backing store, so holding a key's lock makes any
 * sequence of reads and writes of that key atomic: compare-and-set operations, loads and writes
 * through, and entry processors. Unlike striped locks, a slow loader or entry processor never
 * blocks a different key.
 *
 * <p>Multi-key operations take all their keys' locks with {@link #lockAll}, in the order in which
 * the locks were created. A lock lives (keeps its place in that order) as long as some thread
 * holds or waits for it, and every thread that locks a batch registers with all of the batch's
 * locks before taking any, so any two batches that share keys take them in the same order and
 * cannot deadlock. Single-key operations hold one lock at a time.
 */
final class KeyLocks {

  /** A lock, its place in the lock order and its number of users ({@code users}, guarded by the map). */
  static final class Handle {
    private final ReentrantLock lock = new ReentrantLock();
    private final long order;
    private int users;

    Handle(long order) {
      this.order = order;
    }
  }

  /** The locks of a batch of keys, held until {@link #unlock()}. Used by one thread. */
  final class Batch {
    private final List<Object> keys;
    private final List<Handle> handles;

    private Batch(List<Object> keys, List<Handle> handles) {
      this.keys = keys;
      this.handles = handles;
    }

    /** Releases every lock of the batch. */
    void unlock() {
      for (int i = handles.size() - 1; i >= 0; i--) {
        KeyLocks.this.unlock(keys.get(i), handles.get(i));
      }
    }
  }

  private final ConcurrentHashMap<Object, Handle> handles = new ConcurrentHashMap<>();
  private final AtomicLong created = new AtomicLong();

  /** Blocks until the calling thread holds {@code key}'s lock; release it with {@link #unlock}. */
  Handle lock(Object key) {
    Handle handle = register(key);
    handle.lock.lock();
    return handle;
  }

  /** Releases a lock taken with {@link #lock} for the same key. */
  void unlock(Object key, Handle handle) {
    handle.lock.unlock();
    handles.computeIfPresent(key, (k, h) -> --h.users == 0 ? null : h);
  }

  /** Blocks until the calling thread holds the lock of every key in {@code keys}. */
  Batch lockAll(Collection<?> keys) {
    List<Object> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
    List<Object[]> registered = new ArrayList<>(distinct.size());
    for (Object key : distinct) {
      registered.add(new Object[] {key, register(key)});
    }
    registered.sort(Comparator.comparingLong(pair -> ((Handle) pair[1]).order));
    List<Object> orderedKeys = new ArrayList<>(registered.size());
    List<Handle> orderedHandles = new ArrayList<>(registered.size());
    for (Object[] pair : registered) {
      Handle handle = (Handle) pair[1];
      handle.lock.lock();
      orderedKeys.add(pair[0]);
      orderedHandles.add(handle);
    }
    return new Batch(orderedKeys, orderedHandles);
  }

  private Handle register(Object key) {
    return handles.compute(
        key,
        (k, existing) -> {
          Handle h = existing != null ? existing : new Handle(created.incrementAndGet());
          h.users++;
          return h;
        });
  }

  /** Returns the number of keys whose lock some thread holds or waits for; for tests. */
  int inUse() {
    return handles.size();
  }
}
