package io.cachet.redis;

import io.cachet.BackendUnavailableException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The time bounds of one Redis client's commands: one daemon thread,
 * {@code cachet-redis-timeouts-<n>}, that only notices deadlines, and a small pool,
 * {@code cachet-redis-completions-<n>-<i>} (one thread per core, at least two, started on demand,
 * ended after {@value #IDLE_SECONDS} s idle), that fails the futures whose deadline passed and
 * every future Redisson fails.
 *
 * <p>Failing a future runs everything that depends on it: the near cache's bookkeeping, building
 * the caller's exception, and the caller's own continuations. When Redis stops answering, every
 * command in flight fails at about the same moment; on one timer thread (such as the JDK's shared
 * one behind {@code CompletableFuture.orTimeout}, or Redisson's timer) those failures would run one
 * after another, and the last caller of a burst would wait for all the others. Here they run in
 * parallel, and the timer thread stays free to notice the next deadline. A separate pool rather
 * than Redisson's event loops: a storm of failures must not delay the event loops' I/O (replies
 * from healthy nodes, pings, reconnection), and Redisson does not expose its loops.
 *
 * <p>A deadline whose future completes first is removed from the timer's queue at once, so the
 * queue holds only the commands in flight. The timeout a caller sees is a {@link
 * CommandTimeoutException}: no stack trace (it would only show this pool's thread), no message
 * built per key.
 *
 * <p>Thread-safe. {@link #close()} stops new deadlines; those already set still fire (the timer
 * thread ends after the last, at most one call bound later), so no future is left pending; after
 * close, failures complete on the timer thread itself.
 */
final class CommandTimeouts implements AutoCloseable {

  /** How long an idle completion thread lives. */
  static final int IDLE_SECONDS = 10;
  private static final AtomicInteger CLIENTS = new AtomicInteger();

  private final ScheduledThreadPoolExecutor timer;
  private final ThreadPoolExecutor completions;
  private final String client;

  /** @param client names the client in the exception a closed client's calls fail with */
  CommandTimeouts(String client) {
    this.client = client;
    int n = CLIENTS.incrementAndGet();
    timer = new ScheduledThreadPoolExecutor(1, daemon("cachet-redis-timeouts-" + n, false));
    timer.setRemoveOnCancelPolicy(true); // an answered command leaves the queue
    timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(true);
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    completions = new ThreadPoolExecutor(threads, threads, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        daemon("cachet-redis-completions-" + n + "-", true));
    completions.allowCoreThreadTimeOut(true);
  }

  /**
   * Fails {@code future} with a {@link CommandTimeoutException} if it is not complete within
   * {@code timeoutNanos}; returns it. A future already complete costs nothing.
   */
  <T> CompletableFuture<T> bound(CompletableFuture<T> future, long timeoutNanos) {
    if (future.isDone()) {
      return future;
    }
    ScheduledFuture<?> deadline;
    try {
      deadline = timer.schedule(() -> {
        if (!future.isDone()) {
          // Even the exception is made on the pool: the timer thread only hands over.
          run(() -> future.completeExceptionally(completion(new CommandTimeoutException(timeoutNanos))));
        }
      }, timeoutNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      future.completeExceptionally(new BackendUnavailableException(client + " is closed", e));
      return future;
    }
    future.whenComplete((r, e) -> deadline.cancel(false));
    return future;
  }

  /** Completes {@code future} with {@code value} on the completion pool. */
  <T> void complete(CompletableFuture<T> future, T value) {
    run(() -> future.complete(value));
  }

  /** Fails {@code future} with {@code error} on the completion pool. */
  void fail(CompletableFuture<?> future, Throwable error) {
    run(() -> future.completeExceptionally(completion(error)));
  }

  /**
   * {@code error} as a {@link CompletionException}, to fail a future with. Each stage that depends
   * on a future failed with a bare exception wraps it in a new {@code CompletionException}, with
   * its own stack trace and a copy of the cause's message; a stage failed with a
   * {@code CompletionException} passes it on as it is. This one has no stack trace (it would only
   * show the completing thread). {@code get()} still throws {@code ExecutionException} with
   * {@code error} as its cause, {@code join()} this wrapper, as for any failed stage.
   */
  static CompletionException completion(Throwable error) {
    return error instanceof CompletionException ce ? ce : new Completion(error);
  }

  /** Runs {@code task} on the completion pool after {@code delayMillis}. */
  void later(long delayMillis, Runnable task) {
    try {
      timer.schedule(() -> run(task), delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      task.run(); // closed: the task finds the client shut down and fails its future
    }
  }

  private void run(Runnable task) {
    try {
      completions.execute(task);
    } catch (RejectedExecutionException e) {
      task.run(); // closed: only the last deadlines of a closed client get here
    }
  }

  /** Deadlines set and not yet fired or cancelled: the commands in flight. */
  int pendingDeadlines() {
    return timer.getQueue().size();
  }

  @Override
  public void close() {
    timer.shutdown();
    completions.shutdown();
  }

  private static ThreadFactory daemon(String name, boolean numbered) {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread t = new Thread(task, numbered ? name + count.incrementAndGet() : name);
      t.setDaemon(true);
      return t;
    };
  }

  private static final class Completion extends CompletionException {
    private static final long serialVersionUID = 1L;

    Completion(Throwable cause) {
      super(null, cause);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  /**
   * Redis did not answer a command within its bound. Cheap to create: no stack trace (it would
   * only show the thread that noticed), a fixed message; the caller's exception names the key.
   */
  static final class CommandTimeoutException extends TimeoutException {
    private static final long serialVersionUID = 1L;

    CommandTimeoutException(long timeoutNanos) {
      super("no reply within " + Duration.ofNanos(timeoutNanos));
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
