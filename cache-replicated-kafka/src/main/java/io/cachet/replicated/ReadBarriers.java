package io.cachet.replicated;

import io.cachet.BackendUnavailableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

/**
 * Read barriers of one cache: futures that complete once the local replica has reached the topic's
 * end offsets taken when they were created ({@code readLatest}). Thread-safe: any thread creates a
 * barrier (the end offsets arrive on the admin client's thread), the apply thread completes it
 * ({@link #check}) after moving the replica's positions.
 */
final class ReadBarriers {

  private final String name;
  private final ReplicationOptions options;
  private final String topic;
  private final Admin admin;
  private final List<TopicPartition> partitions;
  private final Replica<?, ?> replica;
  private final AtomicBoolean closed;
  private final ConcurrentLinkedQueue<Barrier> barriers = new ConcurrentLinkedQueue<>();

  /** A read barrier: completes when every partition has reached its target. */
  private record Barrier(long[] targets, CompletableFuture<Void> done) {}

  /** @param closed set once by the cache's {@code close()} */
  ReadBarriers(String name, ReplicationOptions options, Admin admin, List<TopicPartition> partitions,
      Replica<?, ?> replica, AtomicBoolean closed) {
    this.name = name;
    this.options = options;
    this.topic = options.topicFor(name);
    this.admin = admin;
    this.partitions = partitions;
    this.replica = replica;
    this.closed = closed;
  }

  /** Completes once the replica has applied everything in the topic now. */
  CompletableFuture<Void> barrier() {
    return barrier(null, false);
  }

  /** Completes once the replica has applied everything in partition {@code partition} now. */
  CompletableFuture<Void> barrier(int partition) {
    return barrier(new int[] {partition}, false);
  }

  /**
   * Completes once the replica has applied everything now in the {@code wanted} partitions (null:
   * all). A partition whose end Kafka does not give within the write timeout (no leader) fails the
   * barrier, or, when {@code skipUnanswered} is set, is left out of it if it has not answered within
   * half the write timeout, as long as one partition did; so a partition without a leader holds up
   * none of the others, and they have the other half to be reached.
   */
  CompletableFuture<Void> barrier(int @Nullable [] wanted, boolean skipUnanswered) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    List<TopicPartition> asked = new ArrayList<>();
    if (wanted == null) {
      asked.addAll(partitions);
    } else {
      for (int p : wanted) {
        asked.add(partitions.get(p));
      }
    }
    if (asked.isEmpty()) {
      return CompletableFuture.completedFuture(null); // getAll of no keys
    }
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    asked.forEach(tp -> request.put(tp, OffsetSpec.latest()));
    long timeoutNanos = options.writeTimeout().toNanos();
    long deadline = System.nanoTime() + timeoutNanos;
    // Per partition, the end offset Kafka gave, or -1; written on the admin client's threads.
    AtomicLongArray answers = new AtomicLongArray(partitions.size());
    for (int p = 0; p < partitions.size(); p++) {
      answers.set(p, -1);
    }
    long[] targets = new long[partitions.size()]; // 0 for a partition not waited for: always reached
    AtomicBoolean targetsKnown = new AtomicBoolean(); // set after targets is filled: publishes it
    AtomicReference<Throwable> firstError = new AtomicReference<>();
    ListOffsetsResult result = admin.listOffsets(request);
    CompletableFuture<?>[] each = new CompletableFuture<?>[asked.size()];
    for (int i = 0; i < each.length; i++) {
      TopicPartition tp = asked.get(i);
      each[i] = result.partitionResult(tp).toCompletionStage().toCompletableFuture().handle((info, error) -> {
        if (error == null) {
          answers.set(tp.partition(), info.offset());
        } else {
          firstError.compareAndSet(null, Futures.unwrap(error));
        }
        return null;
      });
    }
    long answersWithin = skipUnanswered ? timeoutNanos / 2 : timeoutNanos;
    CompletableFuture.allOf(each).completeOnTimeout(null, answersWithin, TimeUnit.NANOSECONDS)
        .whenComplete((ignored, error) -> {
          int known = 0;
          for (TopicPartition tp : asked) { // as of now: later answers are not waited for
            long end = answers.get(tp.partition());
            if (end >= 0) {
              targets[tp.partition()] = end;
              known++;
            }
          }
          if (known == 0 || (known < asked.size() && !skipUnanswered)) {
            Throwable cause = firstError.get();
            done.completeExceptionally(new BackendUnavailableException("Kafka at " + options.bootstrapServers()
                + " did not return the end of topic '" + topic + "' within " + options.writeTimeout(),
                cause != null ? cause : new TimeoutException("no answer for " + (asked.size() - known)
                    + " partition(s)")));
            return;
          }
          targetsKnown.set(true);
          if (reached(targets)) {
            done.complete(null);
            return;
          }
          barriers.add(new Barrier(targets, done));
          if (closed.get()) {
            done.completeExceptionally(new IllegalStateException("cache '" + name + "' was closed"));
          }
        });
    long remaining = Math.max(1, deadline - System.nanoTime());
    return done.orTimeout(remaining, TimeUnit.NANOSECONDS).exceptionallyCompose(error -> {
      Throwable cause = Futures.unwrap(error);
      if (!(cause instanceof TimeoutException)) {
        return CompletableFuture.failedFuture(cause);
      }
      if (!targetsKnown.get()) {
        // Kafka never said where the topic ends: an outage, not a replica behind a known end.
        return CompletableFuture.failedFuture(new BackendUnavailableException("Kafka at "
            + options.bootstrapServers() + " did not return the end of topic '" + topic + "' within "
            + options.writeTimeout(), cause));
      }
      int behind = 0;
      for (int p = 0; p < targets.length; p++) {
        if (replica.position(p) < targets[p]) {
          behind = p;
          break;
        }
      }
      return CompletableFuture.failedFuture(new ReplicationTimeoutException(
          "cache '" + name + "' did not reach the end of topic '" + topic + "' within " + options.writeTimeout()
              + ": " + topic + "-" + behind + " ends at offset " + targets[behind] + ", this replica reached offset "
              + replica.position(behind), behind, targets[behind] - 1, replica.position(behind), cause));
    });
  }

  /**
   * Asks for each partition's end offset now; {@code onEach} gets each one Kafka answers for (on
   * the admin client's thread), so a partition without a leader holds up none of the others.
   */
  void endOffsets(java.util.function.BiConsumer<Integer, Long> onEach) {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    partitions.forEach(tp -> request.put(tp, OffsetSpec.latest()));
    var result = admin.listOffsets(request);
    for (TopicPartition tp : partitions) {
      result.partitionResult(tp).whenComplete((info, error) -> {
        if (error == null) {
          onEach.accept(tp.partition(), info.offset());
        }
      });
    }
  }

  /** Completes the barriers the replica has reached and drops those already done (apply thread). */
  void check() {
    for (Iterator<Barrier> it = barriers.iterator(); it.hasNext(); ) {
      Barrier barrier = it.next();
      if (reached(barrier.targets())) {
        it.remove();
        barrier.done().complete(null);
      } else if (barrier.done().isDone()) {
        it.remove();
      }
    }
  }

  private boolean reached(long[] targets) {
    for (int p = 0; p < targets.length; p++) {
      if (replica.position(p) < targets[p]) {
        return false;
      }
    }
    return true;
  }

  /** Fails every barrier still waiting. */
  void failAll(Throwable failure) {
    barriers.forEach(b -> b.done().completeExceptionally(failure));
  }
}
