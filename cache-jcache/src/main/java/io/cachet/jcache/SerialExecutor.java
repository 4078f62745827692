package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs its tasks one at a time, in the order they were handed in, on a shared executor. Thread-safe.
 *
 * <p>Each cache handles its backend's removal notices on one of these over the manager's pool: a
 * notice waits for its key's lock, which a slow writer may hold for long, and this way the notices
 * of a cache that wait so hold one pool thread at most, not one each. {@link #execute} never
 * blocks, so it may be called while holding key locks.
 *
 * <p>At most one drain task is on the shared executor at a time. It runs up to {@link #BATCH}
 * tasks, then hands the rest to a new drain task at the end of the executor's queue, so that a
 * cache with a steady stream of notices takes turns with the executor's other work. A task that
 * throws is logged and the next one runs. If the shared executor rejects a drain task (it was shut
 * down), the tasks still queued are dropped; the caller whose task started that drain gets the
 * {@link RejectedExecutionException}.
 */
final class SerialExecutor implements Executor {

  private static final Logger log = LoggerFactory.getLogger(SerialExecutor.class);

  /** How many tasks one drain task runs before it yields the thread. */
  static final int BATCH = 64;

  private final String name;
  private final Executor executor;
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>(); // guarded by this
  private boolean draining; // guarded by this: a drain task is on the executor or running

  /** @param name what the tasks are for, in log messages */
  SerialExecutor(String name, Executor executor) {
    this.name = name;
    this.executor = executor;
  }

  @Override
  public void execute(Runnable task) {
    requireNonNull(task, "task");
    synchronized (this) {
      tasks.add(task);
      if (draining) {
        return; // the drain task runs it, after those before it
      }
      draining = true;
    }
    try {
      executor.execute(this::drain);
    } catch (RuntimeException | Error e) {
      dropQueued();
      throw e;
    }
  }

  private void drain() {
    boolean finished = false;
    try {
      for (int run = 0; run < BATCH; run++) {
        Runnable next;
        synchronized (this) {
          next = tasks.poll();
          if (next == null) {
            draining = false;
            finished = true;
            return;
          }
        }
        try {
          Thread.interrupted(); // a task that left its thread interrupted must not fail the next one
          next.run();
        } catch (RuntimeException e) {
          log.warn("A task of {} failed", name, e);
        }
      }
    } finally {
      if (!finished) {
        continueLater(); // after a full batch, or an Error from a task
      }
    }
  }

  /** Hands what is left to a new drain task, at the end of the executor's queue; never throws. */
  private void continueLater() {
    synchronized (this) {
      if (tasks.isEmpty()) {
        draining = false;
        return;
      }
    }
    try {
      executor.execute(this::drain);
    } catch (RuntimeException | Error e) {
      dropQueued();
      log.debug("Dropped the queued tasks of {}: the executor refused them", name, e);
    }
  }

  private synchronized void dropQueued() {
    tasks.clear();
    draining = false;
  }
}
