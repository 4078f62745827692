package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A bulk operation keeps at most its bound of writes in flight, starts each item's write once on
 * the caller's thread, and starts none after a failure, a stall or an interrupt.
 */
final class BulkWritesTest {

  private static final long STALL = TimeUnit.SECONDS.toNanos(30);

  @Test
  void completionsFromOtherThreads_neverMoreThanTheBoundInFlight_everyWriteStartedOnceOnTheCaller() throws Exception {
    int bound = 8;
    AtomicInteger outstanding = new AtomicInteger();
    AtomicInteger mostOutstanding = new AtomicInteger();
    List<Integer> started = Collections.synchronizedList(new ArrayList<>());
    Thread caller = Thread.currentThread();
    List<Thread> startingThreads = Collections.synchronizedList(new ArrayList<>());
    ExecutorService completers = Executors.newFixedThreadPool(4);
    try {
      long writes = BulkWrites.run(IntStream.range(0, 50_000).boxed().iterator(), i -> {
        started.add(i);
        startingThreads.add(Thread.currentThread());
        mostOutstanding.accumulateAndGet(outstanding.incrementAndGet(), Math::max);
        return CompletableFuture.runAsync(outstanding::decrementAndGet, completers);
      }, bound, STALL);
      assertThat(writes).isEqualTo(50_000);
      assertThat(started).hasSize(50_000).doesNotHaveDuplicates();
      assertThat(mostOutstanding.get()).isBetween(1, bound);
      assertThat(startingThreads).containsOnly(caller);
    } finally {
      completers.shutdownNow();
    }
  }

  @Test
  void noItems_returnsAtOnce() throws Exception {
    assertThat(BulkWrites.run(List.<Integer>of().iterator(), i -> CompletableFuture.completedFuture(null), 3, STALL))
        .isZero();
  }

  @Test
  void aFailure_startsNoFurtherWrite_andIsThrownOnceTheStartedOnesComplete() {
    IllegalStateException boom = new IllegalStateException("queue full");
    List<CompletableFuture<Void>> started = new ArrayList<>();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread caller = new Thread(() -> {
      try {
        BulkWrites.run(IntStream.range(0, 100).boxed().iterator(), i -> {
          CompletableFuture<Void> write = new CompletableFuture<>();
          synchronized (started) {
            started.add(write);
          }
          return write;
        }, 3, STALL);
      } catch (Exception e) {
        thrown.set(e);
      }
    });
    caller.start();
    awaitStarted(started, 3);
    first(started).completeExceptionally(new CompletionException(boom));
    at(started, 1).complete(null);
    assertThat(thrown.get()).as("waits for the write still in flight").isNull();
    at(started, 2).completeExceptionally(new IllegalArgumentException("second"));
    join(caller);
    assertThat(thrown.get()).isInstanceOf(ExecutionException.class).hasCause(boom);
    synchronized (started) {
      assertThat(started).as("none started after the failure").hasSize(3);
    }
  }

  @Test
  void aWriteThatThrows_isAFailure() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> BulkWrites.run(List.of(1, 2, 3).iterator(), i -> {
      calls.incrementAndGet();
      throw new IllegalStateException("closed");
    }, 5, STALL)).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(IllegalStateException.class);
    assertThat(calls.get()).isEqualTo(1);
  }

  @Test
  void noWriteCompletingWithinTheStallBound_throws_andStartsNoFurtherWrite() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> BulkWrites.run(IntStream.range(0, 10).boxed().iterator(), i -> {
      calls.incrementAndGet();
      return new CompletableFuture<Void>(); // never completes
    }, 2, TimeUnit.MILLISECONDS.toNanos(50))).isInstanceOf(TimeoutException.class)
        .hasMessageContaining("0 completed, 2 still in flight");
    assertThat(calls.get()).isEqualTo(2);
  }

  @Test
  void aFailureThenAStall_throwsTheTimeout_withTheFailure() {
    IllegalStateException boom = new IllegalStateException("first");
    // The first write fails while the second is in flight; the second never completes.
    List<CompletableFuture<Void>> writes = List.of(CompletableFuture.supplyAsync(() -> {
      throw boom;
    }, CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS)), new CompletableFuture<>());
    Iterator<Integer> items = List.of(0, 1, 2).iterator();
    assertThatThrownBy(() -> BulkWrites.run(items, i -> i < 2 ? writes.get(i) : CompletableFuture.completedFuture(null),
        5, TimeUnit.MILLISECONDS.toNanos(500)))
        .isInstanceOf(TimeoutException.class)
        .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(boom));
  }

  @Test
  void anInterruptedCaller_startsNoFurtherWrite() {
    AtomicInteger calls = new AtomicInteger();
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> BulkWrites.run(IntStream.range(0, 10).boxed().iterator(), i -> {
        calls.incrementAndGet();
        return new CompletableFuture<Void>();
      }, 2, STALL)).isInstanceOf(InterruptedException.class);
      assertThat(calls.get()).as("not even while the window had room").isZero();
    } finally {
      Thread.interrupted();
    }
  }

  private static void awaitStarted(List<CompletableFuture<Void>> started, int n) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      synchronized (started) {
        if (started.size() >= n) {
          return;
        }
      }
      assertThat(System.nanoTime() - deadline).as("writes started in time").isNegative();
      Thread.onSpinWait();
    }
  }

  private static CompletableFuture<Void> first(List<CompletableFuture<Void>> started) {
    return at(started, 0);
  }

  private static CompletableFuture<Void> at(List<CompletableFuture<Void>> started, int i) {
    synchronized (started) {
      return started.get(i);
    }
  }

  private static void join(Thread thread) {
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    assertThat(thread.isAlive()).isFalse();
  }
}
