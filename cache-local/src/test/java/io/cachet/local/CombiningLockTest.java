package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The lock under the exact LRU: requests run under it, once each, here or on the holder's thread. */
final class CombiningLockTest {

  /** A request; responses are Strings, never Requests. */
  record Request(String name) {}

  private static final class Server {
    final AtomicInteger inside = new AtomicInteger();
    final Queue<String> servedOn = new ConcurrentLinkedQueue<>();
    volatile boolean overlapped;

    Object serve(Request request) {
      if (inside.incrementAndGet() != 1) {
        overlapped = true;
      }
      servedOn.add(request.name() + "@" + Thread.currentThread().getName());
      inside.decrementAndGet();
      if (request.name().startsWith("fail")) {
        throw new IllegalStateException("server failed " + request.name());
      }
      return "served " + request.name();
    }
  }

  @Test
  void serve_whenFree_runsOnTheCallingThread() {
    Server server = new Server();
    CombiningLock<Request> lock = new CombiningLock<>(Request.class, server::serve);

    assertThat(lock.serve(new Request("a"))).isEqualTo("served a");
    assertThat(server.servedOn).containsExactly("a@" + Thread.currentThread().getName());
  }

  @Test
  void serve_whileHeld_isServedByTheHolderBeforeItReleases() throws Exception {
    Server server = new Server();
    CombiningLock<Request> lock = new CombiningLock<>(Request.class, server::serve);
    lock.lock();
    String holder = Thread.currentThread().getName();
    CompletableFuture<Object> waiter = new CompletableFuture<>();
    Thread reader = new Thread(() -> waiter.complete(lock.serve(new Request("r"))), "reader");
    reader.start();
    // Parked means it spun and yielded first, so its request is published.
    await().atMost(Duration.ofSeconds(10)).until(() -> reader.getState() == Thread.State.TIMED_WAITING);
    assertThat(waiter).isNotDone();
    assertThat(server.servedOn).isEmpty();

    lock.unlock();

    assertThat(server.servedOn).containsExactly("r@" + holder);
    assertThat(waiter.get(10, TimeUnit.SECONDS)).isEqualTo("served r");
    reader.join();
  }

  /** A request type with a subclass, as the LRU's nodes have (nodes with a write time). */
  static class Base {
    final String name;

    Base(String name) {
      this.name = name;
    }
  }

  static final class Derived extends Base {
    Derived(String name) {
      super(name);
    }
  }

  @Test
  void serve_whileHeld_aRequestOfASubclass_isServedByTheHolder() throws Exception {
    CombiningLock<Base> lock = new CombiningLock<>(Base.class, request -> "served " + request.name);
    lock.lock();
    CompletableFuture<Object> waiter = new CompletableFuture<>();
    Thread reader = new Thread(() -> waiter.complete(lock.serve(new Derived("d"))), "reader");
    reader.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> reader.getState() == Thread.State.TIMED_WAITING);

    lock.unlock();

    // Recognised as a request although its class is a subclass: never left unserved in its slot.
    assertThat(waiter.get(10, TimeUnit.SECONDS)).isEqualTo("served d");
    reader.join();
  }

  @Test
  void serve_whenTheServerThrowsOnTheHolder_rethrowsOnTheRequestingThread() throws Exception {
    Server server = new Server();
    CombiningLock<Request> lock = new CombiningLock<>(Request.class, server::serve);
    lock.lock();
    CompletableFuture<Throwable> thrown = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      Object response = lock.serve(new Request("fail-r"));
      try {
        ((CombiningLock.Failure) response).rethrow();
      } catch (RuntimeException e) {
        thrown.complete(e);
      }
    }, "reader");
    reader.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> reader.getState() == Thread.State.TIMED_WAITING);

    lock.unlock(); // the holder itself is unaffected

    assertThat(thrown.get(10, TimeUnit.SECONDS))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("server failed fail-r");
    reader.join();
    assertThat(lock.serve(new Request("after"))).isEqualTo("served after");
  }

  @Test
  void serve_onTheCallingThread_propagatesTheServersException() {
    CombiningLock<Request> lock = new CombiningLock<>(Request.class, new Server()::serve);

    assertThatThrownBy(() -> lock.serve(new Request("fail-here")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("server failed fail-here");
    assertThat(lock.serve(new Request("after"))).isEqualTo("served after"); // released
  }

  @Test
  void manyThreads_everyRequestRunsOnceAndNeverConcurrently() throws Exception {
    int threads = 6;
    int perThread = 50_000;
    Server server = new Server();
    CombiningLock<Request> lock = new CombiningLock<>(Request.class, server::serve);
    long[] counter = new long[1]; // guarded by the lock
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(pool.submit(() -> {
          start.await();
          int wrong = 0;
          for (int i = 0; i < perThread; i++) {
            if (i % 8 == 0) {
              lock.lock();
              try {
                counter[0]++;
              } finally {
                lock.unlock();
              }
            } else {
              String name = thread + "." + i;
              if (!lock.serve(new Request(name)).equals("served " + name)) {
                wrong++;
              }
            }
          }
          return wrong;
        }));
      }
      for (Future<Integer> future : futures) {
        assertThat(future.get(120, TimeUnit.SECONDS)).isZero();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(server.overlapped).isFalse();
    assertThat(server.servedOn).hasSize(threads * perThread * 7 / 8);
    assertThat(counter[0]).isEqualTo(threads * perThread / 8);
  }
}
