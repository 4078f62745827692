package io.cachet.local;

import static io.cachet.local.AbstractLocalCache.deadline;
import static java.util.Objects.requireNonNull;

import io.cachet.local.RecencyHeap.AccessNode;
import io.cachet.local.RecencyHeap.Node;
import io.cachet.local.RecencyHeap.TimedNode;
import io.cachet.local.RecencyHeap.WrittenAccessNode;
import io.cachet.local.RecencyHeap.WrittenNode;

/**
 * Which {@link Node} class an {@link LruStore} uses and how its writes and hits set a node's
 * {@code expiresAt}. Only a cache that needs them pays for more than a plain node: with {@code
 * expireAfterAccess} a node keeps its write deadline ({@link AccessNode}), with {@code
 * refreshAfterWrite} its write time ({@link WrittenNode}), with both both ({@link
 * WrittenAccessNode}). Stateless past construction; its methods run under the cache's lock.
 *
 * <p>With {@code expireAfterAccess}, {@code expiresAt} is the earlier of the write deadline and
 * the last read or write plus the idle time, so {@link Node#isExpired} needs no other field.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class NodeDeadlines<K, V> {

  private final boolean refreshing;
  /** {@code expireAfterAccess} in nanoseconds; {@code Long.MAX_VALUE}: not set. */
  private final long expireAfterAccessNanos;

  NodeDeadlines(boolean refreshing, long expireAfterAccessNanos) {
    this.refreshing = refreshing;
    this.expireAfterAccessNanos = expireAfterAccessNanos;
  }

  boolean expiresAfterAccess() {
    return expireAfterAccessNanos != Long.MAX_VALUE;
  }

  /**
   * A new node, without a deadline until {@link #written}: one that can hold a deadline if {@code
   * timed} or the cache keeps idle or write times, else a plain node (8 bytes less).
   */
  Node<K, V> newNode(K key, V value, boolean timed) {
    if (expiresAfterAccess()) {
      return refreshing ? new WrittenAccessNode<>(key, value) : new AccessNode<>(key, value);
    }
    if (refreshing) {
      return new WrittenNode<>(key, value);
    }
    return timed ? new TimedNode<>(key, value) : new Node<>(key, value);
  }

  /**
   * A new node with the key, value, deadlines and write time of {@code node}, to take its place;
   * one that can hold a deadline; without a stamp until the caller gives it one.
   */
  Node<K, V> copyOf(Node<K, V> node) {
    Node<K, V> copy = newNode(requireNonNull(node.key), node.value, true);
    copy.expiresAt(node.expiresAt());
    if (expiresAfterAccess()) {
      ((AccessNode<K, V>) copy).writeDeadline = ((AccessNode<K, V>) node).writeDeadline;
    }
    if (refreshing) {
      copy.written(node.writeTime());
    }
    return copy;
  }

  /**
   * Sets the deadlines of a write (the node must {@linkplain Node#canExpire can hold} them unless
   * {@code ttl} is never) at ticker reading {@code now} with time to live {@code ttl}:
   * the write deadline, and with {@code expireAfterAccess} the earlier of it and the idle deadline.
   */
  void written(Node<K, V> node, long now, long ttl) {
    long writeDeadline = deadline(now, ttl);
    if (expiresAfterAccess()) {
      ((AccessNode<K, V>) node).writeDeadline = writeDeadline;
      node.expiresAt(earlier(writeDeadline, deadline(now, expireAfterAccessNanos)));
    } else {
      node.expiresAt(writeDeadline);
    }
    node.written(now);
  }

  /**
   * Restarts the idle clock of a live {@code node} read at {@code now}, never past its write
   * deadline; nothing without {@code expireAfterAccess}.
   */
  void accessed(Node<K, V> node, long now) {
    if (expiresAfterAccess()) {
      node.expiresAt(earlier(((AccessNode<K, V>) node).writeDeadline, deadline(now, expireAfterAccessNanos)));
    }
  }

  /** The earlier of two deadlines, {@code Long.MAX_VALUE} meaning never; wrap-safe like isExpired. */
  static long earlier(long a, long b) {
    if (a == Long.MAX_VALUE) {
      return b;
    }
    if (b == Long.MAX_VALUE) {
      return a;
    }
    return a - b <= 0 ? a : b;
  }
}
