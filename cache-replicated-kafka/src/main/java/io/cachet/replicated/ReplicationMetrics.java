package io.cachet.replicated;

import io.cachet.spi.BackendMetric;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The replication metrics of one cache, beyond the standard cache metrics (docs/replication.md, Operations). */
final class ReplicationMetrics {

  private ReplicationMetrics() {}

  /** Returns the metrics, each reading its figure when measured. */
  static List<BackendMetric> of(Applier<?, ?> applier, Writer<?, ?> writer, Housekeeping<?, ?> housekeeping,
      Replica<?, ?> replica, ViewAge viewAge) {
    return List.of(
        new BackendMetric("cache.replication.lag.records", "Records in the topic not yet applied here",
            BackendMetric.Kind.GAUGE, applier::lagRecords),
        new BackendMetric("cache.replication.lag.ms", "Age of the newest applied record when it was applied",
            BackendMetric.Kind.GAUGE, applier::lagMillis),
        new BackendMetric("cache.replication.replay.progress", "Start-up replay progress, 0 to 1",
            BackendMetric.Kind.GAUGE, () -> applier.status().replayProgress()),
        new BackendMetric("cache.replication.ready", "1 once the start-up replay has finished",
            BackendMetric.Kind.GAUGE, () -> applier.isReady() ? 1 : 0),
        new BackendMetric("cache.replication.view.age.ms",
            "Time since the replica was last confirmed caught up with the topic, for its least recently confirmed"
                + " partition; past " + TimeUnit.NANOSECONDS.toMillis(ViewAge.MAX_AGE_NANOS) + " conditional writes to"
                + " that partition's keys fail",
            BackendMetric.Kind.GAUGE, () -> TimeUnit.NANOSECONDS.toMillis(viewAge.oldestAgeNanos())),
        new BackendMetric("cache.replication.rebuilds",
            "Times the replica was emptied and rebuilt because its positions were no longer in the log",
            BackendMetric.Kind.COUNTER, applier::rebuilds),
        new BackendMetric("cache.replication.writes.waiting", "Writes waiting for their record to be applied",
            BackendMetric.Kind.GAUGE, writer::waiting),
        new BackendMetric("cache.replication.records.applied", "Records applied", BackendMetric.Kind.COUNTER,
            replica::appliedRecords),
        new BackendMetric("cache.replication.records.skipped",
            "Records skipped as not written by Cachet (no metadata, or a key the codec cannot decode)",
            BackendMetric.Kind.COUNTER, replica::skippedRecords),
        new BackendMetric("cache.replication.records.unreadable",
            "Records applied whose value this node's codec cannot decode; reads of their keys fail here",
            BackendMetric.Kind.COUNTER, replica::unreadableRecords),
        new BackendMetric("cache.replication.writes.retried", "Conditional writes retried after a concurrent write",
            BackendMetric.Kind.COUNTER, writer::retried),
        new BackendMetric("cache.replication.writes.queued", "Records waiting for the send thread",
            BackendMetric.Kind.GAUGE, writer::queued),
        new BackendMetric("cache.replication.anchors", "Anchor records written for unanchored keys",
            BackendMetric.Kind.COUNTER, housekeeping::anchors),
        new BackendMetric("cache.replication.anchors.failed",
            "Anchor records that could not be sent or did not reach the log (each is sent again)",
            BackendMetric.Kind.COUNTER, housekeeping::anchorsFailed),
        new BackendMetric("cache.replication.unanchored.keys", "Keys whose latest record is void",
            BackendMetric.Kind.GAUGE, housekeeping::unanchoredKeys),
        new BackendMetric("cache.replication.unanchored.oldest.ms",
            "Age of the oldest void record that is still its key's latest record; must stay below"
                + " min.compaction.lag.ms", BackendMetric.Kind.GAUGE, housekeeping::oldestUnanchoredMillis),
        new BackendMetric("cache.replication.expired.removed", "Removal records written for expired entries",
            BackendMetric.Kind.COUNTER, housekeeping::expiredRemovals));
  }
}
