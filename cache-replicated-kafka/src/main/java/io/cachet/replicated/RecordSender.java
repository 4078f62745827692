package io.cachet.replicated;

import io.cachet.replicated.RecordMeta.Op;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/** Sends a cache's background records (anchors, removals of expired entries) without waiting for them. */
interface RecordSender<K, V> {

  /**
   * Queues one record; returns {@code false} when it could not even be queued. {@code onFailure}
   * runs, on a Kafka client thread, when the record was queued but did not reach the log.
   */
  boolean send(K key, Op op, boolean conditional, long expected, @Nullable V value, long deadline,
      Consumer<Exception> onFailure);
}
