package io.cachet.replicated;

import io.cachet.codec.Codec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * The replicated state machine: the entries of one cache and the rule that changes them. Applying
 * the same records in the same per-partition order gives the same state on every node, whatever
 * the node's clock or configuration; that is what keeps replicas equal.
 *
 * <p>The rule (see docs/replication.md): every record carries the key's complete new state. An
 * unconditional record always applies. A conditional record applies only if the key's latest
 * record is at an offset no higher than the record's {@code expected} offset, i.e. nothing touched
 * the key since the writer read the state it computed the record from; otherwise it is void and
 * changes nothing but the key's latest offset. A key whose latest record is void (or not Cachet's)
 * is "unanchored": compaction could keep only that record, so some node must append an anchor.
 *
 * <p>Threading: {@link #apply} and the methods marked "apply thread" are called by one thread at a
 * time; {@link #get}, {@link #position} and {@link #size} may be called from any thread.
 */
final class Replica<K, V> {

  /**
   * How long, in record-timestamp time, an absent key's tombstone entry is kept in memory before it
   * is forgotten. Fixed, because every replica must forget at the same record.
   */
  static final long FORGET_TOMBSTONES_AFTER_MS = 10 * 60_000L;
  /**
   * The most keys {@link #presize} sizes for: a table of 2 M slots, 8 MiB with compressed
   * references, kept for the replica's life however few keys it ends up holding (an offset range
   * counts every write since the log began, not the keys compaction kept). Beyond it the map
   * grows as it fills.
   */
  static final long MAX_PRESIZE = 1 << 20;

  private final Codec<K> keyCodec;
  private final Codec<V> valueCodec;
  /** Replaced only while empty, before the replica is ready ({@link #presize}); volatile for the readers. */
  private volatile ConcurrentHashMap<K, Entry<V>> entries = new ConcurrentHashMap<>();
  private final AtomicLongArray positions;
  /**
   * Per partition, the leader epoch of the last record applied, -1 when unknown (apply thread, or
   * the snapshot loader before it starts): with the position, it says which log the replica
   * followed, so a restart from a snapshot can tell a log that was cut back and regrew.
   */
  private final int[] leaderEpochs;
  /** How many times {@link #reset} began and ended: odd while one runs (written by the apply thread). */
  private volatile long resets;
  /** Written by one thread at a time (the apply thread, or the snapshot loader before it starts). */
  private final AtomicLong present = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  /** Records applied (not void) whose value this node's codec cannot decode (apply thread). */
  private final AtomicLong unreadable = new AtomicLong();
  private final AtomicLong applied = new AtomicLong();
  /** Per partition, tombstone entries in offset order (apply thread). */
  private final List<ArrayDeque<Tombstone<K>>> tombstones;
  /** Keys whose latest record is void (apply thread). */
  private final Map<K, Entry<V>> unanchored = new HashMap<>();
  /**
   * Live entries with a deadline, soonest first (apply thread). An item goes stale when its key is
   * written again; stale items are skipped when polled, and dropped all at once when the queue
   * has grown to twice what the last such pass left ({@link #compactDeadlines}), so it follows the
   * number of keys with a deadline, not of writes.
   */
  private final PriorityQueue<Deadline<K>> deadlines = new PriorityQueue<>(Comparator.comparingLong(Deadline::deadline));
  /** Items the queue may hold beyond twice what the last pass left before its stale ones are dropped. */
  private static final int DEADLINE_SLACK = 4_096;
  /** Items the last pass over the queue left: all current (apply thread). */
  private int deadlinesAfterCompaction;

  Replica(Codec<K> keyCodec, Codec<V> valueCodec, int partitions) {
    this.keyCodec = keyCodec;
    this.valueCodec = valueCodec;
    this.positions = new AtomicLongArray(partitions);
    this.leaderEpochs = new int[partitions];
    Arrays.fill(leaderEpochs, -1);
    this.tombstones = new ArrayList<>(partitions);
    for (int i = 0; i < partitions; i++) {
      tombstones.add(new ArrayDeque<>());
    }
  }

  /** The outcome of applying one record. */
  record Outcome<K>(K key, @Nullable RecordMeta meta, boolean decodable, boolean valid, boolean wasPresent) {}

  private record Tombstone<K>(K key, long offset, long timestamp) {}

  private record Deadline<K>(long deadline, K key, long offset) {}

  int partitions() {
    return positions.length();
  }

  /** Returns the entry for {@code key}, absent or present, live or expired; {@code null} if unknown. */
  @Nullable Entry<V> get(K key) {
    return entries.get(key);
  }

  /** Returns the next offset to apply in {@code partition}. */
  long position(int partition) {
    return positions.get(partition);
  }

  /** Moves the position (apply thread), for offsets that held no record (compacted or control records). */
  void advance(int partition, long nextOffset) {
    if (nextOffset > positions.get(partition)) {
      positions.set(partition, nextOffset);
    }
  }

  /** Returns the leader epoch of the last record applied in {@code partition}; -1 when unknown. */
  int leaderEpoch(int partition) {
    return leaderEpochs[partition];
  }

  /** Records the leader epoch of the last record applied in {@code partition} (apply thread); -1 for unknown. */
  void leaderEpoch(int partition, int epoch) {
    leaderEpochs[partition] = epoch;
  }

  /** Returns the number of keys holding a value, expired or not. */
  long size() {
    return present.get();
  }

  long skippedRecords() {
    return skipped.get();
  }

  /** Returns how many records applied (not void) held a value this node's codec cannot decode ({@link Unreadable}). */
  long unreadableRecords() {
    return unreadable.get();
  }

  long appliedRecords() {
    return applied.get();
  }

  /**
   * Applies one record given as bytes (apply thread); see {@link #applyDecoded}.
   */
  @Nullable Outcome<K> apply(
      int partition, long offset, long timestamp, byte @Nullable [] keyBytes, byte @Nullable [] valueBytes,
      byte @Nullable [] metaBytes, long nowMillis) {
    return applyDecoded(partition, offset, timestamp, Unreadable.decode(keyCodec, keyBytes),
        Unreadable.decode(valueCodec, valueBytes), metaBytes, nowMillis);
  }

  /**
   * Applies one record whose key and value the consumer already decoded ({@link RecordDecoder}:
   * a {@code K} or {@code V}, {@code null} for none, or an {@link Unreadable}) (apply thread).
   * Returns {@code null} when the record was skipped because its key cannot be decoded; a record
   * whose key decodes but whose metadata does not is void; a value that cannot be decoded is
   * kept as the {@link Unreadable} it is.
   */
  @Nullable Outcome<K> applyDecoded(
      int partition, long offset, long timestamp, @Nullable Object decodedKey, @Nullable Object decodedValue,
      byte @Nullable [] metaBytes, long nowMillis) {
    try {
      return applyRecord(partition, offset, timestamp, decodedKey, decodedValue, metaBytes, nowMillis);
    } finally {
      // Only after the entry is stored: writers and read barriers read the position first and
      // rely on every record below it being visible in the map.
      advance(partition, offset + 1);
    }
  }

  @SuppressWarnings("unchecked") // decoded by this replica's codecs
  private @Nullable Outcome<K> applyRecord(
      int partition, long offset, long timestamp, @Nullable Object decodedKey, @Nullable Object decodedValue,
      byte @Nullable [] metaBytes, long nowMillis) {
    if (decodedKey == null || Unreadable.is(decodedKey)) {
      skipped.incrementAndGet();
      return null;
    }
    K key = (K) decodedKey;
    // Only the apply thread writes these counters: no atomic read-modify-write per record.
    applied.setRelease(applied.getPlain() + 1);
    forgetOldTombstones(partition, timestamp);
    RecordMeta meta = RecordMeta.decode(metaBytes);
    boolean decodable = meta != null;
    // A value this node cannot decode in a record Cachet wrote is kept as it is (see Unreadable):
    // the record applies here as on the nodes that can read it.
    V value = decodable ? (V) decodedValue : null;
    if (decodable && !meta.conditional()) {
      // Applies whatever came before: one map operation (most records of a replay are these).
      Entry<V> next = anchoredEntry(value, meta, partition, offset, timestamp, nowMillis);
      Entry<V> previous = entries.put(key, next);
      counted(previous, next);
      stored(key, next);
      return new Outcome<>(key, meta, true, true, isPresentAt(previous, timestamp));
    }
    Entry<V> previous = entries.get(key);
    boolean wasPresent = isPresentAt(previous, timestamp);
    if (!decodable) {
      skipped.incrementAndGet();
      markVoid(key, previous, partition, offset, timestamp, "", nowMillis);
      return new Outcome<>(key, meta, false, false, wasPresent);
    }
    // In the log it was written for, a record's expected offset is below its own (the writer saw
    // it applied before sending). One at or above was computed against another log (the topic
    // deleted and recreated, or truncated, while the writer still had the old one): void, or an
    // old view would overwrite or delete values acknowledged in the new log.
    boolean valid = meta.expected() < offset && (previous == null || previous.offset() <= meta.expected());
    if (!valid) {
      markVoid(key, previous, partition, offset, timestamp, meta.nodeId(), nowMillis);
      return new Outcome<>(key, meta, true, false, wasPresent);
    }
    Entry<V> next = anchoredEntry(value, meta, partition, offset, timestamp, nowMillis);
    replace(key, previous, next);
    stored(key, next);
    return new Outcome<>(key, meta, true, true, wasPresent);
  }

  private static boolean isPresentAt(@Nullable Entry<?> entry, long timestamp) {
    return entry != null && entry.value() != null && (entry.deadline() == 0 || timestamp < entry.deadline());
  }

  private Entry<V> anchoredEntry(
      @Nullable V value, RecordMeta meta, int partition, long offset, long timestamp, long nowMillis) {
    return Entry.of(value, value == null ? 0 : meta.deadline(), partition, offset, timestamp, true, meta.nodeId(),
        nowMillis);
  }

  /** Bookkeeping after an applied record stored {@code next}. */
  private void stored(K key, Entry<V> next) {
    if (Unreadable.is(next.value())) {
      unreadable.setRelease(unreadable.getPlain() + 1);
    }
    if (!unanchored.isEmpty()) {
      unanchored.remove(key);
    }
    if (next.value() == null) {
      tombstones.get(next.partition()).addLast(new Tombstone<>(key, next.offset(), next.timestamp()));
    } else if (next.deadline() != 0) {
      addDeadline(new Deadline<>(next.deadline(), key, next.offset()));
    }
  }

  private void markVoid(
      K key, @Nullable Entry<V> previous, int partition, long offset, long timestamp, String writer, long nowMillis) {
    Entry<V> next = previous == null
        ? Entry.of(null, 0, partition, offset, timestamp, false, writer, nowMillis)
        : Entry.of(previous.value(), previous.deadline(), partition, offset, timestamp, false, writer, nowMillis);
    replace(key, previous, next);
    unanchored.put(key, next);
    if (next.value() != null && next.deadline() != 0) {
      addDeadline(new Deadline<>(next.deadline(), key, offset));
    }
  }

  private void addDeadline(Deadline<K> deadline) {
    deadlines.add(deadline);
    if (deadlines.size() > 2L * deadlinesAfterCompaction + DEADLINE_SLACK) {
      compactDeadlines();
    }
  }

  /**
   * Drops the items that no longer name their key's latest state (apply thread): one pass and one
   * re-heapify, both linear. What is left is at most one item per key, and the next pass comes
   * only after as many more items again (plus the slack): linear in the writes overall.
   */
  private void compactDeadlines() {
    deadlines.removeIf(d -> !isCurrent(d));
    deadlinesAfterCompaction = deadlines.size();
  }

  /** Whether {@code d} names its key's latest state, with a value (what {@link #pollExpired} acts on). */
  private boolean isCurrent(Deadline<K> d) {
    Entry<V> e = entries.get(d.key());
    return e != null && e.offset() == d.offset() && e.value() != null;
  }

  /** Items in the queue of deadlines, stale ones included; for tests. */
  int deadlineItems() {
    return deadlines.size();
  }

  private void replace(K key, @Nullable Entry<V> previous, Entry<V> next) {
    entries.put(key, next);
    counted(previous, next);
  }

  private void counted(@Nullable Entry<V> previous, Entry<V> next) {
    boolean had = previous != null && previous.value() != null;
    boolean has = next.value() != null;
    if (had != has) {
      present.setRelease(present.getPlain() + (has ? 1 : -1));
    }
  }


  /** Forgets anchored tombstones older than the fixed window, by record time, in offset order. */
  private void forgetOldTombstones(int partition, long timestamp) {
    ArrayDeque<Tombstone<K>> queue = tombstones.get(partition);
    while (!queue.isEmpty() && queue.peekFirst().timestamp() + FORGET_TOMBSTONES_AFTER_MS < timestamp) {
      Tombstone<K> t = queue.pollFirst();
      entries.computeIfPresent(t.key(), (k, e) -> e.offset() == t.offset() && e.value() == null && e.anchored() ? null : e);
    }
  }

  /** Returns the keys whose latest record is void, with their entries (apply thread). */
  Map<K, Entry<V>> unanchored() {
    return unanchored;
  }

  /**
   * Removes and returns the entries whose deadline is at or before {@code nowMillis} and that are
   * still the key's latest state (apply thread).
   */
  List<Map.Entry<K, Entry<V>>> pollExpired(long nowMillis) {
    return pollExpired(nowMillis, Integer.MAX_VALUE);
  }

  /** As {@link #pollExpired(long)}, at most {@code max} entries; the others stay due. */
  List<Map.Entry<K, Entry<V>>> pollExpired(long nowMillis, int max) {
    List<Map.Entry<K, Entry<V>>> due = new ArrayList<>();
    while (due.size() < max && !deadlines.isEmpty() && deadlines.peek().deadline() <= nowMillis) {
      Deadline<K> d = deadlines.poll();
      if (isCurrent(d)) {
        due.add(Map.entry(d.key(), entries.get(d.key())));
      }
    }
    return due;
  }

  /** Puts an expiry back to be looked at again at {@code retryAtMillis} (apply thread). */
  void retryExpiry(K key, Entry<V> entry, long retryAtMillis) {
    addDeadline(new Deadline<>(retryAtMillis, key, entry.offset()));
  }

  /** Iterates every entry (for tests and bulk reads); weakly consistent unless on the apply thread. */
  Iterable<Map.Entry<K, Entry<V>>> entries() {
    return entries.entrySet();
  }

  /** Runs {@code action} on every entry without allocating one object per entry; as {@link #entries()}. */
  void forEachEntry(BiConsumer<? super K, ? super Entry<V>> action) {
    entries.forEach(action);
  }

  /** Returns the number of entries, tombstones included: the map's size. */
  long entryCount() {
    return entries.mappingCount();
  }

  /**
   * Sizes the empty map for about {@code expectedKeys} keys (apply thread, before the replica is
   * ready), so that a long replay does not grow it step by step: each step rehashes every entry
   * and allocates new nodes for about half of them, all of which survive into the old generation.
   */
  void presize(long expectedKeys) {
    if (entries.isEmpty() && expectedKeys > 16) {
      entries = new ConcurrentHashMap<>((int) Math.min(expectedKeys, MAX_PRESIZE));
    }
  }

  /**
   * Returns the replica's reset stamp, for a writer to read before the position and the entry it
   * decides on, and to pass to {@link #unchangedSince} after them.
   */
  long resetStamp() {
    return resets;
  }

  /**
   * Returns whether no reset began or ran since {@code stamp} was read: then the position and the
   * entry read in between belong to one replica, and the apply rule keeps a write decided on them
   * right (a record applied in between makes it void). Across a reset, the write might pair a
   * position of the old log with the emptied map, and be applied as valid in the new one.
   */
  boolean unchangedSince(long stamp) {
    return (stamp & 1) == 0 && resets == stamp;
  }

  /** Forgets everything, for a replay from the beginning (apply thread, before the replica is ready). */
  void reset() {
    reset(() -> { });
  }

  /** As {@link #reset()}, running {@code midway} (tests) while the replica is half reset. */
  void reset(Runnable midway) {
    resets = resets + 1; // odd: under way (one writer, the apply thread)
    // Positions first: a writer that sees an emptied map then sees position 0, never an old one.
    for (int p = 0; p < positions.length(); p++) {
      positions.set(p, 0);
      leaderEpochs[p] = -1;
      tombstones.get(p).clear();
    }
    midway.run();
    entries.clear();
    present.set(0);
    unanchored.clear();
    deadlines.clear();
    deadlinesAfterCompaction = 0;
    resets = resets + 1;
  }

  /** Restores one entry from a snapshot (before the apply thread starts). */
  void restore(K key, Entry<V> entry) {
    replace(key, entries.get(key), entry);
    if (!entry.anchored()) {
      unanchored.put(key, entry);
    }
    if (entry.value() == null && entry.anchored()) {
      tombstones.get(entry.partition()).add(new Tombstone<>(key, entry.offset(), entry.timestamp()));
    } else if (entry.value() != null && entry.deadline() != 0) {
      deadlines.add(new Deadline<>(entry.deadline(), key, entry.offset()));
      deadlinesAfterCompaction = deadlines.size(); // all current: no pass needed over them
    }
  }

  /**
   * Restores a value without a deadline whose latest record applied ({@link Entry.Plain}) from a
   * snapshot; several threads may call this at once, before the apply thread starts. Returns
   * {@code false}, storing nothing, when the key is already there. The caller counts what it
   * stored and passes the total to {@link #restoredPresent}.
   */
  boolean restoreConcurrently(K key, Entry<V> entry) {
    return entries.putIfAbsent(key, entry) == null;
  }

  /** Counts the values stored by {@link #restoreConcurrently}. */
  void restoredPresent(long count) {
    present.addAndGet(count);
  }

  /** Sorts restored tombstones into offset order (after the last {@link #restore}). */
  void restored() {
    for (int i = 0; i < tombstones.size(); i++) {
      List<Tombstone<K>> list = new ArrayList<>(tombstones.get(i));
      list.sort(Comparator.comparingLong(Tombstone::offset));
      tombstones.set(i, new ArrayDeque<>(list));
    }
  }
}
