package io.cachet.replicated;

import io.cachet.BackendUnavailableException;
import io.cachet.CacheException;
import io.cachet.codec.Codec;
import io.cachet.replicated.RecordMeta.Op;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.utils.Utils;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a cache's records to its topic: owns the producer and runs the optimistic write protocol,
 * waiting for each write's own record to be applied locally, retrying void ones until the write
 * timeout. Thread-safe.
 *
 * <p>Protocol (docs/replication.md): a write reads the partition's position, then the key's entry,
 * decides the key's new state from the live entry, and sends it with the offset it read as
 * {@code expected}. The apply thread completes the write's future when the local replica applies
 * its record ({@link #onApplied}); a void record means a concurrent write got in first, so the
 * write decides again after a random back-off on the JDK's delayed executor. {@code send} runs on
 * the caller's or the apply thread: it does not block once the topic's metadata is known. Send
 * failures arrive on the producer's I/O thread and only complete futures.
 */
final class Writer<K, V> {

  /** The cache's one logger name: operators' log settings refer to it. */
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);

  private final String name;
  private final ReplicationOptions options;
  private final String topic;
  private final Codec<K> keyCodec;
  private final Codec<V> valueCodec;
  private final InstantSource clock;
  private final Replica<K, V> replica;
  private final List<TopicPartition> partitions;
  private final Admin admin;
  private final KafkaProducer<byte[], byte[]> producer;
  private final AtomicBoolean closed;
  private final Supplier<@Nullable Throwable> replicaFailure;
  private final long session = ThreadLocalRandom.current().nextLong();
  private final AtomicLong requests = new AtomicLong();
  private final ConcurrentHashMap<Long, CompletableFuture<Applied>> pending = new ConcurrentHashMap<>();
  private final LongAdder retries = new LongAdder();

  /** The outcome of a record this cache wrote, seen when the local replica applied it. */
  record Applied(boolean valid, boolean wasPresent, int partition, long offset) {}

  /** What a write will put in its record, and what it returns once the record applies. */
  record Decision<V, R>(Op op, boolean conditional, @Nullable V value, long deadline, Function<Applied, R> result) {}

  @FunctionalInterface
  interface Decider<V, R> {
    /** Decides from the key's live entry ({@code null} when absent or expired). */
    Decision<V, R> decide(@Nullable Entry<V> live, long nowMillis);
  }

  /**
   * @param closed set once by the cache's {@code close()}
   * @param replicaFailure why the apply thread stopped, or {@code null}; named in timeout messages
   */
  Writer(String name, ReplicationOptions options, Codec<K> keyCodec, Codec<V> valueCodec, InstantSource clock,
      Replica<K, V> replica, List<TopicPartition> partitions, Admin admin, KafkaProducer<byte[], byte[]> producer,
      AtomicBoolean closed, Supplier<@Nullable Throwable> replicaFailure) {
    this.name = name;
    this.options = options;
    this.topic = options.topicFor(name);
    this.keyCodec = keyCodec;
    this.valueCodec = valueCodec;
    this.clock = clock;
    this.replica = replica;
    this.partitions = partitions;
    this.admin = admin;
    this.producer = producer;
    this.closed = closed;
    this.replicaFailure = replicaFailure;
  }

  /** Sends one record without waiting; returns its request number ({@code request} when >= 0, else a new one). */
  long send(K key, Op op, boolean conditional, long expected, @Nullable V value, long deadline, long request) {
    byte[] keyBytes = keyCodec.encode(key);
    byte[] valueBytes = value == null ? null : valueCodec.encode(value);
    long id = request >= 0 ? request : requests.incrementAndGet();
    RecordMeta meta = new RecordMeta(op, conditional, conditional ? expected : 0, value == null ? 0 : deadline,
        session, id, options.nodeId());
    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, partitionOf(keyBytes), null, keyBytes,
        valueBytes, List.of(new RecordHeader(RecordMeta.HEADER, meta.encode())));
    producer.send(record, (metadata, error) -> onSent(id, metadata, error));
    return id;
  }

  private void onSent(long request, @Nullable RecordMetadata metadata, @Nullable Exception error) {
    if (error == null) {
      return;
    }
    CompletableFuture<Applied> waiting = pending.remove(request);
    if (waiting == null) {
      LOG.debug("Cache '{}': a background record could not be written: {}", name, error.toString());
      return;
    }
    if (error instanceof RecordTooLargeException) {
      waiting.completeExceptionally(new CacheException(
          "the record is larger than Kafka accepts (max.request.size / max.message.bytes): " + error.getMessage(),
          error));
    } else {
      waiting.completeExceptionally(new BackendUnavailableException(
          "Kafka at " + options.bootstrapServers() + " did not accept the write to topic '" + topic + "' within "
              + options.writeTimeout() + ": " + error.getMessage(), error));
    }
  }

  private int partitionOf(byte[] keyBytes) {
    return Utils.toPositive(Utils.murmur2(keyBytes)) % partitions.size();
  }

  /** Writes {@code key} as {@code decider} decides; completes once the local replica applied it, or fails. */
  <R> CompletableFuture<R> write(K key, Op op, Decider<V, R> decider) {
    CompletableFuture<R> result = new CompletableFuture<>();
    attempt(key, op, decider, System.nanoTime() + options.writeTimeout().toNanos(), 0, result);
    return result;
  }

  private <R> void attempt(K key, Op op, Decider<V, R> decider, long deadlineNanos, int attempt,
      CompletableFuture<R> result) {
    try {
      if (closed.get()) {
        throw new IllegalStateException("cache '" + name + "' is closed");
      }
      byte[] keyBytes = keyCodec.encode(key);
      int partition = partitionOf(keyBytes);
      // Position first, then the entry: a record applied in between makes the write void, never wrong.
      long position = replica.position(partition);
      Entry<V> current = replica.get(key);
      long now = clock.millis();
      Decision<V, R> decision = decider.decide(current != null && current.isLive(now) ? current : null, now);
      long expected = current != null ? current.offset() : position - 1;
      long request = requests.incrementAndGet();
      CompletableFuture<Applied> applied = new CompletableFuture<>();
      pending.put(request, applied);
      try {
        send(key, decision.op(), decision.conditional(), expected, decision.value(), decision.deadline(), request);
      } catch (KafkaException e) {
        pending.remove(request);
        throw new BackendUnavailableException("Kafka at " + options.bootstrapServers() + " did not take the write: "
            + e.getMessage(), e);
      }
      long remaining = deadlineNanos - System.nanoTime();
      applied.orTimeout(Math.max(1, remaining), TimeUnit.NANOSECONDS).whenComplete((outcome, error) -> {
        if (error != null) {
          pending.remove(request);
          result.completeExceptionally(error instanceof TimeoutException ? timeout(key, partition, error) : error);
        } else if (outcome.valid()) {
          try {
            result.complete(decision.result().apply(outcome));
          } catch (RuntimeException e) {
            result.completeExceptionally(e);
          }
        } else {
          retries.increment();
          long delayNanos = TimeUnit.MILLISECONDS.toNanos(
              ThreadLocalRandom.current().nextLong(1, Math.min(100, 2L << Math.min(attempt, 6)) + 1));
          if (System.nanoTime() + delayNanos >= deadlineNanos) {
            result.completeExceptionally(new ReplicationTimeoutException(
                "write to key '" + key + "' of cache '" + name + "' kept conflicting with concurrent writes to the"
                    + " same key and was not applied within " + options.writeTimeout(), outcome.partition(),
                outcome.offset(), replica.position(outcome.partition()), null));
            return;
          }
          CompletableFuture.delayedExecutor(delayNanos, TimeUnit.NANOSECONDS)
              .execute(() -> attempt(key, op, decider, deadlineNanos, attempt + 1, result));
        }
      });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
  }

  private RuntimeException timeout(K key, int partition, Throwable cause) {
    long reached = replica.position(partition);
    long[] ends = null;
    try {
      TopicPartition tp = partitions.get(partition);
      ends = new long[] {admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp)
          .get(1, TimeUnit.SECONDS).offset()};
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      // The brokers did not answer: the write most likely never reached the log.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (ends == null) {
      return new BackendUnavailableException("write to key '" + key + "' of cache '" + name + "' failed: Kafka at "
          + options.bootstrapServers() + " did not acknowledge it within " + options.writeTimeout(), cause);
    }
    return new ReplicationTimeoutException(
        "write to key '" + key + "' of cache '" + name + "' reached the log but was not applied here within "
            + options.writeTimeout() + ": " + topic + "-" + partition + " ends at offset " + ends[0]
            + ", this replica reached offset " + reached + (replicaFailure.get() != null ? " (replica stopped)" : ""),
        partition, ends[0] - 1, reached, cause);
  }

  /** Completes the write waiting for a record of this cache's session (apply thread). */
  void onApplied(RecordMeta meta, Replica.Outcome<K> outcome, int partition, long offset) {
    if (meta.session() == session) {
      CompletableFuture<Applied> waiting = pending.remove(meta.request());
      if (waiting != null) {
        waiting.complete(new Applied(outcome.valid(), outcome.wasPresent(), partition, offset));
      }
    }
  }

  /** Fails every write still waiting for its record. */
  void failAll(Throwable failure) {
    pending.values().forEach(f -> f.completeExceptionally(failure));
  }

  /** Returns how many writes are waiting for their record to be applied. */
  int waiting() {
    return pending.size();
  }

  /** Returns how many times a void conditional write was retried. */
  long retried() {
    return retries.sum();
  }

  /** Closes the producer, giving it 5 s to send what it holds. */
  void close() {
    try {
      producer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      LOG.debug("Closing the producer of cache '{}' failed", name, e);
    }
  }
}
