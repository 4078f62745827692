package io.cachet.examples.cluster;

/**
 * Where a node's replica stands, as {@code /health/ready} and {@code /metrics} report it.
 *
 * @param ready whether the start-up replay has finished, so the node serves the API
 * @param replayedRecords records applied so far
 * @param replayTarget records to apply before the replica is ready
 * @param progress the replay progress from 0 to 1
 * @param lagRecords records in the topic not applied here yet
 * @param lagMillis age of the newest applied record when it was applied
 * @param entries entries held
 */
record ReplicaState(
    boolean ready,
    long replayedRecords,
    long replayTarget,
    double progress,
    long lagRecords,
    long lagMillis,
    long entries) {

  /** The state before the cache exists (the node is connecting to Kafka). */
  static final ReplicaState STARTING = new ReplicaState(false, 0, 0, 0.0, 0, 0, 0);
}
