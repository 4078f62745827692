package io.cachet.examples.proxy;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds how many cache requests are processed at once, across every connection: at most
 * {@code limit} permits are held; a request that finds none waits in a FIFO queue. Nothing here
 * blocks: a waiting request is a queued task, and whoever releases a permit hands it straight to
 * the head of the queue, whose task then runs on its own executor (its connection's event loop).
 *
 * <p>With a limit of 1 the proxy is sequential: a request starts only after the previous one,
 * from any client, has its answer. A limit of 0 (the default) means no limit:
 * then nothing is counted on the hot path, and only requests waiting for Redis are tracked, for
 * the {@code proxy_requests_active} gauge.
 *
 * <p>The queue is not bounded here: each connection stops reading while it has
 * {@link RespHandler#MAX_PENDING} requests unanswered, so it holds at most
 * {@code MAX_CLIENTS x MAX_PENDING} tasks (plus one read's worth per connection).
 *
 * <p>Thread-safe and lock-free. The lost-wakeup race (a task queued just as the last permit is
 * released) is closed by re-checking the queue after every release.
 */
final class Parallelism {

  private final int limit;
  private final boolean unlimited;
  private final AtomicInteger active = new AtomicInteger();
  /** Unlimited mode: requests waiting for Redis (counted on that slow path only). */
  private final AtomicInteger awaitingRedis = new AtomicInteger();
  /** Waiters in {@link #queue}; incremented after adding, decremented after taking one. */
  private final AtomicInteger queued = new AtomicInteger();
  private final ConcurrentLinkedQueue<Waiter> queue = new ConcurrentLinkedQueue<>();

  /** A limit of {@code limit} requests at once; 0 means no limit (permits are free and uncounted). */
  Parallelism(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("limit must be >= 0, was " + limit);
    }
    this.limit = limit;
    this.unlimited = limit == 0;
  }

  /** Takes a permit if one is free and nobody is waiting; the caller must {@link #release()} it. */
  boolean tryAcquire() {
    if (unlimited) {
      return true; // no shared counter on the hot path
    }
    return queued.get() == 0 && acquire(); // first come, first served
  }

  /**
   * Queues {@code task} to run on {@code executor} once it holds a permit; the task must
   * {@link #release()} it when its request is answered.
   */
  void enqueue(Executor executor, Runnable task) {
    queue.add(new Waiter(executor, task));
    queued.incrementAndGet();
    handOff();
  }

  /** Releases a permit, handing it to the next waiting task if there is one. */
  void release() {
    if (unlimited) {
      return;
    }
    active.decrementAndGet();
    if (queued.get() > 0) {
      handOff();
    }
  }

  /** Records that a request holding a permit now waits for Redis. */
  void awaitingRedis(int delta) {
    if (unlimited) {
      awaitingRedis.addAndGet(delta);
    }
  }

  /**
   * Returns the number of permits held; without a limit, the number of requests waiting for
   * Redis (the others complete within a read and are never observable as active).
   */
  int active() {
    return unlimited ? awaitingRedis.get() : active.get();
  }

  /** Returns the number of requests waiting for a permit. */
  int queued() {
    return queued.get();
  }

  private boolean acquire() {
    for (int current = active.get(); current < limit; current = active.get()) {
      if (active.compareAndSet(current, current + 1)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Gives free permits to waiters. Whoever changes either side (a waiter added, a permit
   * released) calls this afterwards, and each re-reads the other side, so a waiter is never left
   * queued while a permit is free (no lost wake-up).
   */
  private void handOff() {
    while (queued.get() > 0 && acquire()) {
      Waiter next = queue.poll();
      if (next == null) {
        // Another hand-off took it between our check and our poll: give the permit back.
        active.decrementAndGet();
        continue;
      }
      queued.decrementAndGet();
      try {
        next.executor.execute(next.task); // the permit now belongs to that task
      } catch (RejectedExecutionException e) {
        active.decrementAndGet(); // its event loop is shutting down
      }
    }
  }

  private record Waiter(Executor executor, Runnable task) {}
}
