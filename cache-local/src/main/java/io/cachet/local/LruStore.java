package io.cachet.local;

import static io.cachet.local.AbstractLocalCache.deadline;
import static io.cachet.local.AbstractLocalCache.ttlNanos;
import static io.cachet.local.RecencyList.BUSY;
import static io.cachet.local.RecencyList.DEAD;
import static io.cachet.local.RecencyList.LIVE;
import static java.util.Objects.requireNonNull;

import io.cachet.CacheConfig;
import io.cachet.RemovalCause;
import io.cachet.Ticker;
import io.cachet.local.RecencyList.AccessNode;
import io.cachet.local.RecencyList.Node;
import io.cachet.local.RecencyList.WrittenAccessNode;
import io.cachet.local.RecencyList.WrittenNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The data structure behind {@link LruCache}: the map, the recency order, the buffered hits and
 * the lock, with every operation on them as one linearizable step. It knows nothing of the SPI:
 * {@link LruCache} checks arguments, counts statistics and tells listeners, from the {@link
 * Removals} each operation here fills in.
 *
 * <h2>Design</h2>
 *
 * <ul>
 *   <li>Keys map to {@link Node}s in a {@link ConcurrentHashMap}; the recency order is a doubly
 *       linked list ({@link RecencyList}, head = least recent). The list, every change to the map
 *       and every write to a node happen under one {@link CombiningLock}. A miss does not lock: a
 *       key absent from the map is absent.
 *   <li>A hit does not lock either ({@link ReadBuffer#read}; not with {@code expireAfterAccess}
 *       or {@code refreshAfterWrite}, below): it claims a sequence number, reads the node's state,
 *       value and deadline (and, if it has one, the ticker), and publishes the node in a ring that
 *       lock holders drain in claim order, moving each node to the most recent end. Every
 *       critical section starts by draining, so it is ordered after every hit that returned before
 *       it began. The claim is the hit's linearization point: a write to a node, its removal
 *       (expiry included) and its eviction first mark it {@code BUSY} and drain every claim made
 *       so far ({@link ReadBuffer#beginChange}), so a hit either is applied before the change and
 *       read the value from before it, or sees the mark, waits and looks the key up again. A
 *       victim read just before its mark is spared and the next least recent key considered
 *       ({@link #insert}).
 *   <li>A hit that finds its entry expired, the ring full or hits routed to the lock, and every
 *       hit of a cache with {@code expireAfterAccess} or {@code refreshAfterWrite}, is a request
 *       to the lock ({@link #serveRead}): the holder runs the published requests before
 *       releasing (flat combining), checks the deadline, moves the node (or removes it) and hands
 *       back its value in one step.
 *   <li>Insertion and the eviction it causes are one step for lock-free lookups too: the new node
 *       enters the map before the victims leave it, and is readable ({@code LIVE}) only once it is
 *       linked. Nobody sees the victim gone while the new key is still absent.
 *   <li>Expired entries are removed when read, on any write to them, when they reach the head and
 *       a write to any key finds them there ({@link #expireHead}, which pops the head while it is
 *       expired), and by {@link #cleanUp}; until then they occupy a slot (and count towards the
 *       bound). Entries without a deadline never read the ticker.
 *   <li>{@code expireAfterAccess}: a node's {@code expiresAt} is the earlier of its write deadline
 *       and its last read or write plus the idle time. A hit moves it in {@link #serveRead}, under
 *       the lock, in the same step as the recency move (such hits are never buffered), so the idle
 *       deadline follows the linearization order as exactly as the recency does. The list is then
 *       also in idle-deadline order, so {@link #expireHead} finds idle entries at its head.
 *   <li>Removals are collected under the lock and published by the caller after it is released.
 *   <li>Only a cache that needs them pays for more than a {@link Node} ({@link NodeDeadlines}):
 *       with {@code refreshAfterWrite} nodes keep their write time ({@link WrittenNode}), with
 *       {@code expireAfterAccess} their write deadline ({@link AccessNode}), with both both
 *       ({@link WrittenAccessNode}); such caches read the ticker on every write and, with {@code
 *       expireAfterAccess}, on every hit.
 * </ul>
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class LruStore<K, V> {

  /** The answer to a read whose node was removed before it was served: look the key up again. */
  private static final Object RETRY = ReadBuffer.RETRY;
  /** {@link #replaceIf}'s "compare values by equality, not instance and write time". */
  static final long NO_WRITE_TIME = Long.MIN_VALUE;

  private final ConcurrentHashMap<K, Node<K, V>> map = new ConcurrentHashMap<>();
  @SuppressWarnings({"unchecked", "rawtypes"})
  private final CombiningLock<Node<K, V>> lock =
      new CombiningLock<>((Class) Node.class, node -> serveRead((Node<K, V>) node));
  private final Ticker ticker;
  private final long capacity;
  /** Whether nodes keep their write time, for refresh. */
  private final boolean refreshing;
  /** The node class and how reads and writes set its deadline. */
  private final NodeDeadlines<K, V> deadlines;
  /** Whether every write reads the ticker, whatever its deadlines: refresh or access expiry. */
  private final boolean writesReadTicker;
  /** Whether hits go through {@link #reads}: only when no idle or write times are kept. */
  private final boolean bufferedReads;
  /** Runs under the lock after an insert removed its victim; a hook for tests. */
  @Nullable Runnable afterEviction;
  /** Runs under the lock when an insert has picked a victim, before it looks at it; a hook for tests. */
  @Nullable Runnable beforeVictimCheck;
  /** Wraps a value read with its write time, for a refreshing cache's reads. */
  private final WithWriteTime<V> withWriteTime;
  /** Entries in the map; guarded by the lock. */
  private long count;
  /** Entries once the last write completed; written under the lock, read without it. */
  private volatile long size;

  /** The recency order of the map's nodes, least recent first. */
  // @GuardedBy("lock")
  private final RecencyList<K, V> recency = new RecencyList<>();
  /** Hits not yet applied to {@link #recency}; drained under the lock. */
  private final ReadBuffer<K, V> reads;

  LruStore(CacheConfig<K, V> config, WithWriteTime<V> withWriteTime) {
    this.withWriteTime = withWriteTime;
    this.ticker = config.ticker();
    this.capacity = config.maximumSize();
    this.refreshing = config.refreshAfterWrite().isPresent();
    this.deadlines = new NodeDeadlines<>(
        refreshing, config.expireAfterAccess().map(AbstractLocalCache::ttlNanos).orElse(Long.MAX_VALUE));
    this.writesReadTicker = refreshing || deadlines.expiresAfterAccess();
    this.bufferedReads = !writesReadTicker;
    this.reads = new ReadBuffer<>(recency, lock, ticker);
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads {@code key}: returns its value (wrapped by {@link WithWriteTime} for a cache that keeps
   * write times), null if absent, or {@link Expired} if it expired and was removed by this read.
   */
  @Nullable Object read(K key) {
    while (true) {
      Node<K, V> node = map.get(key);
      if (node == null) {
        return null; // absent from the map: a miss, without locking
      }
      Object response = bufferedReads ? reads.read(node) : ReadBuffer.SERVE;
      if (response == ReadBuffer.SERVE) {
        response = lock.serve(node);
      }
      if (response == RETRY) {
        continue; // removed after our lookup: look again
      }
      if (response instanceof CombiningLock.Failure failure) {
        throw failure.rethrow();
      }
      return response;
    }
  }

  /**
   * Takes the lock and applies the buffered hits claimed so far, so that the critical section is
   * ordered after every hit that returned before it began.
   */
  private void lockAndDrain() {
    lock.lock();
    reads.drainAll();
  }

  /**
   * Under the lock, on the reader's thread or the lock holder's: the read of {@code node} as one
   * step. Returns the value (the node is now the most recent), {@link #RETRY} if the node left the
   * map since the reader found it, or {@link Expired} if it was removed now because it expired.
   */
  private Object serveRead(Node<K, V> node) {
    reads.drainAll();
    if (node.state == DEAD) {
      return RETRY;
    }
    if (node.expiresAt != Long.MAX_VALUE) {
      long now = ticker.read();
      if (node.isExpired(now)) {
        Object expired = new Expired<>(node.key, node.value);
        reads.beginChange(node);
        unlinkAndRemove(node);
        publishSize();
        return expired;
      }
      deadlines.accessed(node, now);
    }
    recency.moveToTail(node);
    return refreshing ? withWriteTime.wrap(node.value, node.writeTime()) : node.value;
  }

  // ---------------------------------------------------------------- writes

  /** Stores {@code value} for {@code key}, expiring {@code ttl} nanoseconds from now. */
  void write(K key, V value, long ttl, Removals<K, V> removals) {
    lockAndDrain();
    try {
      Node<K, V> node = map.get(key);
      boolean timed = needsTicker(node == null ? Long.MAX_VALUE : node.expiresAt, ttl);
      long now = timed ? ticker.read() : 0L;
      if (node != null) {
        overwrite(node, value, now, ttl,
            node.isExpired(now) ? RemovalCause.EXPIRED : RemovalCause.REPLACED, removals);
      } else {
        insert(key, value, ttl, now, removals);
      }
      expireHead(now, timed, removals);
      publishSize();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stores {@code value} unless a live value exists; returns that live value (now the most recent:
   * a failed put-if-absent reads the key), or null if stored.
   */
  @Nullable V storeIfAbsent(K key, V value, long ttl, Removals<K, V> removals) {
    V existing;
    lockAndDrain();
    try {
      Node<K, V> node = map.get(key);
      boolean timed = needsTicker(node == null ? Long.MAX_VALUE : node.expiresAt, ttl);
      long now = timed ? ticker.read() : 0L;
      if (node != null && !node.isExpired(now)) {
        deadlines.accessed(node, now);
        recency.moveToTail(node);
        existing = node.value;
      } else {
        if (node != null) {
          overwrite(node, value, now, ttl, RemovalCause.EXPIRED, removals);
        } else {
          insert(key, value, ttl, now, removals);
        }
        existing = null;
      }
      expireHead(now, timed, removals);
      publishSize();
    } finally {
      lock.unlock();
    }
    return existing;
  }

  /**
   * Replaces the live value of {@code key}: any ({@code expected} null), one equal to
   * {@code expected}, or, when {@code expectedWriteTime} is not {@link #NO_WRITE_TIME}, that very
   * instance written at that time.
   */
  boolean replaceIf(
      K key, @Nullable V expected, long expectedWriteTime, V value, long ttl, Removals<K, V> removals) {
    boolean replaced = false;
    lockAndDrain();
    try {
      Node<K, V> node = map.get(key);
      boolean timed = false;
      long now = 0L;
      if (node != null) {
        timed = needsTicker(node.expiresAt, ttl);
        now = timed ? ticker.read() : 0L;
        if (node.isExpired(now)) {
          remove(node, RemovalCause.EXPIRED, removals);
        } else if (expected == null
            || (expectedWriteTime == NO_WRITE_TIME
                ? node.value.equals(expected)
                : node.value == expected && refreshing && node.writeTime() == expectedWriteTime)) {
          overwrite(node, value, now, ttl, RemovalCause.REPLACED, removals);
          replaced = true;
        }
      }
      expireHead(now, timed, removals);
      publishSize();
    } finally {
      lock.unlock();
    }
    return replaced;
  }

  /** Removes the live value of {@code key}: any ({@code expected} null) or one equal to it. */
  boolean removeIf(K key, @Nullable V expected, Removals<K, V> removals) {
    boolean removed = false;
    lockAndDrain();
    try {
      Node<K, V> node = map.get(key);
      if (node != null) {
        if (isExpiredNow(node)) {
          remove(node, RemovalCause.EXPIRED, removals);
        } else if (expected == null || node.value.equals(expected)) {
          remove(node, RemovalCause.EXPLICIT, removals);
          removed = true;
        }
      }
      publishSize();
    } finally {
      lock.unlock();
    }
    return removed;
  }

  /**
   * Gives the live entry of {@code key} a new time to live from now (zero removes it as expired),
   * keeping its recency; returns whether it was live.
   */
  boolean expire(K key, Duration ttl, Removals<K, V> removals) {
    boolean live = false;
    lockAndDrain();
    try {
      long now = ticker.read();
      Node<K, V> node = map.get(key);
      if (node != null) {
        if (node.isExpired(now)) {
          remove(node, RemovalCause.EXPIRED, removals);
        } else {
          live = true;
          reads.beginChange(node);
          if (ttl.isZero()) {
            unlinkAndRemove(node, RemovalCause.EXPIRED, removals);
          } else {
            // Changing the deadline is not a use of the key: its recency stays. An AccessNode
            // never gets here: expireAfterAccess turns per-entry TTLs off.
            node.expiresAt = deadline(now, ttlNanos(ttl));
            node.state = LIVE;
          }
        }
      }
      publishSize();
    } finally {
      lock.unlock();
    }
    return live;
  }

  /** Removes every entry, expired ones as expired. */
  void clear(Removals<K, V> removals) {
    boolean removed = false;
    lockAndDrain();
    try {
      long now = ticker.read();
      recency.forEach(node -> node.state = BUSY); // one beginChange for all of them
      reads.drainAll();
      while (!recency.isEmpty()) {
        Node<K, V> node = recency.first();
        unlinkAndRemove(
            node, node.isExpired(now) ? RemovalCause.EXPIRED : RemovalCause.EXPLICIT, removals);
      }
      removed = true;
      publishSize();
    } finally {
      if (!removed) {
        unmarkRemaining();
      }
      lock.unlock();
    }
  }

  /** Removes every expired entry now; O(size). */
  void cleanUp(Removals<K, V> removals) {
    boolean removed = false;
    lockAndDrain();
    try {
      long now = ticker.read();
      // One beginChange for all: mark, drain once, then remove (a drain moves nodes, so it
      // cannot run inside the walk that removes them).
      recency.forEach(node -> {
        if (node.isExpired(now)) {
          node.state = BUSY;
        }
      });
      reads.drainAll();
      recency.forEach(node -> {
        if (node.state == BUSY) {
          unlinkAndRemove(node, RemovalCause.EXPIRED, removals);
        }
      });
      removed = true;
      publishSize();
    } finally {
      if (!removed) {
        unmarkRemaining();
      }
      lock.unlock();
    }
  }

  /** Entries as of the last completed write. */
  long size() {
    return size;
  }

  /** Forgets every entry without reporting it; the cache is closing. */
  void release() {
    lockAndDrain();
    try {
      recency.forEach(node -> node.state = DEAD);
      reads.drainAll(); // hits that saw a node live are applied before the list is forgotten
      recency.reset();
      map.clear();
      count = 0;
      publishSize();
    } finally {
      lock.unlock();
    }
  }

  /** Returns the keys from least to most recently used; for tests. O(size). */
  List<K> keysInRecencyOrder() {
    lockAndDrain();
    try {
      List<K> keys = new ArrayList<>();
      recency.forEach(node -> keys.add(requireNonNull(node.key)));
      return keys;
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- under the lock

  /**
   * Whether a write needs the ticker: when an old or a new deadline needs it, or the cache keeps
   * write times or idle deadlines; an entry that never expires does not pay for a clock read.
   */
  private boolean needsTicker(long oldDeadline, long ttl) {
    return oldDeadline != Long.MAX_VALUE || ttl != Long.MAX_VALUE || writesReadTicker;
  }

  /** Whether {@code node} is expired now; reads the ticker only if the node has a deadline. */
  private boolean isExpiredNow(Node<K, V> node) {
    return node.expiresAt != Long.MAX_VALUE && node.isExpired(ticker.read());
  }

  /** Writes {@code value} over a linked node's, which leaves for {@code cause}; now the most recent. */
  private void overwrite(
      Node<K, V> node, V value, long now, long ttl, RemovalCause cause, Removals<K, V> removals) {
    reads.beginChange(node);
    removals.add(requireNonNull(node.key), node.value, cause);
    node.value = value;
    deadlines.written(node, now, ttl);
    recency.moveToTail(node);
    node.state = LIVE;
  }

  /**
   * Adds a new key as the most recent and evicts as needed, as one step for lock-free lookups:
   * the node enters the map first, the least recent keys leave it, and only then is the node
   * linked as the most recent. A lookup that finds the new node needs the lock to read it, so it
   * sees the finished step; a lookup can never see a victim gone while the new key is still absent.
   * The map holds one node over the capacity meanwhile, but {@link #size()} reports the size as of
   * the last completed write.
   */
  private void insert(K key, V value, long ttl, long now, Removals<K, V> removals) {
    if (capacity == 0) {
      removals.add(key, value, RemovalCause.SIZE);
      return;
    }
    Node<K, V> node = deadlines.newNode(key, value);
    deadlines.written(node, now, ttl);
    map.put(key, node); // BUSY until linked: a buffered read that finds it waits
    count++;
    boolean evicted = false;
    boolean routed = false;
    try {
      // Victims come from the list, which does not hold the new node yet. A victim read just
      // before its mark is the least recent no more: spared (unless it is the only candidate).
      // After one spare, new hits go to the lock until this write is done, so that the next
      // pass's drain is the last that can spare: at most two spares per insert.
      while (count > capacity) {
        Node<K, V> victim = recency.first();
        Runnable check = beforeVictimCheck;
        if (check != null) {
          check.run();
        }
        // The ticker before the mark: if it throws, no node is left marked.
        RemovalCause cause = isExpiredNow(victim) ? RemovalCause.EXPIRED : RemovalCause.SIZE;
        // An expired victim goes whatever was read: it is not a live key to keep.
        if (reads.beginChange(victim) && cause == RemovalCause.SIZE && recency.first() != victim) {
          victim.state = LIVE;
          if (!routed) {
            reads.routeToLock(true);
            routed = true;
          }
          continue;
        }
        unlinkAndRemove(victim, cause, removals);
        evicted = true;
        Runnable hook = afterEviction;
        if (hook != null) {
          hook.run();
        }
      }
    } catch (RuntimeException | Error e) {
      map.remove(key, node);
      count--;
      node.state = DEAD;
      throw e;
    } finally {
      if (routed) {
        reads.routeToLock(false);
      }
    }
    // The write takes effect at its last drain: the victim's mark, or here, after the new key
    // entered the map. Draining between a victim's removal and the link would order a hit that
    // followed a miss of the victim before this write.
    if (!evicted) {
      reads.drainAll();
    }
    recency.linkLast(node);
    node.state = LIVE;
  }

  /**
   * Removes the least recent entries while they are expired, as part of a write: O(1) amortized,
   * as each entry leaves once. With {@code expireAfterAccess} the list's order is the idle
   * deadlines' order, so idle entries leave without being read; an entry expired by its write
   * deadline behind a live head waits for a read, a write, the capacity or {@link #cleanUp}.
   * {@code now} is the write's ticker reading when {@code timed}; otherwise the ticker is read
   * here, and only if the head has a deadline.
   */
  private void expireHead(long now, boolean timed, Removals<K, V> removals) {
    while (!recency.isEmpty()) {
      Node<K, V> head = recency.first();
      if (head.expiresAt == Long.MAX_VALUE) {
        return;
      }
      if (!timed) {
        now = ticker.read();
        timed = true;
      }
      if (!head.isExpired(now)) {
        return;
      }
      remove(head, RemovalCause.EXPIRED, removals);
    }
  }

  /**
   * When a bulk removal failed part way (an {@code Error} such as running out of memory): gives
   * back the nodes it marked and did not remove, so no hit waits on them forever.
   */
  private void unmarkRemaining() {
    recency.forEach(node -> {
      if (node.state == BUSY) {
        node.state = LIVE;
      }
    });
  }

  /** Records the size for {@link #size()}; at the end of a write. */
  private void publishSize() {
    size = count;
  }

  /** Removes a linked node that buffered hits may be reading: marks it first. */
  private void remove(Node<K, V> node, RemovalCause cause, Removals<K, V> removals) {
    reads.beginChange(node);
    unlinkAndRemove(node, cause, removals);
  }

  private void unlinkAndRemove(Node<K, V> node, RemovalCause cause, Removals<K, V> removals) {
    removals.add(requireNonNull(node.key), node.value, cause);
    unlinkAndRemove(node);
  }

  private void unlinkAndRemove(Node<K, V> node) {
    map.remove(requireNonNull(node.key), node);
    count--;
    node.state = DEAD;
    recency.unlink(node);
  }

  /**
   * How a refreshing cache's reads answer: the value with its write time, in an object that is
   * never a user's value (the SPI's {@code Written}).
   */
  @FunctionalInterface
  interface WithWriteTime<V> {
    Object wrap(V value, long writeTime);
  }

  /** {@link #read}'s answer when the entry expired and this read removed it. */
  record Expired<K, V>(@Nullable K key, V value) {}
}
