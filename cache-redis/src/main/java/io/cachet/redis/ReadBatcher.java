package io.cachet.redis;

import io.cachet.redis.RedissonCommands.KeyRead;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Pipelines one cache's reads of Redis (of one node, on a Cluster): concurrent near misses share batches, each sent as one
 * pipelined write per node ({@link RedissonCommands#readBatch}), instead of every read taking a
 * pooled connection for its {@code GET} and another for its {@code PTTL}.
 *
 * <p>A read is queued. While fewer than {@value #MAX_IN_FLIGHT} batches are in flight, the calling
 * thread at once sends everything queued as one batch, so a lone read goes out immediately, alone,
 * with no added latency. Otherwise the read waits, and the completion of an in-flight batch sends
 * what queued meanwhile, at most {@value #MAX_BATCH} reads per batch.
 *
 * <p>Bounds: a read's deadline is {@code timeout} after it was queued, and a batch is bounded by
 * the deadline of its oldest read, so no read waits longer than {@code timeout} in all; a read
 * still queued at its deadline fails with a {@link TimeoutException} without being sent. The queue
 * holds at most the reads the application has in flight (one per key while tracking is up, since
 * concurrent reads of a key then share one; while it is down reads are not shared, so one per
 * caller), and drains at the speed Redis answers; so it is bounded by the callers' rate times
 * {@code timeout}, which for asynchronous callers (a proxy) is the rate Redis is asked at.
 *
 * <p>Thread-safe and lock-free. Nothing here blocks: a caller's thread only enqueues and may send a
 * batch (asynchronously); a batch's completion, on a Redisson event loop or the timer that bounds
 * the batch, sends the next batch and then completes its reads' futures.
 */
final class ReadBatcher {

  /**
   * Batches in flight at once, per cache. A read goes out at once while fewer are in flight, so at
   * low concurrency nothing waits; beyond that, reads queue and go out together. Small, because
   * each batch holds a pooled connection per node while in flight and Redis answers one connection
   * at a time anyway; more than one, so that a read arriving while a batch is on the wire need not
   * wait for it, and a slow reply does not stall every read.
   */
  static final int MAX_IN_FLIGHT = 4;

  /** Most reads in one batch (each a {@code GET} and a {@code PTTL}): about 25 KB of commands for 50-byte keys. */
  static final int MAX_BATCH = 256;

  /** Sends one batch, bounded by {@code deadlineNanos}; element {@code i} of the reply answers {@code keys.get(i)}. */
  interface Sender {
    CompletableFuture<List<KeyRead>> send(List<byte[]> keys, long deadlineNanos);
  }

  private record Pending(byte[] key, long deadline, CompletableFuture<RedisTransport.Read> reply) {}

  private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final LongAdder batches = new LongAdder();
  private final LongAdder reads = new LongAdder();
  /** Whether this thread is inside {@link #drain()}: a completion it runs then leaves the draining to it. */
  private final ThreadLocal<Boolean> draining = ThreadLocal.withInitial(() -> Boolean.FALSE);

  private final Sender sender;
  private final long timeoutNanos;
  private final LongSupplier nanoTime;
  private final BiConsumer<CompletableFuture<?>, Throwable> fail;

  /**
   * @param fail fails a read that expired in the queue, off the draining thread (which may be a
   *     Redisson event loop or another caller): the client's completion pool
   */
  ReadBatcher(Sender sender, long timeoutNanos, LongSupplier nanoTime, BiConsumer<CompletableFuture<?>, Throwable> fail) {
    this.sender = sender;
    this.timeoutNanos = timeoutNanos;
    this.nanoTime = nanoTime;
    this.fail = fail;
  }

  /** Reads {@code key}'s value and {@code PTTL}: sent now, or with the next batch. */
  CompletableFuture<RedisTransport.Read> read(byte[] key) {
    Pending pending = new Pending(key, nanoTime.getAsLong() + timeoutNanos, new CompletableFuture<>());
    queue.add(pending);
    drain();
    return pending.reply;
  }

  /** Batches sent so far. */
  long batches() {
    return batches.sum();
  }

  /** Reads sent so far, in all batches. */
  long reads() {
    return reads.sum();
  }

  /**
   * Sends queued reads while a batch may be in flight. A completion releases its slot before it
   * drains, and a read is queued before it drains, so a queued read is always sent by someone:
   * whoever finds a free slot after it was queued.
   */
  private void drain() {
    boolean outermost = !draining.get();
    if (outermost) {
      draining.set(true);
    }
    try {
      drainLoop();
    } finally {
      if (outermost) {
        draining.set(false);
      }
    }
  }

  private void drainLoop() {
    while (!queue.isEmpty()) {
      int current = inFlight.get();
      if (current >= MAX_IN_FLIGHT) {
        return; // an in-flight batch's completion drains
      }
      if (!inFlight.compareAndSet(current, current + 1)) {
        continue;
      }
      List<Pending> expired = new ArrayList<>(0);
      List<Pending> batch = take(expired);
      if (batch.isEmpty()) {
        inFlight.decrementAndGet();
      } else {
        send(batch);
      }
      for (Pending late : expired) {
        fail.accept(late.reply, new TimeoutException("queued for Redis for longer than " + Duration.ofNanos(timeoutNanos)));
      }
    }
  }

  /** Up to {@link #MAX_BATCH} queued reads still within their deadline; the others go to {@code expired}. */
  private List<Pending> take(List<Pending> expired) {
    long now = nanoTime.getAsLong();
    List<Pending> batch = new ArrayList<>(Math.min(MAX_BATCH, 16));
    Pending next;
    while (batch.size() < MAX_BATCH && (next = queue.poll()) != null) {
      if (next.deadline - now > 0) {
        batch.add(next);
      } else {
        expired.add(next);
      }
    }
    return batch;
  }

  private void send(List<Pending> batch) {
    List<byte[]> keys = new ArrayList<>(batch.size());
    long deadline = batch.get(0).deadline;
    for (Pending pending : batch) {
      keys.add(pending.key);
      if (pending.deadline - deadline < 0) {
        deadline = pending.deadline;
      }
    }
    batches.increment();
    reads.add(batch.size());
    CompletableFuture<List<KeyRead>> replies;
    try {
      replies = sender.send(keys, deadline);
    } catch (Throwable e) { // an Error too: the slot must come back and the reads must fail
      replies = CompletableFuture.failedFuture(e);
    }
    replies.whenComplete((answered, error) -> {
      try {
        inFlight.decrementAndGet();
        // A batch that completes at once (a send that failed synchronously) completes here, on the
        // draining thread: its loop sends the next batch, instead of one stack level per batch.
        if (!draining.get()) {
          drain();
        }
      } finally {
        complete(batch, answered, error);
      }
    });
  }

  private static void complete(List<Pending> batch, @Nullable List<KeyRead> answered, @Nullable Throwable error) {
    if (error == null && (answered == null || answered.size() != batch.size())) {
      error = new IllegalStateException("a batch of " + batch.size() + " reads got "
          + (answered == null ? "no" : answered.size()) + " replies");
    }
    for (int i = 0; i < batch.size(); i++) {
      CompletableFuture<RedisTransport.Read> reply = batch.get(i).reply;
      if (error != null) {
        reply.completeExceptionally(error);
        continue;
      }
      KeyRead read = answered.get(i);
      if (read.error() != null) {
        reply.completeExceptionally(CommandTimeouts.completion(read.error()));
      } else {
        reply.complete(new RedisTransport.Read(read.value(), read.pttl()));
      }
    }
  }
}
