package io.cachet.replicated;

import io.cachet.replicated.RecordMeta.Op;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/** Sends a cache's background records (anchors, removals of expired entries) without waiting for them. */
interface RecordSender<K, V> {

  /**
   * Queues one record; returns {@code false} when it could not even be queued. Once a queued record
   * is in the log, or failed to get there, {@code onDone} runs on a Kafka client thread with
   * {@code null} or the failure ({@link Sender#DROPPED} when it was dropped unsent, too late to be
   * sent); only a record still queued when the cache closes gets no call.
   */
  boolean send(K key, Op op, boolean conditional, long expected, @Nullable V value, long deadline,
      Consumer<@Nullable Exception> onDone);
}
