package io.cachet.local;

import static java.util.Objects.requireNonNull;

import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The recency order of an {@link LruStore}: a doubly linked list of its {@link Node}s, least recent
 * first, around a sentinel. Not thread-safe: the cache calls it under its lock only, which is also
 * what makes the nodes' plain fields safe to share.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class RecencyList<K, V> {

  /** {@code sentinel.next} is the least recent node, {@code sentinel.prev} the most recent. */
  private final Node<K, V> sentinel = new Node<>(null, null, Long.MAX_VALUE);

  RecencyList() {
    reset();
  }

  boolean isEmpty() {
    return sentinel.next == sentinel;
  }

  /** Returns the least recent node; the list must not be empty. */
  Node<K, V> first() {
    return requireNonNull(sentinel.next);
  }

  /**
   * Calls {@code action} on every node from the least to the most recent; {@code action} may
   * unlink the node it is given.
   */
  void forEach(Consumer<Node<K, V>> action) {
    for (Node<K, V> node = sentinel.next; node != sentinel; ) {
      Node<K, V> next = requireNonNull(node).next;
      action.accept(node);
      node = next;
    }
  }

  /** Forgets every node at once, leaving their links as they are. */
  void reset() {
    sentinel.prev = sentinel;
    sentinel.next = sentinel;
  }

  /** Links {@code node} as the most recent. */
  void linkLast(Node<K, V> node) {
    Node<K, V> last = sentinel.prev;
    node.prev = last;
    node.next = sentinel;
    last.next = node;
    sentinel.prev = node;
  }

  /** Whether {@code node} is in the list (a new node is not linked yet, a removed one no more). */
  static boolean isLinked(Node<?, ?> node) {
    return node.prev != null;
  }

  void unlink(Node<K, V> node) {
    Node<K, V> prev = node.prev;
    Node<K, V> next = node.next;
    if (prev != null && next != null) {
      prev.next = next;
      next.prev = prev;
    }
    node.prev = null;
    node.next = null;
  }

  /** Makes the linked {@code node} the most recent. */
  void moveToTail(Node<K, V> node) {
    if (sentinel.prev == node) {
      return;
    }
    unlink(node);
    linkLast(node);
  }

  /** {@link Node#state}: being inserted or changed by the lock holder; a buffered read waits. */
  static final int BUSY = 0;
  /** {@link Node#state}: linked, with a value a buffered read may return. */
  static final int LIVE = 1;
  /** {@link Node#state}: removed from the map and the list; never linked again. */
  static final int DEAD = 2;

  /**
   * A key's entry and its place in the recency list. Every field is written under the cache's lock
   * only. {@code value} and {@code expiresAt} of a node change only while its {@code state} is
   * {@link #BUSY} (see {@link LruStore}), which is what lets a buffered read, which holds no lock,
   * read them between reading {@code state} and publishing its read; the list links are only ever
   * read under the lock.
   */
  static class Node<K, V> {
    final @Nullable K key;
    V value;
    /** Deadline in ticker nanoseconds; {@code Long.MAX_VALUE}: never. */
    long expiresAt;
    /** {@link #BUSY} (also while a new node is being inserted), {@link #LIVE} or {@link #DEAD}. */
    volatile int state;
    @Nullable Node<K, V> prev;
    @Nullable Node<K, V> next;

    @SuppressWarnings("unchecked")
    Node(@Nullable K key, @Nullable V value, long expiresAt) {
      this.key = key;
      this.value = value == null ? (V) new Object() : value;
      this.expiresAt = expiresAt;
    }

    boolean isExpired(long now) {
      return expiresAt != Long.MAX_VALUE && now - expiresAt >= 0;
    }

    /** Records a write at ticker reading {@code now}; only nodes of a refreshing cache keep it. */
    void written(long now) {}

    /** Returns the ticker reading of the last write; only nodes of a refreshing cache keep it. */
    long writeTime() {
      throw new UnsupportedOperationException("only a cache with refreshAfterWrite keeps write times");
    }
  }

  /** A node of a cache with {@code refreshAfterWrite}: it also keeps its write time. */
  static final class WrittenNode<K, V> extends Node<K, V> {
    /** Ticker reading of the last write; under the lock, like every other field. */
    long writeTime;

    WrittenNode(K key, V value) {
      super(key, value, Long.MAX_VALUE);
    }

    @Override
    void written(long now) {
      writeTime = now;
    }

    @Override
    long writeTime() {
      return writeTime;
    }
  }

  /**
   * A node of a cache with {@code expireAfterAccess}: {@code expiresAt} is the earlier of the
   * write deadline, kept here because reads move {@code expiresAt} but never past it, and the
   * last read or write plus the idle time.
   */
  static class AccessNode<K, V> extends Node<K, V> {
    /** Deadline set by the last write (global or per-entry); {@code Long.MAX_VALUE}: never. */
    long writeDeadline = Long.MAX_VALUE;

    AccessNode(K key, V value) {
      super(key, value, Long.MAX_VALUE);
    }
  }

  /** A node of a cache with both {@code expireAfterAccess} and {@code refreshAfterWrite}. */
  static final class WrittenAccessNode<K, V> extends AccessNode<K, V> {
    /** Ticker reading of the last write; under the lock, like every other field. */
    long writeTime;

    WrittenAccessNode(K key, V value) {
      super(key, value);
    }

    @Override
    void written(long now) {
      writeTime = now;
    }

    @Override
    long writeTime() {
      return writeTime;
    }
  }
}
