package io.cachet.spring.boot;

import io.cachet.Cache;
import io.cachet.replicated.ReplicatedCache;
import io.cachet.replicated.ReplicationStatus;
import java.util.Map;

/** The replicated-kafka part of {@link CachetHealthIndicator}; loaded only when that backend is present. */
final class ReplicatedHealth {

  private ReplicatedHealth() {}

  /** Adds the replica's state to {@code details}; returns whether it is ready. */
  static boolean describe(Cache<?, ?> cache, Map<String, Object> details) {
    ReplicationStatus status = cache.unwrap(ReplicatedCache.class).status();
    details.put("ready", status.ready());
    details.put("replayProgress", status.replayProgress());
    details.put("replayedRecords", status.replayedRecords());
    details.put("replayTarget", status.replayTarget());
    details.put("lagRecords", status.lagRecords());
    details.put("lagMillis", status.lagMillis());
    details.put("topic", status.topic());
    details.put("nodeId", status.nodeId());
    return status.ready();
  }
}
