package io.cachet.examples.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The global limit on requests processed at once. */
final class ParallelismTest {

  @Test
  void limit_mustNotBeNegative() {
    assertThatThrownBy(() -> new Parallelism(-1)).hasMessage("limit must be >= 0, was -1");
  }

  @Test
  void noLimit_permitsAreFree_andOnlyRequestsWaitingForRedisAreCounted() {
    Parallelism none = new Parallelism(0);
    for (int i = 0; i < 10_000; i++) {
      assertThat(none.tryAcquire()).isTrue();
    }
    none.release();
    assertThat(none.active()).isZero();
    none.awaitingRedis(1);
    assertThat(none.active()).isEqualTo(1);
    none.awaitingRedis(-1);
    assertThat(none.active()).isZero();
  }

  @Test
  void waiters_runInArrivalOrder_whenPermitsAreReleased() {
    Parallelism limit = new Parallelism(1);
    StringBuilder ran = new StringBuilder();
    assertThat(limit.tryAcquire()).isTrue();
    limit.enqueue(Runnable::run, () -> ran.append('a'));
    limit.enqueue(Runnable::run, () -> ran.append('b'));
    assertThat(limit.tryAcquire()).as("nobody jumps the queue").isFalse();
    assertThat(ran).isEmpty();
    limit.release();
    assertThat(ran).hasToString("a");
    limit.release();
    assertThat(ran).hasToString("ab");
    limit.release();
    assertThat(limit.active()).isZero();
    assertThat(limit.queued()).isZero();
  }

  @Test
  void underContention_neverMoreThanTheLimitRunAtOnce_andEveryTaskRuns() throws Exception {
    int limitValue = 3;
    int tasks = 20_000;
    Parallelism limit = new Parallelism(limitValue);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    CountDownLatch all = new CountDownLatch(tasks);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      Runnable task = () -> {
        int now = running.incrementAndGet();
        maxRunning.accumulateAndGet(now, Math::max);
        Thread.onSpinWait();
        running.decrementAndGet();
        done.incrementAndGet();
        limit.release();
        all.countDown();
      };
      for (int i = 0; i < tasks; i++) {
        pool.execute(() -> {
          if (limit.tryAcquire()) {
            task.run();
          } else {
            limit.enqueue(pool, task);
          }
        });
      }
      assertThat(all.await(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      pool.shutdownNow();
    }
    assertThat(done.get()).isEqualTo(tasks);
    assertThat(maxRunning.get()).isLessThanOrEqualTo(limitValue);
    assertThat(limit.active()).isZero();
  }
}
