package io.cachet.redis;

import io.cachet.redis.RedissonCommands.KeyRead;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.jspecify.annotations.Nullable;

/**
 * One batch of reads ({@code GET} and {@code PTTL} per key) as {@link RedisTransport} sends it: a
 * {@link RedissonCommands#readBatch} per node, each resent on its own, so that one node that is
 * down fails its own keys and the others' are answered.
 *
 * <ul>
 *   <li>The keys whose commands provably never reached Redis (no connection to their node) are
 *       resent, and only those, as a single command would be: at most {@value #MAX_RESENDS} times,
 *       {@link RedisTransport#RESEND_DELAY_MILLIS} ms apart, and only while the batch's deadline is
 *       ahead and its reply pending.
 *   <li>The reply completes once every node's keys are answered or failed, or at the deadline:
 *       then each key answered so far keeps its answer and the others fail with the timeout.
 * </ul>
 *
 * <p>Thread-safety: each node's attempts run one after another (a resend is scheduled by the
 * completion of the attempt before it), and nodes own disjoint positions of {@link #answers}; a
 * position is published by {@link #settled} (written after it), which the deadline reads first.
 */
final class NodeReads {

  static final int MAX_RESENDS = 2;

  private final RedissonCommands commands;
  private final CommandTimeouts timeouts;
  private final List<byte[]> keys;
  private final long deadline;
  private final KeyRead[] answers;
  private final AtomicIntegerArray settled;
  private final AtomicInteger nodesLeft = new AtomicInteger();
  private final CompletableFuture<List<KeyRead>> reply = new CompletableFuture<>();

  private NodeReads(RedissonCommands commands, CommandTimeouts timeouts, List<byte[]> keys, long deadline) {
    this.commands = commands;
    this.timeouts = timeouts;
    this.keys = keys;
    this.deadline = deadline;
    this.answers = new KeyRead[keys.size()];
    this.settled = new AtomicIntegerArray(keys.size());
  }

  /**
   * Reads {@code keys}; element {@code i} of the reply answers {@code keys.get(i)} (its value and
   * TTL, or its error). The reply completes normally, by {@code deadline} ({@code System.nanoTime()}).
   */
  static CompletableFuture<List<KeyRead>> send(
      RedissonCommands commands, CommandTimeouts timeouts, List<byte[]> keys, long deadline) {
    NodeReads reads = new NodeReads(commands, timeouts, keys, deadline);
    reads.start();
    return reads.reply;
  }

  private void start() {
    List<int[]> nodes;
    try {
      nodes = commands.groupByNode(keys);
    } catch (RuntimeException e) {
      reply.completeExceptionally(e);
      return;
    }
    CompletableFuture<Void> bound = timeouts.bound(new CompletableFuture<>(), deadline - System.nanoTime());
    bound.whenComplete((ignored, timeout) -> {
      if (timeout != null) {
        reply.complete(answersSoFar(RedisTransport.unwrap(timeout)));
      }
    });
    reply.whenComplete((r, e) -> bound.complete(null)); // takes the deadline off the timer
    nodesLeft.set(nodes.size());
    if (deadline - System.nanoTime() <= 0) {
      return; // nothing is sent: the deadline fails every read
    }
    for (int[] positions : nodes) {
      attempt(positions, 0);
    }
  }

  private void attempt(int[] positions, int resends) {
    if (resends > 0 && (reply.isDone() || deadline - System.nanoTime() <= 0)) {
      return; // the deadline completes (or completed) the reply: never send after it
    }
    List<byte[]> subset;
    if (positions.length == keys.size()) {
      subset = keys;
    } else {
      subset = new ArrayList<>(positions.length);
      for (int i : positions) {
        subset.add(keys.get(i));
      }
    }
    CompletionStage<List<KeyRead>> sent;
    try {
      sent = commands.readBatch(subset);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((reads, error) -> {
      if (error != null || reads == null || reads.size() != positions.length) {
        Throwable failure = error != null ? RedisTransport.unwrap(error) : new IllegalStateException(
            "a batch of " + positions.length + " reads got " + (reads == null ? "no" : reads.size()) + " replies");
        for (int i : positions) {
          settle(i, new KeyRead(null, null, failure));
        }
        nodeDone();
        return;
      }
      int unsent = 0;
      for (KeyRead read : reads) {
        unsent += neverSent(read) ? 1 : 0;
      }
      boolean resend = unsent > 0 && resends < MAX_RESENDS && !reply.isDone()
          && deadline - System.nanoTime() > TimeUnit.MILLISECONDS.toNanos(RedisTransport.RESEND_DELAY_MILLIS);
      int[] again = new int[resend ? unsent : 0];
      int n = 0;
      for (int j = 0; j < positions.length; j++) {
        KeyRead read = reads.get(j);
        if (resend && neverSent(read)) {
          again[n++] = positions[j];
        } else {
          settle(positions[j], read);
        }
      }
      if (resend) {
        timeouts.later(RedisTransport.RESEND_DELAY_MILLIS, () -> attempt(again, resends + 1));
      } else {
        nodeDone();
      }
    });
  }

  private static boolean neverSent(KeyRead read) {
    return read.error() != null && RedisTransport.neverSent(RedisTransport.unwrap(read.error()));
  }

  private void settle(int position, KeyRead read) {
    answers[position] = read;
    settled.set(position, 1); // publishes the answer to the deadline's answersSoFar
  }

  private void nodeDone() {
    if (nodesLeft.decrementAndGet() == 0) {
      List<KeyRead> answers = answersSoFar(new IllegalStateException("a batched read got no reply"));
      boolean failures = false;
      for (KeyRead answer : answers) {
        failures |= answer.error() != null;
      }
      if (failures) {
        // Failing reads runs their callers' code: on the completion pool, never on Redisson's
        // event loop, whose I/O the other nodes' replies need (see CommandTimeouts).
        timeouts.complete(reply, answers);
      } else {
        reply.complete(answers);
      }
    }
  }

  /** Every settled answer; {@code missing} for each key not settled. */
  private List<KeyRead> answersSoFar(@Nullable Throwable missing) {
    KeyRead[] result = new KeyRead[answers.length];
    for (int i = 0; i < result.length; i++) {
      result[i] = settled.get(i) == 1 ? answers[i] : new KeyRead(null, null, missing);
    }
    return Arrays.asList(result);
  }
}
