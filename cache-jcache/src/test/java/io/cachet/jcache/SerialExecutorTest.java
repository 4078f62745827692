package io.cachet.jcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/** One task at a time, in order, over an executor the test runs by hand. */
final class SerialExecutorTest {

  /** Keeps the tasks handed to it until the test runs them. */
  private static final class ManualExecutor implements Executor {
    final ArrayDeque<Runnable> queued = new ArrayDeque<>();
    boolean rejecting;

    @Override
    public void execute(Runnable task) {
      if (rejecting) {
        throw new RejectedExecutionException("shut down");
      }
      queued.add(task);
    }

    void runNext() {
      queued.remove().run();
    }
  }

  private final ManualExecutor pool = new ManualExecutor();
  private final SerialExecutor serial = new SerialExecutor("test tasks", pool);
  private final List<Integer> ran = new ArrayList<>();

  @Test
  void execute_runsTheTasksInOrderOnOneDrainTask() {
    for (int i = 0; i < 3; i++) {
      int task = i;
      serial.execute(() -> ran.add(task));
    }

    assertThat(pool.queued).hasSize(1);
    pool.runNext();
    assertThat(ran).containsExactly(0, 1, 2);
    assertThat(pool.queued).isEmpty();

    serial.execute(() -> ran.add(3)); // idle again: a new drain task
    assertThat(pool.queued).hasSize(1);
    pool.runNext();
    assertThat(ran).containsExactly(0, 1, 2, 3);
  }

  @Test
  void execute_moreThanABatch_yieldsTheThreadAndGoesOnFromTheEndOfTheQueue() {
    for (int i = 0; i <= SerialExecutor.BATCH; i++) {
      int task = i;
      serial.execute(() -> ran.add(task));
    }

    pool.runNext();
    assertThat(ran).hasSize(SerialExecutor.BATCH);
    assertThat(pool.queued).hasSize(1);
    pool.runNext();
    assertThat(ran).hasSize(SerialExecutor.BATCH + 1).last().isEqualTo(SerialExecutor.BATCH);
  }

  @Test
  void execute_aTaskThatThrows_doesNotStopTheOthers() {
    serial.execute(() -> {
      throw new IllegalStateException("task bug");
    });
    serial.execute(() -> ran.add(1));
    serial.execute(() -> {
      throw new AssertionError("task error");
    });
    serial.execute(() -> ran.add(2));

    assertThatThrownBy(pool::runNext).isInstanceOf(AssertionError.class); // the pool's thread sees it
    assertThat(ran).containsExactly(1);
    pool.runNext(); // a new drain task took over
    assertThat(ran).containsExactly(1, 2);
    assertThat(pool.queued).isEmpty();
  }

  @Test
  void execute_executorRejects_throwsAndTriesAgainNextTime() {
    pool.rejecting = true;
    assertThatThrownBy(() -> serial.execute(() -> ran.add(0))).isInstanceOf(RejectedExecutionException.class);

    pool.rejecting = false;
    serial.execute(() -> ran.add(1));
    pool.runNext();
    assertThat(ran).containsExactly(1);
  }

  @Test
  void taskLeavingItsThreadInterrupted_doesNotInterruptTheNext() {
    List<Boolean> interrupted = new ArrayList<>();
    serial.execute(() -> Thread.currentThread().interrupt());
    serial.execute(() -> interrupted.add(Thread.currentThread().isInterrupted()));
    try {
      pool.runNext();
    } finally {
      Thread.interrupted(); // the test's own thread ran the tasks
    }
    assertThat(interrupted).containsExactly(false);
  }
}
