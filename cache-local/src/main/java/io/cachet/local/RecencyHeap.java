package io.cachet.local;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The recency order of an {@link LruStore}: a binary min-heap of its {@link Node}s keyed by a
 * lower bound of each node's {@link Node#stamp}, the ticket of its last read or write. Not
 * thread-safe: the cache calls it under its lock only.
 *
 * <p>The keys are lazy. A hit raises its node's stamp without the lock and without touching the
 * heap, and a write under the lock raises it without moving the node; so a node's key is the stamp
 * it had when it was last placed, never more than its stamp now. The least recent node is found
 * at eviction time ({@link LruTable}): the root whose stamp still equals its key has the smallest
 * stamp of all (every other stamp is at least its node's key, which is at least the root's); a
 * root whose stamp has moved is re-keyed to it and sifted down, and the next root examined. Each
 * re-key pays for at least one hit or write since the node was last placed, so the cost is
 * O(log n) amortized over them, and a hit costs the heap nothing.
 *
 * <p>The arrays grow by doubling up to the capacity plus one (a new node is pushed before its
 * victim leaves): 12 bytes per entry with compressed references once full.
 */
final class RecencyHeap<K, V> {

  private static final long[] NO_KEYS = {};
  /** The longest array the heap allocates. */
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  private final int maxLength;
  private long[] keys = NO_KEYS;
  @SuppressWarnings("unchecked")
  private Node<K, V>[] nodes = new Node[0];
  private int size;

  /**
   * @param capacity the most nodes the heap will hold at once, minus one; {@code Long.MAX_VALUE}
   *     (no bound) holds as many as an array can, about two billion
   */
  RecencyHeap(long capacity) {
    this.maxLength = capacity >= MAX_ARRAY - 1 ? MAX_ARRAY : (int) Math.max(1L, capacity + 1);
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** Returns the node with the smallest key; the heap must not be empty. */
  Node<K, V> root() {
    return requireNonNull(nodes[0]);
  }

  /** Returns the root's key; the heap must not be empty. */
  long rootKey() {
    return keys[0];
  }

  /** Sets the root's key to {@code key}, which must not be smaller, and restores the order. */
  void rekeyRoot(long key) {
    keys[0] = key;
    siftDown(0, key, root());
  }

  /** Adds {@code node} with {@code key}. */
  void add(Node<K, V> node, long key) {
    if (size == keys.length) {
      grow();
    }
    siftUp(size++, key, node);
  }

  /** Sets the key of {@code node}, which is in the heap, and restores the order. */
  void setKey(Node<K, V> node, long key) {
    int i = node.index;
    if (key < keys[i]) {
      siftUp(i, key, node);
    } else {
      siftDown(i, key, node);
    }
  }

  /** Puts {@code replacement} in the place of {@code node}, with its key; {@code node} leaves. */
  void replace(Node<K, V> node, Node<K, V> replacement) {
    int i = node.index;
    nodes[i] = replacement;
    replacement.index = i;
    node.index = -1;
  }

  /** Removes {@code node}, which is in the heap. */
  void remove(Node<K, V> node) {
    int i = node.index;
    node.index = -1;
    int last = --size;
    Node<K, V> moved = nodes[last];
    long movedKey = keys[last];
    nodes[last] = null;
    if (i != last) {
      if (movedKey < keys[i]) {
        siftUp(i, movedKey, moved);
      } else {
        siftDown(i, movedKey, moved);
      }
    }
  }

  /** Calls {@code action} on every node, in no particular order; it must not change the heap. */
  void forEach(Consumer<Node<K, V>> action) {
    for (int i = 0; i < size; i++) {
      action.accept(nodes[i]);
    }
  }

  /** Forgets every node at once, leaving their indexes as they are. */
  void reset() {
    Arrays.fill(nodes, 0, size, null);
    size = 0;
  }

  private void grow() {
    if (keys.length >= maxLength) {
      throw new IllegalStateException("recency heap full: " + keys.length);
    }
    int length = (int) Math.min(maxLength, Math.max(16L, 2L * keys.length));
    keys = Arrays.copyOf(keys, length);
    nodes = Arrays.copyOf(nodes, length);
  }

  private void siftUp(int i, long key, Node<K, V> node) {
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (keys[parent] <= key) {
        break;
      }
      place(i, keys[parent], nodes[parent]);
      i = parent;
    }
    place(i, key, node);
  }

  private void siftDown(int i, long key, Node<K, V> node) {
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < size && keys[right] < keys[child]) {
        child = right;
      }
      if (key <= keys[child]) {
        break;
      }
      place(i, keys[child], nodes[child]);
      i = child;
    }
    place(i, key, node);
  }

  private void place(int i, long key, Node<K, V> node) {
    keys[i] = key;
    nodes[i] = node;
    node.index = i;
  }

  /**
   * A key's entry and its recency. {@code value}, the deadline and the subclasses' fields are
   * written under the cache's lock (or by a lock-free overwrite, {@link Stamps#overwrite}) only,
   * and only while the node is marked ({@link Stamps#BUSY} or {@link Stamps#WRITING}), which is
   * what lets a lock-free hit read them between reading the stamp and replacing it; {@code index}
   * is the heap's, under the lock.
   */
  static class Node<K, V> {
    final K key;
    V value;
    /**
     * The ticket of the last read or write of this key (positive), or a mark ({@link Stamps#BUSY},
     * {@link Stamps#WRITING}), or {@link Stamps#DEAD}; see {@link Stamps} for how it changes.
     */
    volatile long stamp;
    /** Position in the {@link RecencyHeap}; -1 when not in it. */
    int index = -1;

    Node(K key, V value) {
      this.key = key;
      this.value = value;
    }

    /**
     * Deadline in ticker nanoseconds; {@code Long.MAX_VALUE}: never. A plain node has none: it
     * costs 8 bytes less, and a {@link TimedNode} takes its place when a write gives the key one.
     */
    long expiresAt() {
      return Long.MAX_VALUE;
    }

    /** Sets the deadline; a plain node takes only {@code Long.MAX_VALUE}. */
    void expiresAt(long deadline) {
      if (deadline != Long.MAX_VALUE) {
        throw new IllegalStateException("a plain node has no deadline");
      }
    }

    /** Whether this node can hold a deadline other than never. */
    boolean canExpire() {
      return false;
    }

    boolean isExpired(long now) {
      long deadline = expiresAt();
      return deadline != Long.MAX_VALUE && now - deadline >= 0;
    }

    /** Records a write at ticker reading {@code now}; only nodes of a refreshing cache keep it. */
    void written(long now) {}

    /** Returns the ticker reading of the last write; only nodes of a refreshing cache keep it. */
    long writeTime() {
      throw new UnsupportedOperationException("only a cache with refreshAfterWrite keeps write times");
    }
  }

  /** A node that can hold a deadline. */
  static class TimedNode<K, V> extends Node<K, V> {
    /** Deadline in ticker nanoseconds; {@code Long.MAX_VALUE}: never. */
    private long expiresAt = Long.MAX_VALUE;

    TimedNode(K key, V value) {
      super(key, value);
    }

    @Override
    final long expiresAt() {
      return expiresAt;
    }

    @Override
    final void expiresAt(long deadline) {
      expiresAt = deadline;
    }

    @Override
    final boolean canExpire() {
      return true;
    }
  }

  /** A node of a cache with {@code refreshAfterWrite}: it also keeps its write time. */
  static final class WrittenNode<K, V> extends TimedNode<K, V> {
    /** Ticker reading of the last write; under the lock, like every other field. */
    long writeTime;

    WrittenNode(K key, V value) {
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

  /**
   * A node of a cache with {@code expireAfterAccess}: {@code expiresAt} is the earlier of the
   * write deadline, kept here because reads move {@code expiresAt} but never past it, and the
   * last read or write plus the idle time.
   */
  static class AccessNode<K, V> extends TimedNode<K, V> {
    /** Deadline set by the last write (global or per-entry); {@code Long.MAX_VALUE}: never. */
    long writeDeadline = Long.MAX_VALUE;

    AccessNode(K key, V value) {
      super(key, value);
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
