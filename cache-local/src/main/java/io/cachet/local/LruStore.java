package io.cachet.local;

import static io.cachet.local.AbstractLocalCache.deadline;
import static io.cachet.local.AbstractLocalCache.ttlNanos;
import static io.cachet.local.Stamps.DEAD;
import static io.cachet.local.Stamps.mark;
import static io.cachet.local.Stamps.unmark;
import static java.util.Objects.requireNonNull;

import io.cachet.CacheConfig;
import io.cachet.RemovalCause;
import io.cachet.Ticker;
import io.cachet.local.RecencyHeap.AccessNode;
import io.cachet.local.RecencyHeap.Node;
import io.cachet.local.RecencyHeap.WrittenAccessNode;
import io.cachet.local.RecencyHeap.WrittenNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The data structure behind {@link LruCache}: the clock and the lock over the entries ({@link
 * LruTable}: the map, the recency order), with every operation on them as one linearizable step.
 * It knows nothing of the SPI: {@link LruCache} checks arguments, counts statistics and tells
 * listeners, from the {@link Removals} each operation here fills in.
 *
 * <h2>Design</h2>
 *
 * <ul>
 *   <li>Keys map to {@link Node}s in a {@link ConcurrentHashMap}. Every read and write of a key
 *       takes a ticket from one counter, the clock, and leaves it in the node's {@link
 *       Node#stamp}: the least recently used key is the one with the smallest stamp. A miss takes
 *       no ticket and no lock: a key absent from the map is absent.
 *   <li>A hit takes no lock either ({@link Stamps#hit}; not with {@code expireAfterAccess} or
 *       {@code refreshAfterWrite}, below): it reads the node's stamp, value and deadline, takes a
 *       ticket (and reads the ticker if the entry has a deadline), and replaces the stamp it read
 *       with its ticket by a CAS. The ticket is the hit's linearization point. If the CAS fails the
 *       node was read or changed meanwhile, and the hit starts again with a new ticket.
 *   <li>Writes, evictions and removals run under one {@link CombiningLock}. A change to a node
 *       first swaps its stamp for {@link Stamps#BUSY} (a hit that finds it waits, and a hit
 *       that read the stamp before fails its CAS), then changes the value or deadline, then stamps
 *       it with a new ticket, the write's linearization point; a removal ends with {@link
 *       Stamps#DEAD} instead, and a change that changed nothing gives the stamp back.
 *   <li>An overwrite of a present key without a deadline, while no entry of the cache has one
 *       (the default configuration), takes no lock ({@link Stamps#overwrite}): it marks the node
 *       {@link Stamps#WRITING} the same way, and changes nothing else the lock guards (the count,
 *       the heap: the node's key stays a lower bound of its stamp). A mark under the lock waits
 *       for it. The check that no entry has a deadline may be stale; the overwrite checks its own
 *       node's deadline once marked, so it never changes one, and at worst skips {@link
 *       #expireHead}, which only removes entries that are already invisible.
 *   <li>The recency order is a min-heap of the nodes ({@link RecencyHeap}) keyed by a lower bound
 *       of their stamps; hits and writes to present keys do not touch it. An insert over the
 *       capacity looks at the root: if its stamp still equals its key it is the least recent key,
 *       and the insert takes a ticket, its linearization point, and swaps the root's stamp for
 *       {@code BUSY} by a CAS; otherwise (or if the CAS loses to a hit) it re-keys the root to its
 *       stamp and looks again ({@link LruTable#insert}).
 *   <li>Insertion and the eviction it causes are one step for lock-free lookups too: the new node
 *       enters the map {@code BUSY} before the victim leaves it, and is readable only once
 *       stamped, after the victim is gone. Nobody sees the victim gone while the new key is still
 *       absent.
 *   <li>A hit that finds its entry expired, and every hit of a cache with {@code expireAfterAccess}
 *       or {@code refreshAfterWrite}, is a request to the lock ({@link #serveRead}): the holder
 *       runs the published requests before releasing (flat combining), checks the deadline,
 *       stamps the node (or removes it) and hands back its value in one step.
 *   <li>Expired entries are removed when read, on any write to them, when they are the least recent
 *       entry and a write to any key finds them there ({@link LruTable#expireHead}), and by {@link
 *       #cleanUp}; until then they occupy a slot (and count towards the bound). Entries without a
 *       deadline never read the ticker.
 *   <li>{@code expireAfterAccess}: a node's {@code expiresAt} is the earlier of its write deadline
 *       and its last read or write plus the idle time. A hit moves it in {@link #serveRead}, under
 *       the lock, in the same step as its stamp (such hits are never lock-free), so the idle
 *       deadline follows the linearization order as exactly as the recency does, and the least
 *       recent entry is also the first to become idle.
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
  static final Object RETRY = Stamps.RETRY;
  /** {@link #replaceIf}'s "compare values by equality, not instance and write time". */
  static final long NO_WRITE_TIME = Long.MIN_VALUE;

  /** {@link #writeUnderLock}'s kinds of write. */
  private static final int PUT = 0;
  private static final int PUT_IF_ABSENT = 1;
  private static final int REPLACE = 2;

  @SuppressWarnings({"unchecked", "rawtypes"})
  private final CombiningLock<Node<K, V>> lock =
      new CombiningLock<>((Class) Node.class, node -> serveRead((Node<K, V>) node));
  /** The clock, and how hits and overwrites run without the lock; its hook is for tests. */
  final Stamps stamps;
  private final Ticker ticker;
  /** Whether nodes keep their write time, for refresh. */
  private final boolean refreshing;
  /** The node class and how reads and writes set its deadline. */
  private final NodeDeadlines<K, V> deadlines;
  /** Whether every write reads the ticker, whatever its deadlines: refresh or access expiry. */
  private final boolean writesReadTicker;
  /** Whether hits may run without the lock: only when no idle or write times are kept. */
  private final boolean lockFreeReads;
  /**
   * Runs under the lock when a read or write of a present key ends its change; a hook for tests,
   * which must not throw.
   */
  @Nullable Runnable beforeEndChange;
  /** Wraps a value read with its write time, for a refreshing cache's reads. */
  private final WithWriteTime<V> withWriteTime;
  /** The map, the recency heap and the counts; its hooks are for tests. */
  final LruTable<K, V> table;

  LruStore(CacheConfig<K, V> config, WithWriteTime<V> withWriteTime) {
    this.withWriteTime = withWriteTime;
    this.ticker = config.ticker();
    this.refreshing = config.refreshAfterWrite().isPresent();
    this.deadlines = new NodeDeadlines<>(
        refreshing, config.expireAfterAccess().map(AbstractLocalCache::ttlNanos).orElse(Long.MAX_VALUE));
    this.writesReadTicker = refreshing || deadlines.expiresAfterAccess();
    this.lockFreeReads = !writesReadTicker;
    this.stamps = new Stamps(ticker);
    this.table = new LruTable<>(config.maximumSize(), stamps, ticker, deadlines);
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads {@code key}: returns its value (wrapped by {@link WithWriteTime} for a cache that keeps
   * write times), null if absent, or {@link Expired} if it expired and was removed by this read.
   */
  @Nullable Object read(K key) {
    while (true) {
      Node<K, V> node = table.lookup(key);
      if (node == null) {
        return null; // absent from the map: a miss, without locking
      }
      Object response = lockFreeReads ? stamps.hit(node) : Stamps.SERVE;
      if (response == Stamps.SERVE) {
        response = lock.serve(node);
      }
      if (response == RETRY) {
        // Removed after our lookup: look again. A node is marked DEAD after it left the map,
        // except by an insert whose map removal failed (a key's hashCode threw): take it out.
        table.forget(key, node);
        continue;
      }
      if (response instanceof CombiningLock.Failure failure) {
        throw failure.rethrow();
      }
      return response;
    }
  }

  /**
   * Under the lock, on the reader's thread or the lock holder's: the read of {@code node} as one
   * step. Returns the value (the node is now the most recent), {@link #RETRY} if the node left the
   * map since the reader found it, or {@link Expired} if it was removed now because it expired.
   */
  private Object serveRead(Node<K, V> node) {
    if (node.stamp == DEAD) {
      return RETRY;
    }
    long stamp = mark(node);
    try {
      if (node.expiresAt() != Long.MAX_VALUE) {
        long now = ticker.read();
        if (node.isExpired(now)) {
          Object expired = new Expired<>(node.key, node.value);
          table.unlink(node);
          table.publishSize();
          return expired;
        }
        deadlines.accessed(node, now);
      }
      node.stamp = stamps.tick();
      return refreshing ? withWriteTime.wrap(node.value, node.writeTime()) : node.value;
    } finally {
      endChange(node, stamp);
    }
  }

  // ---------------------------------------------------------------- writes
  //
  // Under the lock, a write to a present key marks its node first (mark waits while a lock-free
  // update holds it) and reads the node's fields only then; it ends by stamping the node with a
  // new ticket (a use), marking it DEAD (removed) or, in the finally block, giving back the stamp
  // it had (unchanged: a hit that read that stamp before may still succeed, and reads what the
  // node still holds).

  /** Stores {@code value} for {@code key}, expiring {@code ttl} nanoseconds from now. */
  void write(K key, V value, long ttl, Removals<K, V> removals) {
    if (ttl == Long.MAX_VALUE && lockFreeReads && !table.anyTimed()) {
      Node<K, V> node = table.lookup(key);
      // Nothing else to do: the count stays, and the heap's key for the node stays a lower
      // bound of its stamp. No entry has a deadline, so no write needs to look for an expired one.
      Object old = node == null ? Stamps.NOT_WRITTEN : stamps.overwrite(node, value);
      if (old != Stamps.NOT_WRITTEN) {
        @SuppressWarnings("unchecked")
        V replaced = (V) old;
        if (replaced != value) { // a value written over itself is no replacement, as in Caffeine
          removals.add(key, replaced, RemovalCause.REPLACED);
        }
        return;
      }
    }
    writeUnderLock(PUT, key, value, null, NO_WRITE_TIME, ttl, removals);
  }

  /**
   * Stores {@code value} unless a live value exists; returns that live value (now the most recent:
   * a failed put-if-absent reads the key), or null if stored.
   */
  @Nullable V storeIfAbsent(K key, V value, long ttl, Removals<K, V> removals) {
    @SuppressWarnings("unchecked")
    V existing = (V) writeUnderLock(PUT_IF_ABSENT, key, value, null, NO_WRITE_TIME, ttl, removals);
    return existing;
  }

  /**
   * Replaces the live value of {@code key}: any ({@code expected} null), one equal to
   * {@code expected}, or, when {@code expectedWriteTime} is not {@link #NO_WRITE_TIME}, that very
   * instance written at that time.
   */
  boolean replaceIf(
      K key, @Nullable V expected, long expectedWriteTime, V value, long ttl, Removals<K, V> removals) {
    return writeUnderLock(REPLACE, key, value, expected, expectedWriteTime, ttl, removals) == Boolean.TRUE;
  }

  /**
   * A single-key write under the lock, as one step: the key's node is marked and changed as
   * {@code kind} says ({@link #changePresent}), or, if the key is absent, {@code value} inserted
   * (not by a {@code REPLACE}); then the least recent entries are expired if due. Returns
   * {@code changePresent}'s answer, or null after an insert.
   */
  private @Nullable Object writeUnderLock(int kind, K key, V value, @Nullable V expected, long expectedWriteTime,
      long ttl, Removals<K, V> removals) {
    lock.lock();
    try {
      Node<K, V> node = table.liveNode(key);
      boolean timed = false;
      long now = 0L;
      Object answer = null;
      if (node != null) {
        long stamp = mark(node);
        try {
          timed = needsTicker(node.expiresAt(), ttl);
          now = timed ? ticker.read() : 0L;
          answer = changePresent(kind, node, value, expected, expectedWriteTime, now, ttl, removals);
        } finally {
          endChange(node, stamp);
        }
      } else if (kind != REPLACE) {
        timed = needsTicker(Long.MAX_VALUE, ttl);
        now = timed ? ticker.read() : 0L;
        table.insert(key, value, ttl, now, removals);
      }
      table.expireHead(now, timed, removals); // after unmarking: the node may be the least recent
      table.publishSize();
      return answer;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Changes a present key's marked node for {@link #writeUnderLock}: a {@code PUT} overwrites it
   * (null); a {@code PUT_IF_ABSENT} reads its live value (returned) or overwrites an expired one
   * (null); a {@code REPLACE} overwrites a live value that matches (true) and removes an expired
   * one (false).
   */
  private @Nullable Object changePresent(int kind, Node<K, V> node, V value, @Nullable V expected,
      long expectedWriteTime, long now, long ttl, Removals<K, V> removals) {
    boolean expired = node.isExpired(now);
    switch (kind) {
      case PUT -> {
        overwrite(node, value, now, ttl, expired ? RemovalCause.EXPIRED : RemovalCause.REPLACED, removals);
        return null;
      }
      case PUT_IF_ABSENT -> {
        if (expired) {
          overwrite(node, value, now, ttl, RemovalCause.EXPIRED, removals);
          return null;
        }
        deadlines.accessed(node, now);
        V existing = node.value;
        node.stamp = stamps.tick();
        return existing;
      }
      default -> {
        if (expired) {
          table.removeMarked(node, RemovalCause.EXPIRED, removals);
          return Boolean.FALSE;
        }
        if (expected == null
            || (expectedWriteTime == NO_WRITE_TIME
                ? node.value.equals(expected)
                : node.value == expected && refreshing && node.writeTime() == expectedWriteTime)) {
          overwrite(node, value, now, ttl, RemovalCause.REPLACED, removals);
          return Boolean.TRUE;
        }
        return Boolean.FALSE;
      }
    }
  }

  /** Removes the live value of {@code key}: any ({@code expected} null) or one equal to it. */
  boolean removeIf(K key, @Nullable V expected, Removals<K, V> removals) {
    boolean removed = false;
    lock.lock();
    try {
      Node<K, V> node = table.liveNode(key);
      if (node != null) {
        long stamp = mark(node);
        try {
          if (table.isExpiredNow(node)) {
            table.removeMarked(node, RemovalCause.EXPIRED, removals);
          } else if (expected == null || node.value.equals(expected)) {
            table.removeMarked(node, RemovalCause.EXPLICIT, removals);
            removed = true;
          }
        } finally {
          endChange(node, stamp);
        }
      }
      table.publishSize();
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
    lock.lock();
    try {
      long now = ticker.read();
      Node<K, V> node = table.liveNode(key);
      if (node != null) {
        long stamp = mark(node);
        try {
          if (node.isExpired(now)) {
            table.removeMarked(node, RemovalCause.EXPIRED, removals);
          } else {
            live = true;
            if (ttl.isZero()) {
              table.removeMarked(node, RemovalCause.EXPIRED, removals);
            } else {
              // Changing the deadline is not a use of the key: its stamp stays. A new node takes
              // it, so that no hit that read the old deadline can succeed (see Stamps). An
              // AccessNode never gets here: expireAfterAccess turns per-entry TTLs off.
              Node<K, V> fresh = deadlines.copyOf(node);
              fresh.expiresAt(deadline(now, ttlNanos(ttl)));
              table.replaceNode(node, fresh);
              fresh.stamp = stamp;
            }
          }
        } finally {
          endChange(node, stamp);
        }
      }
      table.publishSize();
    } finally {
      lock.unlock();
    }
    return live;
  }

  /**
   * Removes every entry, expired ones as expired, as one step: every node is marked {@code BUSY}
   * first (a hit on one waits, then finds it gone), then all leave.
   */
  void clear(Removals<K, V> removals) {
    lock.lock();
    try {
      long now = ticker.read();
      List<Node<K, V>> nodes = new ArrayList<>((int) Math.min(Integer.MAX_VALUE - 8, table.count()));
      table.forEach(nodes::add);
      long[] stamps = new long[nodes.size()];
      for (int i = 0; i < stamps.length; i++) {
        stamps[i] = mark(nodes.get(i));
      }
      int done = 0;
      try {
        while (done < stamps.length) {
          Node<K, V> node = nodes.get(done);
          RemovalCause cause = node.isExpired(now) ? RemovalCause.EXPIRED : RemovalCause.EXPLICIT;
          table.unlink(node);
          done++; // removed: its stamp stays DEAD even if reporting it fails
          removals.add(node.key, node.value, cause);
        }
      } finally {
        // A failure part way (an Error such as running out of memory): the nodes not removed get
        // their stamps back, unchanged, so no hit waits on them forever.
        for (int i = done; i < stamps.length; i++) {
          nodes.get(i).stamp = stamps[i];
        }
        table.publishSize();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Removes every expired entry now, one at a time; O(size). */
  void cleanUp(Removals<K, V> removals) {
    lock.lock();
    try {
      long now = ticker.read();
      List<Node<K, V>> expired = new ArrayList<>();
      table.forEach(node -> {
        if (node.isExpired(now)) {
          expired.add(node);
        }
      });
      try {
        for (Node<K, V> node : expired) {
          table.remove(node, RemovalCause.EXPIRED, removals);
        }
      } finally {
        table.publishSize();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Entries as of the last completed write. */
  long size() {
    return table.size();
  }

  /** Forgets every entry without reporting it; the cache is closing. */
  void release() {
    lock.lock();
    try {
      table.forEach(node -> {
        mark(node);
        node.stamp = DEAD;
      });
      table.reset();
    } finally {
      lock.unlock();
    }
  }

  /** Returns the keys from least to most recently used; for tests. O(size log size). */
  List<K> keysInRecencyOrder() {
    lock.lock();
    try {
      List<Node<K, V>> nodes = new ArrayList<>();
      table.forEach(nodes::add);
      long[] stamps = new long[nodes.size()];
      for (int i = 0; i < stamps.length; i++) {
        Node<K, V> node = nodes.get(i);
        stamps[i] = mark(node); // not BUSY under a lock-free update
        unmark(node, stamps[i]);
      }
      Integer[] order = new Integer[stamps.length];
      Arrays.setAll(order, i -> i);
      Arrays.sort(order, Comparator.comparingLong(i -> stamps[i]));
      List<K> keys = new ArrayList<>(nodes.size());
      for (int i : order) {
        keys.add(requireNonNull(nodes.get(i).key));
      }
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

  /**
   * Writes {@code value} over a marked node's, which leaves for {@code cause}; the node is then the
   * most recent.
   */
  private void overwrite(
      Node<K, V> node, V value, long now, long ttl, RemovalCause cause, Removals<K, V> removals) {
    K key = requireNonNull(node.key);
    V old = node.value;
    if (!node.canExpire() && ttl != Long.MAX_VALUE) {
      // A plain node cannot hold a deadline: a node that can takes its place.
      Node<K, V> fresh = deadlines.newNode(key, value, true);
      deadlines.written(fresh, now, ttl);
      table.replaceNode(node, fresh);
      fresh.stamp = stamps.tick();
    } else {
      node.value = value;
      int timedBefore = LruTable.timed(node);
      deadlines.written(node, now, ttl);
      table.retimed(node, timedBefore);
      node.stamp = stamps.tick(); // the write's point: after the value, so a hit that sees it reads it
    }
    if (cause != RemovalCause.REPLACED || old != value) { // a value written over itself is no replacement
      removals.add(key, old, cause); // once done: a failed replacement reports nothing
    }
  }

  /**
   * Ends a change to a present key's node, in a {@code finally} block: gives the mark back if this
   * thread still holds it, having changed nothing (see {@link Stamps#unmark}).
   */
  private void endChange(Node<K, V> node, long stamp) {
    try {
      Runnable hook = beforeEndChange;
      if (hook != null) {
        hook.run();
      }
    } finally {
      unmark(node, stamp);
    }
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
