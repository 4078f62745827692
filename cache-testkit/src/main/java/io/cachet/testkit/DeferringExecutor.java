package io.cachet.testkit;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;

/**
 * The contract suite's executor: runs each task on the calling thread, or, once
 * {@link #defer()} was called, queues it until {@link #runPending()}, so a test can watch what a
 * cache hands to its executor (a reload) before it runs. Thread-safe.
 */
final class DeferringExecutor implements Executor {

  private final ConcurrentLinkedQueue<Runnable> pending = new ConcurrentLinkedQueue<>();
  private volatile boolean deferring;

  @Override
  public void execute(Runnable task) {
    if (deferring) {
      pending.add(task);
    } else {
      task.run();
    }
  }

  /** Queues every task from now on. */
  void defer() {
    deferring = true;
  }

  /** Runs the queued tasks, and any they queue, on this thread; returns how many ran. */
  int runPending() {
    int ran = 0;
    for (Runnable task; (task = pending.poll()) != null; ran++) {
      task.run();
    }
    return ran;
  }
}
