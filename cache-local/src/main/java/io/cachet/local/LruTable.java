package io.cachet.local;

import static io.cachet.local.Stamps.BUSY;
import static io.cachet.local.Stamps.DEAD;
import static io.cachet.local.Stamps.mark;
import static io.cachet.local.Stamps.unmark;
import static java.util.Objects.requireNonNull;

import io.cachet.RemovalCause;
import io.cachet.Ticker;
import io.cachet.local.RecencyHeap.Node;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The entries of an {@link LruStore}: the map from keys to nodes, the recency heap over the same
 * nodes and the counts kept with them, and the steps that change them together: an insert with the
 * eviction it causes, a removal, a node taking another's place, the expiry of the least recent
 * entries. {@link #lookup}, {@link #size}, {@link #anyTimed} and {@link #forget} take no lock;
 * every other method runs under the store's lock, on nodes the caller has marked where it says so.
 * {@link LruStore}'s class comment has the design; {@link #insert} and {@link #evictLeastRecent}
 * the argument for eviction.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class LruTable<K, V> {

  private final ConcurrentHashMap<K, Node<K, V>> map = new ConcurrentHashMap<>();
  private final RecencyHeap<K, V> recency;
  private final Stamps stamps;
  private final Ticker ticker;
  private final NodeDeadlines<K, V> deadlines;
  private final long capacity;
  /** Runs under the lock after an insert removed its victim; a hook for tests. */
  @Nullable Runnable afterEviction;
  /** Runs under the lock when an insert has picked a victim, before it marks it; a hook for tests. */
  @Nullable Runnable beforeVictimCheck;
  /** Entries in the map. */
  private long count;
  /**
   * Entries in the map with a deadline. While none has one, a write does not look for the least
   * recent entry to expire it ({@link #expireHead}); a lock-free overwrite reads it.
   */
  private volatile long timedCount;
  /** Entries once the last write completed; written under the lock, read without it. */
  private volatile long size;

  LruTable(long capacity, Stamps stamps, Ticker ticker, NodeDeadlines<K, V> deadlines) {
    this.capacity = capacity;
    this.stamps = stamps;
    this.ticker = ticker;
    this.deadlines = deadlines;
    this.recency = new RecencyHeap<>(capacity);
  }

  /** The node of {@code key}, or null; lock-free. */
  @Nullable Node<K, V> lookup(K key) {
    return map.get(key);
  }

  /** Entries as of the last completed write; lock-free. */
  long size() {
    return size;
  }

  /** Whether any entry has a deadline (possibly stale without the lock). */
  boolean anyTimed() {
    return timedCount != 0;
  }

  /** Entries in the map now. */
  long count() {
    return count;
  }

  /** Runs {@code action} on every node, in no particular order. */
  void forEach(Consumer<Node<K, V>> action) {
    recency.forEach(action);
  }

  /** Records the size for {@link #size()}; at the end of a write. */
  void publishSize() {
    size = count;
  }

  /**
   * The node of {@code key} in the map, or null. A node left in the map marked {@code DEAD} by a
   * failed insert (whose removal from the map failed too) is taken out here, so no mark waits on it.
   */
  @Nullable Node<K, V> liveNode(K key) {
    Node<K, V> node = map.get(key);
    if (node != null && node.stamp == DEAD) {
      map.remove(key, node);
      return null;
    }
    return node;
  }

  /**
   * Takes {@code node} out of the map if it is still there under {@code key}; lock-free, for a
   * read that found it {@code DEAD} but still mapped (an insert whose removal from the map failed).
   */
  void forget(K key, Node<K, V> node) {
    if (map.get(key) == node) {
      map.remove(key, node);
    }
  }

  /** Whether {@code node} is expired now; reads the ticker only if the node has a deadline. */
  boolean isExpiredNow(Node<K, V> node) {
    return node.expiresAt() != Long.MAX_VALUE && node.isExpired(ticker.read());
  }

  /**
   * Records that a node's deadline changed in place ({@code timedBefore}: {@link #timed} before
   * the change).
   */
  void retimed(Node<K, V> node, int timedBefore) {
    timedCount += timed(node) - timedBefore; // one write: a lock-free overwrite reads it
  }

  /** 1 if {@code node} has a deadline, else 0: its share of {@link #timedCount}. */
  static int timed(Node<?, ?> node) {
    return node.expiresAt() == Long.MAX_VALUE ? 0 : 1;
  }

  /**
   * Puts {@code fresh} ({@code BUSY}, a hit waits for it) in the place of the marked {@code node},
   * in the map and the heap (with its key, a lower bound of any stamp the caller gives it), and
   * marks {@code node} {@code DEAD}; the caller then stamps {@code fresh}. A failure leaves the
   * map as it was.
   */
  void replaceNode(Node<K, V> node, Node<K, V> fresh) {
    try {
      map.put(node.key, fresh);
    } catch (RuntimeException | Error e) {
      map.replace(node.key, fresh, node); // if the put failed after replacing
      fresh.stamp = DEAD;
      throw e;
    }
    recency.replace(node, fresh);
    timedCount += timed(fresh) - timed(node);
    node.stamp = DEAD;
  }

  /**
   * Adds a new key as the most recent and evicts as needed, as one step for lock-free lookups:
   * the node enters the map {@code BUSY}, the least recent key leaves it, and only then is the node
   * stamped. A hit that finds the new node waits for the stamp, so it sees the finished step; a
   * lookup can never see a victim gone while the new key is still absent. The map holds one node
   * over the capacity meanwhile, but {@link #size()} reports the size as of the last completed
   * write.
   */
  void insert(K key, V value, long ttl, long now, Removals<K, V> removals) {
    if (capacity == 0) {
      removals.add(key, value, RemovalCause.SIZE);
      return;
    }
    Node<K, V> node = deadlines.newNode(key, value, ttl != Long.MAX_VALUE);
    deadlines.written(node, now, ttl);
    long ticket = 0L;
    boolean counted = false;
    try {
      map.put(key, node); // BUSY until stamped: a hit that finds it waits
      count++;
      timedCount += timed(node);
      counted = true;
      recency.add(node, Long.MAX_VALUE); // never the root while another node is there
      while (count > capacity) {
        ticket = evictLeastRecent(removals);
      }
    } catch (RuntimeException | Error e) {
      if (counted) {
        count--;
        timedCount -= timed(node);
      }
      if (node.index >= 0) {
        recency.remove(node);
      }
      try {
        map.remove(key, node); // the map may hold it even if its put failed
      } finally {
        // Even if the map failed: a hit looks again instead of waiting, and takes it out; a write
        // under the lock takes it out first (liveNode).
        node.stamp = DEAD;
      }
      throw e;
    }
    if (ticket == 0L) {
      ticket = stamps.tick(); // no eviction: the insert takes effect here
    }
    recency.setKey(node, ticket);
    node.stamp = ticket;
  }

  /**
   * Removes the least recent key, as part of an insert, and returns the insert's ticket. The root
   * of the heap is the least recent key if its stamp still equals its key; the insert then takes
   * its ticket, its linearization point, and marks the victim by a CAS from that stamp. A hit on
   * the victim before the CAS, with a ticket from before the insert's or after it, makes the CAS
   * fail, and the root is looked at again: so the victim is the least recent key as of the ticket,
   * counting every hit that took effect before it, and no hit after the ticket finds it.
   */
  private long evictLeastRecent(Removals<K, V> removals) {
    for (int spins = 0; ; ) {
      Node<K, V> victim = recency.root();
      long stamp = victim.stamp;
      if (stamp <= BUSY) {
        CombiningLock.backOff(spins++); // a lock-free overwrite of the root: it is being used
        continue;
      }
      // An expired root goes as expired whatever was read: it is not a live key to keep.
      if (stamp != recency.rootKey() && !isExpiredNow(victim)) {
        recency.rekeyRoot(stamp); // used since it was placed: it goes where its stamp puts it
        continue;
      }
      Runnable check = beforeVictimCheck;
      if (check != null) {
        check.run();
      }
      // The ticker before the mark: if it throws, no node is left marked.
      RemovalCause cause = isExpiredNow(victim) ? RemovalCause.EXPIRED : RemovalCause.SIZE;
      long ticket = stamps.tick();
      if (!mark(victim, stamp)) {
        continue; // read just now: no longer the least recent, perhaps
      }
      try {
        map.remove(requireNonNull(victim.key), victim);
      } catch (RuntimeException | Error e) {
        victim.stamp = stamp;
        throw e;
      }
      unlinkMarked(victim);
      removals.add(victim.key, victim.value, cause); // reported once done: a failure reports nothing undone
      Runnable hook = afterEviction;
      if (hook != null) {
        hook.run();
      }
      return ticket;
    }
  }

  /**
   * Returns the least recent node, re-keying roots whose stamps have moved until one has not; the
   * heap must not be empty.
   */
  Node<K, V> leastRecent() {
    for (int spins = 0; ; ) {
      Node<K, V> root = recency.root();
      long stamp = root.stamp;
      if (stamp <= BUSY) {
        CombiningLock.backOff(spins++); // a lock-free overwrite of the root
      } else if (stamp == recency.rootKey()) {
        return root;
      } else {
        recency.rekeyRoot(stamp);
      }
    }
  }

  /**
   * Removes the least recent entries while they are expired, as part of a write: O(log n)
   * amortized, as each entry leaves once. With {@code expireAfterAccess} the recency order is the
   * idle deadlines' order, so idle entries leave without being read; an entry expired by its write
   * deadline behind a live least recent one waits for a read, a write, the capacity or a clean-up.
   * {@code now} is the write's ticker reading when {@code timed}; otherwise the ticker is read here,
   * and only if the least recent entry has a deadline.
   */
  void expireHead(long now, boolean timed, Removals<K, V> removals) {
    while (timedCount > 0) {
      Node<K, V> head = leastRecent();
      if (head.expiresAt() == Long.MAX_VALUE) {
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

  /** Removes a live node, reporting it for {@code cause}. */
  void remove(Node<K, V> node, RemovalCause cause, Removals<K, V> removals) {
    long stamp = mark(node);
    try {
      removeMarked(node, cause, removals);
    } finally {
      unmark(node, stamp); // only if the map failed: then nothing changed
    }
  }

  /**
   * Removes a marked node, reporting it for {@code cause}: out of the map, then out of the heap,
   * then reported (a removal that failed is not reported).
   */
  void removeMarked(Node<K, V> node, RemovalCause cause, Removals<K, V> removals) {
    unlink(node);
    removals.add(node.key, node.value, cause);
  }

  /** A marked node leaves the map, then the heap and the count: {@code DEAD}. Reports nothing. */
  void unlink(Node<K, V> node) {
    map.remove(requireNonNull(node.key), node);
    unlinkMarked(node);
  }

  /** A marked node already out of the map leaves the heap and the count: {@code DEAD}. */
  private void unlinkMarked(Node<K, V> node) {
    count--;
    timedCount -= timed(node);
    recency.remove(node);
    node.stamp = DEAD;
  }

  /** Forgets every node; the caller has marked them all {@code DEAD}. */
  void reset() {
    recency.reset();
    map.clear();
    count = 0;
    timedCount = 0;
    publishSize();
  }
}
