package io.cachet.replicated;

import io.cachet.BackendUnavailableException;
import io.cachet.CacheException;
import io.cachet.CacheNotReadyException;
import io.cachet.Ticker;
import io.cachet.codec.Codec;
import io.cachet.replicated.RecordMeta.Op;
import java.time.InstantSource;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.utils.Utils;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a cache's records to its topic: runs the optimistic write protocol, waiting for each
 * write's own record to be applied locally, retrying void ones while the write timeout leaves time.
 * Thread-safe.
 *
 * <p>Protocol (docs/replication.md): a write reads the partition's position, then the key's entry,
 * decides the key's new state from the live entry, and sends it with the offset it read as
 * {@code expected}. The apply thread completes the write's future when the local replica applies
 * its record ({@link #onApplied}); a void record means a concurrent write got in first, so the
 * write decides again after a random back-off, and fails with a {@link WriteConflictException}
 * once its write timeout leaves no time for another attempt (no more than the last one took,
 * after the back-off).
 *
 * <p>Threads: nothing here blocks. Records go to the {@link Sender}'s thread, the only one that
 * calls {@code producer.send}. A write's deadline is a timer of its own ({@code orTimeout}), so it
 * fails on time whatever the producer does; the timer's callback and the retries (on the JDK's
 * delay scheduler) only read the replica, queue records and complete futures. Whether a timed-out
 * write's record reached the log is known from the producer's acknowledgement, never asked of the
 * brokers on that thread.
 */
final class Writer<K, V> implements RecordSender<K, V> {

  /** The cache's one logger name: operators' log settings refer to it. */
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedKafkaCache.class);

  private final String name;
  private final ReplicationOptions options;
  private final String topic;
  private final Codec<K> keyCodec;
  private final Codec<V> valueCodec;
  private final InstantSource clock;
  private final Replica<K, V> replica;
  private final int partitionCount;
  private final Sender sender;
  private final Runnable requireWritable;
  private final Supplier<@Nullable Throwable> replicaFailure;
  /** Measures write timeouts: {@link Ticker#system()}, a fake one in tests. */
  private final Ticker timer;
  /** How old the replica's view is; conditional records are decided on a recent one only. */
  private final ViewAge viewAge;
  /** {@link KafkaClients#producerBoundNanos}: conditional records are handed over that long before their limit. */
  private final long producerBoundNanos;
  private final long session = ThreadLocalRandom.current().nextLong();
  private final AtomicLong requests = new AtomicLong();
  private final ConcurrentHashMap<Long, Waiting> pending = new ConcurrentHashMap<>();

  private final LongAdder retries = new LongAdder();

  /**
   * The writes a key whose value this node cannot decode ({@link Unreadable}) still takes: none of
   * them depends on the value ({@code EXPIRE} restates it as the bytes it was read from).
   */
  private static final Set<Op> KEEPS_UNREADABLE = EnumSet.of(Op.PUT, Op.REMOVE, Op.EXPIRE, Op.CLEAR);

  /** The outcome of a record this cache wrote, seen when the local replica applied it. */
  record Applied(boolean valid, boolean wasPresent, int partition, long offset) {}

  /** What a write will put in its record, and what it returns once the record applies. */
  record Decision<V, R>(Op op, boolean conditional, @Nullable V value, long deadline, Function<Applied, R> result) {}

  @FunctionalInterface
  interface Decider<V, R> {
    /** Decides from the key's live entry ({@code null} when absent or expired). */
    Decision<V, R> decide(@Nullable Entry<V> live, long nowMillis);
  }

  /** Fails an attempt whose record the send thread dropped unsent; the write's failure says why. */
  private static final Exception NOT_SENT = new Exception("dropped unsent", null, false, false) {
    private static final long serialVersionUID = 1L;
  };

  /** One attempt of a write, waiting for its record: applied here, or failed. */
  private static final class Waiting {
    final CompletableFuture<Applied> applied = new CompletableFuture<>();
    /** The record's offset once the brokers acknowledged it; -1 before (producer I/O thread writes). */
    volatile long loggedOffset = -1;
  }

  /**
   * @param requireWritable throws unless the cache takes writes now (open, running, ready); checked
   *     by every attempt, so a retry fails once the cache is closed or rebuilds its replica
   * @param replicaFailure why the apply thread stopped, or {@code null}; named in timeout messages
   * @param timer measures write timeouts (each attempt's wait also has a timer of its own)
   * @param viewAge how long ago the replica was confirmed caught up, read with {@code timer}
   */
  Writer(String name, ReplicationOptions options, Codec<K> keyCodec, Codec<V> valueCodec, InstantSource clock,
      Replica<K, V> replica, int partitionCount, Sender sender, Runnable requireWritable,
      Supplier<@Nullable Throwable> replicaFailure, Ticker timer, ViewAge viewAge) {
    this.name = name;
    this.options = options;
    this.topic = options.topicFor(name);
    this.keyCodec = keyCodec;
    this.valueCodec = valueCodec;
    this.clock = clock;
    this.replica = replica;
    this.partitionCount = partitionCount;
    this.sender = sender;
    this.requireWritable = requireWritable;
    this.replicaFailure = replicaFailure;
    this.timer = timer;
    this.viewAge = viewAge;
    this.producerBoundNanos = KafkaClients.producerBoundNanos(options);
  }

  private ProducerRecord<byte[], byte[]> record(byte[] keyBytes, int partition, Op op, boolean conditional,
      long expected, @Nullable V value, long deadline, long request) {
    byte[] valueBytes = value == null ? null : Unreadable.encode(valueCodec, value);
    RecordMeta meta = new RecordMeta(op, conditional, conditional ? expected : 0, value == null ? 0 : deadline,
        session, request, options.nodeId());
    return new ProducerRecord<>(topic, partition, null, keyBytes, valueBytes,
        List.of(new RecordHeader(RecordMeta.HEADER, meta.encode())));
  }

  /**
   * {@inheritDoc} A conditional record is refused (false) while the replica's view is not recent
   * ({@link ViewAge}), and dropped unsent if the send thread has not taken it in time.
   */
  @Override
  public boolean send(K key, Op op, boolean conditional, long expected, @Nullable V value, long deadline,
      Consumer<@Nullable Exception> onDone) {
    byte[] keyBytes = keyCodec.encode(key);
    int partition = partitionOf(keyBytes);
    long asOf = viewAge.asOf(partition);
    if (conditional && !viewAge.freshSince(asOf)) {
      return false;
    }
    long sendBy = ViewAge.sendBy(asOf, producerBoundNanos);
    ProducerRecord<byte[], byte[]> record = record(keyBytes, partition, op, conditional, expected,
        value, deadline, requests.incrementAndGet());
    return sender.offer(record, (metadata, error) -> {
      if (error != null) {
        LOG.debug("Cache '{}': a {} record could not be written: {}", name, op, error.toString());
      }
      onDone.accept(error);
    }, () -> timer.read() - sendBy > 0);
  }

  private void onSent(long request, Waiting waiting, @Nullable RecordMetadata metadata, @Nullable Exception error) {
    if (error == null) {
      if (metadata != null) {
        waiting.loggedOffset = metadata.offset();
      }
      return;
    }
    pending.remove(request, waiting);
    if (error instanceof RecordTooLargeException) {
      waiting.applied.completeExceptionally(new CacheException(
          "the record is larger than Kafka accepts (max.request.size / max.message.bytes): " + error.getMessage(),
          error));
    } else {
      waiting.applied.completeExceptionally(new BackendUnavailableException(
          "Kafka at " + options.bootstrapServers() + " did not accept the write to topic '" + topic + "' within "
              + options.writeTimeout() + ": " + error.getMessage(), error));
    }
  }

  /** The partition of {@code key}'s records. */
  int partitionOf(K key) {
    return partitionOf(keyCodec.encode(key));
  }

  private int partitionOf(byte[] keyBytes) {
    return Utils.toPositive(Utils.murmur2(keyBytes)) % partitionCount;
  }

  /** Writes {@code key} as {@code decider} decides; completes once the local replica applied it, or fails. */
  <R> CompletableFuture<R> write(K key, Op op, Decider<V, R> decider) {
    CompletableFuture<R> result = new CompletableFuture<>();
    attempt(key, op, decider, timer.read() + options.writeTimeout().toNanos(), 0, result);
    return result;
  }

  private <R> void attempt(K key, Op op, Decider<V, R> decider, long deadlineNanos, int attempt,
      CompletableFuture<R> result) {
    try {
      requireWritable.run();
      long startedNanos = timer.read();
      byte[] keyBytes = keyCodec.encode(key);
      int partition = partitionOf(keyBytes);
      // Position first, then the entry: a record applied in between makes the write void, never
      // wrong. A reset in between (a rebuild) would not, so the stamp must not have moved.
      // The decision may read the replica again (its size, for capacity): the stamp is checked
      // after it, and a refusal decided during a reset is not believed either.
      long viewAsOf = viewAge.asOf(partition); // before the reads: a view is as old as when it was read
      long stamp = replica.resetStamp();
      long position = replica.position(partition);
      Entry<V> current = replica.get(key);
      long now = clock.millis();
      Entry<V> live = current != null && current.isLive(now) ? current : null;
      if (live != null && !KEEPS_UNREADABLE.contains(op)) {
        Unreadable.check(live.value(), name, key, "decide " + op + " on"); // it depends on a value not known here
      }
      Decision<V, R> decision;
      try {
        decision = decider.decide(live, now);
      } catch (ReplicaFullException e) {
        throw replica.unchangedSince(stamp) ? e : rebuilding(key);
      }
      if (!replica.unchangedSince(stamp)) {
        throw rebuilding(key);
      }
      if (decision.conditional() && !viewAge.freshSince(viewAsOf)) {
        throw staleView(key, partition);
      }
      // Not sent after this: a view that old could restore a key removed meanwhile (see ViewAge).
      long latest = ViewAge.sendBy(viewAsOf, producerBoundNanos);
      long sendBy = !decision.conditional() || deadlineNanos - latest < 0 ? deadlineNanos : latest;
      long expected = current != null ? current.offset() : position - 1;
      long request = requests.incrementAndGet();
      Waiting waiting = new Waiting();
      // The record first: a value the codec cannot encode fails here, before anything waits for it.
      ProducerRecord<byte[], byte[]> record = record(keyBytes, partition, decision.op(), decision.conditional(),
          expected, decision.value(), decision.deadline(), request);
      pending.put(request, waiting);
      boolean viewLimited = sendBy == latest && decision.conditional();
      if (!sender.offer(record, (metadata, error) -> {
        if (error == Sender.DROPPED) {
          // Not sent: fails now, as a write known not to have taken effect, not at its deadline
          // as a timeout whose outcome is unknown. (Already done when it was dropped for that.)
          if (pending.remove(request, waiting)) {
            waiting.applied.completeExceptionally(NOT_SENT); // no user code here: the message comes below
          }
        } else {
          onSent(request, waiting, metadata, error);
        }
      }, () -> waiting.applied.isDone() || timer.read() - sendBy > 0)) {
        pending.remove(request);
        throw new BackendUnavailableException("cache '" + name + "' has " + Sender.MAX_QUEUED_RECORDS
            + " records waiting to be sent to Kafka at " + options.bootstrapServers() + ", or is closing; the write"
            + " to key '" + key + "' was not sent", null);
      }
      long remaining = deadlineNanos - timer.read();
      waiting.applied.orTimeout(Math.max(1, remaining), TimeUnit.NANOSECONDS).whenComplete((outcome, error) -> {
        try {
          if (error == NOT_SENT) {
            result.completeExceptionally(viewLimited ? notSentInTime(key, partition)
                : new BackendUnavailableException("Kafka at " + options.bootstrapServers() + " did not take the"
                    + " write to key '" + key + "' within " + options.writeTimeout() + ": it was not sent", null));
          } else if (error != null) {
            pending.remove(request, waiting);
            result.completeExceptionally(error instanceof TimeoutException ? timeout(key, partition, waiting, error)
                : error);
          } else if (outcome.valid()) {
            result.complete(decision.result().apply(outcome));
          } else {
            retry(key, op, decider, deadlineNanos, attempt, timer.read() - startedNanos, outcome, result);
          }
        } catch (Throwable t) { // user code (a key's toString) must not leave the write waiting for ever
          result.completeExceptionally(t);
        }
      });
    } catch (Throwable t) {
      // An Error too (user code: a value's equals, a codec): on a retry this runs on the JDK's
      // delay scheduler, which would swallow it and leave the write waiting for ever.
      result.completeExceptionally(t);
    }
  }

  private CacheNotReadyException staleView(K key, int partition) {
    long ageSeconds = TimeUnit.NANOSECONDS.toSeconds(viewAge.ageNanos(partition));
    return new CacheNotReadyException("the replica of cache '" + name + "' was last confirmed caught up with "
        + topic + "-" + partition + " " + ageSeconds + " s ago (Kafka out of reach, or the process paused): the"
        + " conditional write to key '" + key + "' was not sent, as a view that old could restore a key removed"
        + " meanwhile", null);
  }

  /** The failure of a conditional write whose record waited to be sent past its view's limit. */
  private CacheNotReadyException notSentInTime(K key, int partition) {
    return new CacheNotReadyException("the record of the conditional write to key '" + key + "' waited to be sent to"
        + " Kafka until the view of " + topic + "-" + partition + " it was decided on was too old (Kafka slow to"
        + " take records, or the process paused): it was not sent, as a view that old could restore a key removed"
        + " meanwhile", null);
  }

  /** The failure of a write that found the replica being rebuilt. */
  private CacheNotReadyException rebuilding(K key) {
    return new CacheNotReadyException("cache '" + name + "' is rebuilding its replica from the start of topic '"
        + topic + "'; the write to key '" + key + "' was not sent", null);
  }

  /**
   * Attempts the write again after a random back-off, or fails it with a {@link
   * WriteConflictException} when its deadline leaves no time for another attempt: no more than the
   * back-off plus what the attempt that just lost took, the best guess of what the next one takes.
   * A retry that could not be applied before the deadline would turn a known outcome (nothing of
   * the write took effect) into an unknown one (a timeout: the record may still be applied).
   */
  private <R> void retry(K key, Op op, Decider<V, R> decider, long deadlineNanos, int attempt, long lastAttemptNanos,
      Applied voided, CompletableFuture<R> result) {
    long delayNanos = TimeUnit.MILLISECONDS.toNanos(
        ThreadLocalRandom.current().nextLong(1, Math.min(100, 2L << Math.min(attempt, 6)) + 1));
    long needed = delayNanos + Math.max(0, lastAttemptNanos);
    if (deadlineNanos - timer.read() <= needed) {
      // Every record of this write was applied as void and none is on its way: unlike a
      // timeout, nothing of it can still take effect.
      result.completeExceptionally(new WriteConflictException("conditional write to key '" + key
          + "' of cache '" + name + "' lost to concurrent writes of the same key on each of its " + (attempt + 1)
          + " attempt(s) within " + options.writeTimeout() + ": every record it wrote was applied as void (the"
          + " last at " + topic + "-" + voided.partition() + " offset " + voided.offset() + "), so it did not"
          + " take effect and may be retried"));
      return;
    }
    retries.increment();
    // The retry only reads the replica and queues a record: fine on the JDK's delay scheduler.
    CompletableFuture.delayedExecutor(delayNanos, TimeUnit.NANOSECONDS, Runnable::run)
        .execute(() -> attempt(key, op, decider, deadlineNanos, attempt + 1, result));
  }

  /** The failure of a write whose deadline passed; runs on a timer thread, so it must not block. */
  private RuntimeException timeout(K key, int partition, Waiting waiting, Throwable cause) {
    long reached = replica.position(partition);
    long logged = waiting.loggedOffset;
    if (logged < 0) {
      return new BackendUnavailableException("write to key '" + key + "' of cache '" + name + "' failed: Kafka at "
          + options.bootstrapServers() + " did not acknowledge it within " + options.writeTimeout(), cause);
    }
    return new ReplicationTimeoutException(
        "write to key '" + key + "' of cache '" + name + "' reached the log but was not applied here within "
            + options.writeTimeout() + ": its record is at " + topic + "-" + partition + " offset " + logged
            + ", this replica reached offset " + reached + (replicaFailure.get() != null ? " (replica stopped)" : ""),
        partition, logged, reached, cause);
  }

  /** Completes the write waiting for a record of this cache's session (apply thread). */
  void onApplied(RecordMeta meta, Replica.Outcome<K> outcome, int partition, long offset) {
    if (meta.session() == session) {
      Waiting waiting = pending.remove(meta.request());
      if (waiting != null) {
        waiting.applied.complete(new Applied(outcome.valid(), outcome.wasPresent(), partition, offset));
      }
    }
  }

  /** Fails every write still waiting for its record. */
  void failAll(Throwable failure) {
    pending.values().forEach(w -> w.applied.completeExceptionally(failure));
  }

  /** Returns how many writes are waiting for their record to be applied. */
  int waiting() {
    return pending.size();
  }

  /** Returns how many records wait for the send thread. */
  int queued() {
    return sender.queued();
  }

  /** Returns how many times a void conditional write was retried. */
  long retried() {
    return retries.sum();
  }

  /** Stops the send thread and closes the producer, giving it 5 s to send what it holds. */
  void close() {
    sender.close();
  }
}
