package io.cachet.replicated;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A bulk operation keeps at most its bound of writes in flight, starts every one, and stops at a failure. */
final class BulkWritesTest {

  private final List<CompletableFuture<Void>> started = new ArrayList<>();

  private BulkWrites<Integer> run(int items, int maxInFlight) {
    return BulkWrites.run(IntStream.range(0, items).boxed().iterator(), i -> {
      CompletableFuture<Void> write = new CompletableFuture<>();
      started.add(write);
      return write;
    }, maxInFlight);
  }

  private long inFlight() {
    return started.stream().filter(f -> !f.isDone()).count();
  }

  @Test
  void startsAtMostTheBound_andTheNextAsOneCompletes() {
    BulkWrites<Integer> bulk = run(10, 3);
    assertThat(started).hasSize(3);

    started.get(1).complete(null);
    assertThat(started).hasSize(4);
    assertThat(inFlight()).isEqualTo(3);
    assertThat(bulk.completed()).isEqualTo(1);

    while (started.size() < 10) {
      started.stream().filter(f -> !f.isDone()).findFirst().orElseThrow().complete(null);
      assertThat(inFlight()).isLessThanOrEqualTo(3);
    }
    assertThat(bulk.result()).isNotDone();
    started.forEach(f -> f.complete(null));
    assertThat(bulk.result()).isCompleted();
    assertThat(bulk.completed()).isEqualTo(10);
  }

  @Test
  void noItems_completesAtOnce() {
    assertThat(run(0, 3).result()).isCompleted();
    assertThat(started).isEmpty();
  }

  @Test
  void aFailure_startsNoFurtherWrite_andFailsOnceTheStartedOnesComplete() {
    BulkWrites<Integer> bulk = run(10, 3);
    IllegalStateException boom = new IllegalStateException("queue full");
    started.get(0).completeExceptionally(new CompletionException(boom));
    assertThat(started).as("no write started after the failure").hasSize(3);
    assertThat(bulk.result()).as("waits for the writes already started").isNotDone();

    started.get(1).complete(null);
    started.get(2).completeExceptionally(new IllegalArgumentException("second"));
    assertThat(started).hasSize(3);
    assertThatThrownBy(bulk.result()::join).hasCause(boom);
  }

  @Test
  void aWriteThatThrows_isAFailure() {
    BulkWrites<Integer> bulk = BulkWrites.run(List.of(1, 2).iterator(), i -> {
      throw new IllegalStateException("closed");
    }, 5);
    assertThatThrownBy(bulk.result()::join).hasCauseInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThat(bulk.completed()).isEqualTo(1);
  }

  @Test
  void writesThatCompleteAtOnce_keepTheStackFlat() {
    // Completed inside the call, on the starting thread: a recursive design would overflow here.
    BulkWrites<Integer> bulk = BulkWrites.run(IntStream.range(0, 200_000).boxed().iterator(),
        i -> CompletableFuture.completedFuture(null), 10);
    assertThat(bulk.result()).isCompleted();
    assertThat(bulk.completed()).isEqualTo(200_000);
  }

  @Test
  void completionsFromOtherThreads_startEveryWriteOnce() throws Exception {
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    ExecutorService completers = Executors.newFixedThreadPool(4);
    try {
      BulkWrites<Integer> bulk = BulkWrites.run(IntStream.range(0, 100_000).boxed().iterator(), i -> {
        seen.add(i);
        return CompletableFuture.runAsync(() -> { }, completers);
      }, 16);
      bulk.result().get(30, TimeUnit.SECONDS);
      assertThat(seen).hasSize(100_000).doesNotHaveDuplicates();
      assertThat(bulk.completed()).isEqualTo(100_000);
    } finally {
      completers.shutdownNow();
    }
  }
}
