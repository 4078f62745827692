package io.cachet.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.cachet.BackendUnavailableException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class CommandTimeoutsTest {

  private static final long SHORT = TimeUnit.MILLISECONDS.toNanos(20);
  private static final long HOUR = TimeUnit.HOURS.toNanos(1);

  private final CommandTimeouts timeouts = new CommandTimeouts("Redis client for test");

  @AfterEach
  void close() {
    timeouts.close();
  }

  @Test
  void bound_unanswered_failsWithAStacklessTimeout_onTheCompletionPool() throws Exception {
    AtomicReference<String> completedOn = new AtomicReference<>();
    CompletableFuture<String> future = timeouts.bound(new CompletableFuture<>(), SHORT);
    AtomicReference<Throwable> seen = new AtomicReference<>();
    CompletableFuture<String> dependent = future.thenApply(v -> v).whenComplete((r, e) -> {
      completedOn.set(Thread.currentThread().getName());
      seen.set(e);
    });

    await().atMost(Duration.ofSeconds(10)).until(dependent::isDone);
    Throwable cause = causeOf(future);
    assertThat(cause).isInstanceOf(TimeoutException.class).hasMessage("no reply within PT0.02S");
    assertThat(cause.getStackTrace()).isEmpty();
    // Dependent stages pass the one stackless wrapper on instead of each making its own.
    assertThat(seen.get()).isInstanceOf(CompletionException.class).hasCause(cause);
    assertThat(seen.get().getStackTrace()).isEmpty();
    assertThat(completedOn.get()).startsWith("cachet-redis-completions-").doesNotContain("timeouts");
  }

  @Test
  void bound_answeredFirst_leavesTheTimerQueue() {
    List<CompletableFuture<String>> futures = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      futures.add(timeouts.bound(new CompletableFuture<>(), HOUR));
    }
    assertThat(timeouts.pendingDeadlines()).isEqualTo(1_000);
    futures.forEach(f -> f.complete("v"));
    assertThat(timeouts.pendingDeadlines()).isZero();
    assertThat(futures).allMatch(f -> "v".equals(f.join()));
  }

  @Test
  void bound_failedFirst_leavesTheTimerQueueToo() {
    CompletableFuture<String> future = timeouts.bound(new CompletableFuture<>(), HOUR);
    future.completeExceptionally(new IllegalStateException("error reply"));
    assertThat(timeouts.pendingDeadlines()).isZero();
  }

  @Test
  void bound_alreadyComplete_setsNoDeadline() {
    CompletableFuture<String> done = CompletableFuture.completedFuture("v");
    assertThat(timeouts.bound(done, SHORT)).isSameAs(done);
    assertThat(timeouts.pendingDeadlines()).isZero();
  }

  @Test
  void timeoutsOfABurst_completeInParallel_notOneAfterAnother() {
    // Each failure's continuation waits for the other's: only two threads completing at once get
    // both done. On a single timer thread both would wait out the latch's 10 s and fail.
    CountDownLatch bothRunning = new CountDownLatch(2);
    List<CompletableFuture<Boolean>> met = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      met.add(timeouts.bound(new CompletableFuture<String>(), SHORT).handle((r, e) -> {
        bothRunning.countDown();
        try {
          return bothRunning.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return false;
        }
      }));
    }
    await().atMost(Duration.ofSeconds(15)).until(() -> met.stream().allMatch(CompletableFuture::isDone));
    assertThat(met).allMatch(CompletableFuture::join);
  }

  @Test
  void fail_completesOnThePool() {
    AtomicReference<String> completedOn = new AtomicReference<>();
    CompletableFuture<String> future = new CompletableFuture<>();
    CompletableFuture<String> dependent = future.whenComplete((r, e) -> completedOn.set(Thread.currentThread().getName()));
    timeouts.fail(future, new IllegalStateException("boom"));
    await().atMost(Duration.ofSeconds(10)).until(dependent::isDone);
    assertThat(completedOn.get()).startsWith("cachet-redis-completions-");
  }

  @Test
  void later_runsTheTaskOnThePool() {
    AtomicReference<String> ranOn = new AtomicReference<>();
    timeouts.later(1, () -> ranOn.set(Thread.currentThread().getName()));
    await().atMost(Duration.ofSeconds(10)).until(() -> ranOn.get() != null);
    assertThat(ranOn.get()).startsWith("cachet-redis-completions-");
  }

  @Test
  void close_deadlinesAlreadySetStillFire_andNewOnesFailAtOnceNamingTheClient() throws Exception {
    CompletableFuture<String> inFlight = timeouts.bound(new CompletableFuture<>(), SHORT);
    timeouts.close();
    await().atMost(Duration.ofSeconds(10)).until(inFlight::isDone);
    assertThat(causeOf(inFlight)).isInstanceOf(TimeoutException.class);

    CompletableFuture<String> after = timeouts.bound(new CompletableFuture<>(), HOUR);
    assertThat(after).isCompletedExceptionally();
    assertThat(causeOf(after)).isInstanceOf(BackendUnavailableException.class).hasMessage("Redis client for test is closed");
  }

  private static Throwable causeOf(CompletableFuture<?> future) throws InterruptedException {
    try {
      future.get(10, TimeUnit.SECONDS);
      throw new AssertionError("completed normally");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("not completed", e);
    }
  }
}
