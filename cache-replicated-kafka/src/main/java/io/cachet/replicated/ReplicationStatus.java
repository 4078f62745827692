package io.cachet.replicated;

/**
 * A replica's state at one moment.
 *
 * @param nodeId this node's id
 * @param topic the cache's topic
 * @param ready whether the replica has caught up, as {@link ReplicatedCache#isReady()} says: the start-up
 *     replay has finished, and after a pause it has reached end offsets fetched after the pause
 * @param replayedRecords records applied since the cache started (the start-up replay and after)
 * @param replayTarget records between the starting positions and the end offsets taken at start
 * @param lagRecords records in the topic not yet applied here, as last seen by the consumer
 * @param lagMillis while behind, the age of the newest applied record when it was applied; 0 when caught up
 * @param entries entries held, including expired ones not yet removed from the log
 */
public record ReplicationStatus(
    String nodeId,
    String topic,
    boolean ready,
    long replayedRecords,
    long replayTarget,
    long lagRecords,
    long lagMillis,
    long entries) {

  /** Returns the replay progress from 0 to 1; 1 once ready. */
  public double replayProgress() {
    if (ready || replayTarget <= 0) {
      return ready ? 1.0 : 0.0;
    }
    return Math.min(1.0, (double) replayedRecords / replayTarget);
  }
}
