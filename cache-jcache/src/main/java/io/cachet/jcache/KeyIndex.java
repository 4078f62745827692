package io.cachet.jcache;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The keys a {@link CachetCache}'s backing cache is believed to hold, for iteration, since the
 * backend has none. Changed under the key's lock ({@link Entries}); thread-safe.
 *
 * <p>For the local backend, which keeps the values in this JVM anyway and reports every entry it
 * drops, a key maps to the very holder stored. For other backends a key maps to a marker, so that
 * the index never keeps values alive: {@link #PRESENT} for an entry without deadline, else the
 * {@code Long} time (epoch ms) past which the backend has dropped it (its deadline plus
 * {@link CachetCache#BACKEND_GRACE}), so that the keys such a backend drops silently (Redis) can be
 * swept out without being touched again.
 */
final class KeyIndex {

  /** What a key without deadline maps to when the backend's holders are not kept. */
  private static final Object PRESENT = Boolean.TRUE;
  /** Index size below which the keys a silent backend dropped are not looked for. */
  static final int SWEEP_FLOOR = 1024;

  private final ConcurrentHashMap<Object, Object> index = new ConcurrentHashMap<>();
  private final boolean keepsHolders;
  private final boolean backendTtl;
  /** Index size at which the next sweep runs: twice the size after the last one, at least {@link #SWEEP_FLOOR}. */
  private final AtomicInteger nextSweep = new AtomicInteger(SWEEP_FLOOR);

  /**
   * @param keepsHolders whether the backend keeps the holders in this JVM and reports every removal
   * @param backendTtl whether the backend drops an entry at its deadline plus the grace by itself
   */
  KeyIndex(boolean keepsHolders, boolean backendTtl) {
    this.keepsHolders = keepsHolders;
    this.backendTtl = backendTtl;
  }

  /** Records that {@code entry} was stored under {@code key} at {@code now} (epoch ms). */
  void stored(Object key, Expirable entry, long now) {
    if (keepsHolders) {
      index.put(key, entry);
      return;
    }
    index.put(key, backendTtl && !entry.isEternal()
        ? Long.valueOf(entry.expireAtMillis() + CachetCache.BACKEND_GRACE.toMillis())
        : PRESENT);
    int threshold = nextSweep.get();
    if (index.size() >= threshold && nextSweep.compareAndSet(threshold, Integer.MAX_VALUE)) {
      sweep(now);
    }
  }

  /**
   * Drops the keys a backend that never reports removals has dropped by now: their time to live
   * there, the deadline plus the grace, has passed. Without this, writing keys once (session ids)
   * would grow the index by a key each, for good. Amortized: runs when the index has doubled since
   * the last sweep. A key written again meanwhile maps to a new value and is kept
   * ({@code remove(key, value)}). A touch after its deadline plus grace would have found nothing to
   * report either, so no event is lost.
   */
  private void sweep(long now) {
    try {
      for (Map.Entry<Object, Object> e : index.entrySet()) {
        if (e.getValue() instanceof Long droppedBy && droppedBy <= now) {
          index.remove(e.getKey(), droppedBy);
        }
      }
    } finally {
      nextSweep.set(Math.max(SWEEP_FLOOR, 2 * index.size()));
    }
  }

  /** What {@code key} maps to: the holder stored (local backend), a marker, or null. */
  @Nullable Object get(Object key) {
    return index.get(key);
  }

  /** Whether {@code indexed}, a value of this index, is a marker rather than a holder. */
  static boolean isMarker(@Nullable Object indexed) {
    return indexed != null && !(indexed instanceof Expirable);
  }

  /** Removes {@code key}; returns what it mapped to. */
  @Nullable Object remove(Object key) {
    return index.remove(key);
  }

  /** A weakly consistent iterator over the keys. */
  Iterator<Object> keys() {
    return index.keySet().iterator();
  }

  /** A snapshot of the keys. */
  List<Object> snapshot() {
    return new ArrayList<>(index.keySet());
  }

  void clear() {
    index.clear();
  }
}
