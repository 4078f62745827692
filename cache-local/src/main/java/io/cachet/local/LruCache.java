package io.cachet.local;

import static java.util.Objects.requireNonNull;

import io.cachet.CacheConfig;
import io.cachet.CacheStats;
import io.cachet.RemovalCause;
import io.cachet.Ticker;
import io.cachet.spi.Checks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The {@code LRU} local store: exact least-recently-used eviction with a hard bound.
 *
 * <h2>Guarantees</h2>
 *
 * When an insertion would make the store exceed its capacity, the key least recently read or
 * written is evicted, and the store never holds more than {@code maximumSize} entries, not even
 * while an operation runs.
 * "Least recently" is with respect to the linearization order of the operations. Every operation
 * is O(1) (amortized for reads).
 *
 * <h2>Design</h2>
 *
 * <ul>
 *   <li>Keys map to {@link Node}s in a {@link ConcurrentHashMap}; the recency order is a doubly
 *       linked list (head = least recent). Both change only under {@code lock}, and every hit
 *       takes the lock too, to move its node to the tail. So a hit, a write and the eviction it
 *       causes are each one step in one total order: the recency order is exact and every
 *       operation is linearizable. A miss does not lock: a key absent from the map is absent.
 *   <li>Insertion and the eviction it causes are one step for lock-free lookups too: the new node
 *       enters the map {@code PENDING} (a hit on it takes the lock, so it sees the finished step),
 *       the victims leave the map, and only then is the new node linked as the most recent and
 *       made {@code ALIVE}. Nobody sees the victim gone while the new key is still absent.
 *   <li>Why hits lock, unlike Caffeine's: recording hits in a buffer and applying them later was
 *       tried and rejected. A reader fixes the value it returns when it looks the key up, but its
 *       recency would land later, so a write or an eviction decided in between could be ordered
 *       inconsistently with it; {@code LinearizabilityTest} found such histories. The price is
 *       that hits from several threads contend for one lock (see docs/benchmarks.md).
 *   <li>Expired entries are removed when read, when they reach the head, on any write to them,
 *       and by {@link #cleanUp()}; until then they occupy a slot (and count towards the bound).
 *   <li>Listeners and statistics run after the lock is released.
 * </ul>
 *
 * <p>{@code get(key, loader)} is the SPI's single-flight load; a loaded value is stored only if
 * the key is still absent.
 */
final class LruCache<K, V> extends AbstractLocalCache<K, V> {

  private static final int ALIVE = 0;
  private static final int DEAD = 2;
  /** Inserted but not yet visible: its insertion and the eviction it causes are one step. */
  private static final int PENDING = 3;

  private final ConcurrentHashMap<K, Node<K, V>> map = new ConcurrentHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Ticker ticker;
  private final long capacity;
  /** Entries once the last write completed; written under the lock, read without it. */
  private volatile long size;

  /** Sentinel of the recency list: {@code sentinel.next} is the least recent node. */
  // @GuardedBy("lock")
  private final Node<K, V> sentinel = new Node<>(null, null);

  LruCache(CacheConfig<K, V> config, Consumer<io.cachet.Cache<?, ?>> onClose) {
    super(config, onClose);
    this.ticker = config.ticker();
    this.capacity = config.maximumSize();
    sentinel.prev = sentinel;
    sentinel.next = sentinel;
  }

  // ---------------------------------------------------------------- reads

  @Override
  public @Nullable V get(K key) {
    requireNonNull(key, "key");
    checkOpen();
    V value = read(key);
    if (value == null) {
      stats.recordMisses(1);
    } else {
      stats.recordHits(1);
    }
    return value;
  }

  private @Nullable V read(K key) {
    while (true) {
      Node<K, V> node = map.get(key);
      if (node == null) {
        return null; // absent from the map: a miss, without locking
      }
      Removals removals = null;
      V value = null;
      boolean retry = false;
      lock.lock();
      try {
        if (node.state == DEAD) {
          retry = true; // removed after our lookup: look again
        } else {
          Val<V> val = node.val;
          if (val.isExpired(ticker.read())) {
            removals = new Removals();
            unlinkAndRemove(node, RemovalCause.EXPIRED, removals);
            publishSize();
          } else {
            moveToTail(node);
            value = val.value;
          }
        }
      } finally {
        lock.unlock();
      }
      if (retry) {
        continue;
      }
      if (removals != null) {
        removals.publish();
      }
      return value;
    }
  }

  @Override
  protected @Nullable V getQuietly(K key) {
    return read(key);
  }

  @Override
  protected V storeLoaded(K key, V value) {
    // A value written while the loader ran is newer than the loaded one: keep it.
    V existing = storeIfAbsent(key, value);
    return existing != null ? existing : value;
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void put(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    write(key, value, expireAfterWriteNanos);
  }

  @Override
  public void put(K key, V value, Duration ttl) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    Checks.requirePositiveTtl(ttl);
    checkOpen();
    checkPerEntryTtl();
    write(key, value, ttlNanos(ttl));
  }

  private void write(K key, V value, long ttl) {
    Removals removals = new Removals();
    lock.lock();
    try {
      long now = ticker.read();
      Val<V> val = new Val<>(value, deadline(now, ttl));
      Node<K, V> node = map.get(key);
      if (node != null) {
        Val<V> old = node.val;
        node.val = val;
        moveToTail(node);
        removals.add(key, old.value, old.isExpired(now) ? RemovalCause.EXPIRED : RemovalCause.REPLACED);
      } else {
        insert(key, val, removals);
      }
    } finally {
      publishSize();
      lock.unlock();
    }
    stats.recordPuts(1);
    removals.publish();
  }

  @Override
  public boolean putIfAbsent(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    return storeIfAbsent(key, value) == null;
  }

  /** Stores {@code value} unless a live value exists; returns that live value, or null if stored. */
  private @Nullable V storeIfAbsent(K key, V value) {
    Removals removals = new Removals();
    V existing;
    lock.lock();
    try {
      long now = ticker.read();
      Node<K, V> node = map.get(key);
      if (node != null && !node.val.isExpired(now)) {
        moveToTail(node); // a failed putIfAbsent reads the key
        existing = node.val.value;
      } else {
        Val<V> val = new Val<>(value, deadline(now, expireAfterWriteNanos));
        if (node != null) {
          Val<V> old = node.val;
          node.val = val;
          moveToTail(node);
          removals.add(key, old.value, RemovalCause.EXPIRED);
        } else {
          insert(key, val, removals);
        }
        existing = null;
      }
    } finally {
      publishSize();
      lock.unlock();
    }
    if (existing == null) {
      stats.recordPuts(1);
    }
    removals.publish();
    return existing;
  }

  @Override
  public boolean replace(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    return replaceIf(key, null, value);
  }

  @Override
  public boolean replace(K key, V oldValue, V newValue) {
    requireNonNull(key, "key");
    requireNonNull(oldValue, "oldValue");
    requireNonNull(newValue, "newValue");
    checkOpen();
    return replaceIf(key, oldValue, newValue);
  }

  private boolean replaceIf(K key, @Nullable V expected, V value) {
    Removals removals = new Removals();
    boolean replaced = false;
    lock.lock();
    try {
      long now = ticker.read();
      Node<K, V> node = map.get(key);
      if (node != null) {
        Val<V> old = node.val;
        if (old.isExpired(now)) {
          unlinkAndRemove(node, RemovalCause.EXPIRED, removals);
        } else if (expected == null || old.value.equals(expected)) {
          node.val = new Val<>(value, deadline(now, expireAfterWriteNanos));
          moveToTail(node);
          removals.add(key, old.value, RemovalCause.REPLACED);
          replaced = true;
        }
      }
    } finally {
      publishSize();
      lock.unlock();
    }
    if (replaced) {
      stats.recordPuts(1);
    }
    removals.publish();
    return replaced;
  }

  @Override
  public boolean remove(K key) {
    requireNonNull(key, "key");
    checkOpen();
    return removeIf(key, null);
  }

  @Override
  public boolean remove(K key, V value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    checkOpen();
    return removeIf(key, value);
  }

  private boolean removeIf(K key, @Nullable V expected) {
    Removals removals = new Removals();
    boolean removed = false;
    lock.lock();
    try {
      Node<K, V> node = map.get(key);
      if (node != null) {
        if (node.val.isExpired(ticker.read())) {
          unlinkAndRemove(node, RemovalCause.EXPIRED, removals);
        } else if (expected == null || node.val.value.equals(expected)) {
          unlinkAndRemove(node, RemovalCause.EXPLICIT, removals);
          removed = true;
        }
      }
    } finally {
      publishSize();
      lock.unlock();
    }
    removals.publish();
    return removed;
  }

  @Override
  public boolean expire(K key, Duration ttl) {
    requireNonNull(key, "key");
    Checks.requireNonNegativeTtl(ttl);
    checkOpen();
    checkPerEntryTtl();
    Removals removals = new Removals();
    boolean live = false;
    lock.lock();
    try {
      long now = ticker.read();
      Node<K, V> node = map.get(key);
      if (node != null) {
        Val<V> old = node.val;
        if (old.isExpired(now)) {
          unlinkAndRemove(node, RemovalCause.EXPIRED, removals);
        } else {
          live = true;
          if (ttl.isZero()) {
            unlinkAndRemove(node, RemovalCause.EXPIRED, removals);
          } else {
            // Changing the deadline is not a use of the key: its recency stays.
            node.val = new Val<>(old.value, deadline(now, ttlNanos(ttl)));
          }
        }
      }
    } finally {
      publishSize();
      lock.unlock();
    }
    removals.publish();
    return live;
  }

  @Override
  public void clear() {
    checkOpen();
    Removals removals = new Removals();
    lock.lock();
    try {
      long now = ticker.read();
      while (sentinel.next != sentinel) {
        Node<K, V> node = sentinel.next;
        unlinkAndRemove(
            node, node.val.isExpired(now) ? RemovalCause.EXPIRED : RemovalCause.EXPLICIT, removals);
      }
    } finally {
      publishSize();
      lock.unlock();
    }
    removals.publish();
  }

  /** Removes every expired entry now; O(size). */
  void cleanUp() {
    Removals removals = new Removals();
    lock.lock();
    try {
      long now = ticker.read();
      for (Node<K, V> node = sentinel.next; node != sentinel; ) {
        Node<K, V> next = node.next;
        if (node.val.isExpired(now)) {
          unlinkAndRemove(node, RemovalCause.EXPIRED, removals);
        }
        node = next;
      }
    } finally {
      publishSize();
      lock.unlock();
    }
    removals.publish();
  }

  @Override
  public long estimatedSize() {
    checkOpen();
    return size;
  }

  @Override
  public CacheStats stats() {
    checkOpen();
    return stats.snapshot();
  }

  @Override
  protected void release() {
    lock.lock();
    try {
      for (Node<K, V> node = sentinel.next; node != sentinel; node = node.next) {
        node.state = DEAD;
      }
      sentinel.next = sentinel;
      sentinel.prev = sentinel;
      map.clear();
    } finally {
      publishSize();
      lock.unlock();
    }
  }

  /** Returns the keys from least to most recently used; for tests. O(size). */
  List<K> keysInRecencyOrder() {
    lock.lock();
    try {
      List<K> keys = new ArrayList<>();
      for (Node<K, V> node = sentinel.next; node != sentinel; node = node.next) {
        keys.add(requireNonNull(node.key));
      }
      return keys;
    } finally {
      publishSize();
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- list maintenance (under lock)

  /**
   * Adds a new key as the most recent and evicts as needed, as one step for lock-free readers:
   * the node enters the map {@code PENDING} (a reader that finds it waits for the lock), the
   * least recent keys are evicted, and only then is the node linked as the most recent and
   * made {@code ALIVE}. A reader can
   * therefore never see the victim gone while the new key is still absent, nor the new key present
   * while the victim is still served. The map holds one node over the capacity meanwhile, but
   * {@link #estimatedSize()} reports the size as of the last completed write.
   */
  private void insert(K key, Val<V> val, Removals removals) {
    if (capacity == 0) {
      removals.add(key, val.value, RemovalCause.SIZE);
      return;
    }
    Node<K, V> node = new Node<>(key, val);
    node.state = PENDING;
    map.put(key, node);
    // Victims come from the list, which does not hold the new node yet.
    while (map.size() > capacity) {
      evictLeastRecent(removals);
    }
    linkLast(node);
    node.state = ALIVE;
  }

  private void evictLeastRecent(Removals removals) {
    Node<K, V> victim = sentinel.next;
    long now = ticker.read();
    unlinkAndRemove(victim, victim.val.isExpired(now) ? RemovalCause.EXPIRED : RemovalCause.SIZE, removals);
  }

  /** Records the size for {@link #estimatedSize()}; called under the lock at the end of a write. */
  private void publishSize() {
    size = map.size();
  }

  private void unlinkAndRemove(Node<K, V> node, RemovalCause cause, Removals removals) {
    K key = requireNonNull(node.key);
    map.remove(key, node);
    node.state = DEAD;
    unlink(node);
    removals.add(key, node.val.value, cause);
  }

  private void linkLast(Node<K, V> node) {
    Node<K, V> last = sentinel.prev;
    node.prev = last;
    node.next = sentinel;
    last.next = node;
    sentinel.prev = node;
  }

  private void unlink(Node<K, V> node) {
    Node<K, V> prev = node.prev;
    Node<K, V> next = node.next;
    if (prev != null && next != null) {
      prev.next = next;
      next.prev = prev;
    }
    node.prev = null;
    node.next = null;
  }

  private void moveToTail(Node<K, V> node) {
    if (sentinel.prev == node) {
      return;
    }
    unlink(node);
    linkLast(node);
  }

  // ---------------------------------------------------------------- types

  /** An immutable value with its deadline in ticker nanoseconds ({@code Long.MAX_VALUE}: never). */
  private record Val<V>(V value, long expiresAt) {
    boolean isExpired(long now) {
      return expiresAt != Long.MAX_VALUE && now - expiresAt >= 0;
    }
  }

  private static final class Node<K, V> {
    final @Nullable K key;
    volatile Val<V> val;
    volatile int state;
    // @GuardedBy("lock")
    @Nullable Node<K, V> prev;
    // @GuardedBy("lock")
    @Nullable Node<K, V> next;

    @SuppressWarnings("unchecked")
    Node(@Nullable K key, @Nullable Val<V> val) {
      this.key = key;
      this.val = val == null ? (Val<V>) new Val<>(new Object(), Long.MAX_VALUE) : val;
    }
  }

  /** Removals collected under the lock and reported after it is released. */
  private final class Removals {
    private @Nullable List<Object[]> items;
    private int evictions;

    void add(K key, V value, RemovalCause cause) {
      if (cause.wasEvicted()) {
        evictions++;
      }
      if (hasListener()) {
        if (items == null) {
          items = new ArrayList<>(2);
        }
        items.add(new Object[] {key, value, cause});
      }
    }

    @SuppressWarnings("unchecked")
    void publish() {
      if (evictions > 0) {
        stats.recordEvictions(evictions);
      }
      if (items != null) {
        for (Object[] item : items) {
          notifyRemoval((K) item[0], (V) item[1], (RemovalCause) item[2]);
        }
      }
    }
  }
}
