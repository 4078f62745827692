package io.cachet.replicated;

import io.cachet.Cache;
import io.cachet.CacheNotReadyException;
import io.cachet.CacheTimeoutException;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What a replicated cache offers beyond {@link Cache}: readiness and read barriers. Obtain it with
 * {@code cache.unwrap(ReplicatedCache.class)}.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public interface ReplicatedCache<K, V> {

  /**
   * Returns whether the replica has caught up: it has applied every record that was in the topic
   * when the cache started (until then reads and writes throw {@link CacheNotReadyException}), and
   * it is not paused. A node whose apply thread did not run for a second (the process was stopped,
   * a long GC pause) is not ready at once, and stays not ready until it has applied the topic up to
   * end offsets fetched after the pause; reads and writes keep working meanwhile. A closed cache,
   * or one whose replica stopped applying records for good (its reads then fail), is not ready.
   */
  boolean isReady();

  /**
   * Waits until the replica is ready.
   *
   * @return {@code true} when ready, {@code false} when {@code timeout} passed first
   * @throws InterruptedException when interrupted while waiting
   */
  boolean awaitReady(Duration timeout) throws InterruptedException;

  /**
   * Waits until the replica has applied everything in the topic at the moment of the call, then
   * reads {@code key}: a linearizable read, at the cost of one round trip to the brokers.
   *
   * @throws CacheTimeoutException when the replica does not get there within the write timeout
   * @throws io.cachet.BackendUnavailableException when the end offsets cannot be fetched
   */
  @Nullable V readLatest(K key);

  /** Returns where the replica stands: readiness, replay progress and lag. */
  ReplicationStatus status();
}
