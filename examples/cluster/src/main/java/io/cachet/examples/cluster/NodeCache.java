package io.cachet.examples.cluster;

import io.cachet.AsyncCache;

/**
 * The cache a node serves, with where its replica stands. Production nodes open a
 * {@code replicated-kafka} cache ({@link ReplicatedNodeCache}); tests pass a {@code local} one.
 * Implementations are thread-safe.
 */
interface NodeCache extends AutoCloseable {

  /** Returns the non-blocking view the HTTP handlers use, so they never block an event loop. */
  AsyncCache<String, String> async();

  /** Returns the replica's readiness, replay progress and lag. */
  ReplicaState state();

  /** Closes the cache and everything it holds (Kafka clients, threads). Idempotent. */
  @Override
  void close();

  /** Opens a node's cache; {@link NodeServer} calls it off the event loops and retries on failure. */
  @FunctionalInterface
  interface Opener {
    NodeCache open(NodeConfig config);
  }
}
