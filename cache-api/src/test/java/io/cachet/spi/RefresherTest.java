package io.cachet.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cachet.AsyncCache;
import io.cachet.CacheLoadException;
import io.cachet.CacheConfig;
import io.cachet.CacheStats;
import io.cachet.FakeTicker;
import io.cachet.metrics.CacheMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The SPI's refresh, and a load a removal overtook, on a minimal map-backed cache, with fake time
 * and a queueing executor.
 */
final class RefresherTest {

  private final FakeTicker ticker = new FakeTicker();
  private final Queue<Runnable> tasks = new ArrayDeque<>();
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(Refresher.class);

  @BeforeEach
  void captureLog() {
    logged.start();
    logger.addAppender(logged);
  }

  @AfterEach
  void releaseLog() {
    logger.detachAppender(logged);
  }

  private MapCache<String> newCache(Executor executor) {
    return new MapCache<>(CacheConfig.builder("refreshing")
        .refreshAfterWrite(Duration.ofMinutes(1))
        .ticker(ticker)
        .clock(ticker)
        .executor(executor)
        .build());
  }

  private void runTasks() {
    for (Runnable task; (task = tasks.poll()) != null; ) {
      task.run();
    }
  }

  @Test
  void failingReloads_loggedAtWarnAtMostOncePer10sWithTheCountHeldBack() {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    for (int i = 0; i < 3; i++) {
      assertThat(cache.get("k", key -> { throw new IllegalStateException("down"); })).isEqualTo("old");
      runTasks();
    }
    assertThat(warnings()).hasSize(1);
    assertThat(warnings().get(0).getFormattedMessage())
        .contains("'refreshing'", "'k'", "keeps serving its old value", "0 more refresh failures");
    assertThat(warnings().get(0).getThrowableProxy().getMessage()).contains("down");
    ticker.advance(Duration.ofSeconds(10));
    cache.get("k", key -> { throw new IllegalStateException("down"); });
    runTasks();
    assertThat(warnings()).hasSize(2);
    assertThat(warnings().get(1).getFormattedMessage()).contains("2 more refresh failures");
    assertThat(cache.stats().loadFailureCount()).isEqualTo(4);
    assertThat(cache.get("k")).isEqualTo("old");
  }

  @Test
  void failingReload_countedByTheMicrometerLoadFailureMeter() {
    MapCache<String> cache = newCache(tasks::add);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    CacheMetrics.monitor(registry, cache);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    cache.get("k", key -> { throw new IllegalStateException("down"); });
    runTasks();
    assertThat(registry.get("cache.load").tag("result", "failure").functionCounter().count()).isEqualTo(1);
  }

  @Test
  void rejectedReload_keepsOldValueCountedAndLogged() {
    MapCache<String> cache = newCache(task -> { throw new RejectedExecutionException("full"); });
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    assertThat(cache.get("k", key -> "new")).isEqualTo("old");
    assertThat(cache.get("k")).isEqualTo("old");
    assertThat(cache.stats().loadFailureCount()).isEqualTo(1);
    assertThat(warnings()).hasSize(1);
    // Nothing was left registered: the next stale read tries again.
    assertThat(cache.get("k", key -> "new")).isEqualTo("old");
    assertThat(cache.stats().loadFailureCount()).isEqualTo(2);
  }

  @Test
  void executorThrowingAnError_leavesNothingInFlight_soTheNextStaleReadReloads() {
    java.util.concurrent.atomic.AtomicBoolean broken = new java.util.concurrent.atomic.AtomicBoolean(true);
    MapCache<String> cache = newCache(task -> {
      if (broken.getAndSet(false)) {
        throw new OutOfMemoryError("unable to create native thread");
      }
      tasks.add(task);
    });
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));

    assertThatThrownBy(() -> cache.get("k", key -> "new")).isInstanceOf(OutOfMemoryError.class);
    assertThat(cache.get("k")).isEqualTo("old");
    assertThat(cache.stats().loadFailureCount()).isEqualTo(1);

    assertThat(cache.get("k", key -> "new")).isEqualTo("old");
    runTasks();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  void reloadThrowingAnError_keepsOldValueAndLetsTheNextReadReloadAgain() {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    cache.get("k", key -> { throw new StackOverflowError("deep"); });
    try {
      runTasks();
    } catch (StackOverflowError expected) {
      // reaches the executor's thread
    }
    assertThat(cache.get("k")).isEqualTo("old");
    cache.get("k", key -> "new");
    runTasks();
    assertThat(cache.get("k")).isEqualTo("new");
  }

  @Test
  void reloadThrowingAnErrorOnTheCallersThread_isCountedOnceAsAFailedReload() {
    MapCache<String> cache = newCache(Runnable::run);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));

    assertThatThrownBy(() -> cache.get("k", key -> { throw new StackOverflowError("deep"); }))
        .isInstanceOf(StackOverflowError.class);

    assertThat(cache.stats().loadFailureCount()).isEqualTo(1);
    assertThat(warnings()).singleElement()
        .satisfies(e -> assertThat(e.getThrowableProxy().getMessage()).contains("deep"));
    assertThat(cache.get("k")).isEqualTo("old");
  }

  @Test
  void loadOvertakenByARemoval_whoseUndoFails_stillHandsItsCallerTheValue() throws Exception {
    Logger loads = (Logger) LoggerFactory.getLogger(Loads.class);
    loads.addAppender(logged);
    MapCache<String> cache = newCache(tasks::add);
    cache.removeIfEqualFails = true;
    java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CompletableFuture<String> load = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> cache.get("k", key -> {
          entered.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
          return "read before the removal";
        }));
    assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    cache.remove("k");
    release.countDown();

    assertThat(load.get(10, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("read before the removal");
    assertThat(warnings()).singleElement()
        .satisfies(e -> assertThat(e.getFormattedMessage()).contains("could not remove the value of key 'k'"));
    loads.detachAppender(logged);
  }

  @Test
  void successfulReload_isALoadAndAPutAndLogsNothing() {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    AtomicInteger calls = new AtomicInteger();
    for (int i = 0; i < 5; i++) {
      assertThat(cache.get("k", key -> "new" + calls.incrementAndGet())).isEqualTo("old");
    }
    assertThat(tasks).hasSize(1);
    runTasks();
    assertThat(cache.get("k")).isEqualTo("new1");
    CacheStats stats = cache.stats();
    assertThat(stats.loadSuccessCount()).isEqualTo(1);
    assertThat(stats.putCount()).isEqualTo(2);
    assertThat(warnings()).isEmpty();
  }

  @Test
  void closedWhileReloading_storesNothingAndLogsNothing() {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    cache.get("k", key -> "new");
    cache.close();
    runTasks();
    assertThat(cache.map.get("k").value()).isEqualTo("old");
    assertThat(warnings()).isEmpty();
  }

  private java.util.List<ILoggingEvent> warnings() {
    return logged.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
  }

  /** A cache over a map of values with their write times; just enough for refresh. */
  /**
   * An executor that drops a task without a word (a discarding rejection policy) leaves a reload
   * that never runs: a later miss of the key must load it, not wait for that reload for ever.
   */
  @Test
  void aReloadTheExecutorDrops_doesNotHoldUpALaterMiss() {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    assertThat(cache.get("k", key -> "reloaded")).isEqualTo("old");
    assertThat(tasks).hasSize(1);
    tasks.clear(); // dropped
    cache.remove("k");

    String loaded = assertTimeoutPreemptively(Loads.QUEUED_RELOAD_PATIENCE.plusSeconds(4),
        () -> cache.get("k", key -> "fresh"));

    assertThat(loaded).isEqualTo("fresh");
    assertThat(cache.get("k")).isEqualTo("fresh");
  }

  /**
   * A caller that waited for a queued reload which another miss then replaced must not take the
   * replaced reload's empty outcome for the key's: it waits for the load that replaced it.
   */
  @Test
  void aWaiterForAReplacedReload_getsTheValueOfTheLoadThatReplacedIt() throws Exception {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    cache.get("k", key -> "reloaded"); // the reload, queued
    cache.map.remove("k"); // gone without a removal (evicted, say)
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger loaderCalls = new AtomicInteger();
    java.util.function.Function<String, String> loader = key -> {
      loaderCalls.incrementAndGet();
      loading.countDown();
      await(release);
      return "loaded";
    };
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      // Both wait for the queued reload; whichever gives up on it first takes it over and loads,
      // and the other, woken by the take-over, must wait for that load, not return nothing.
      Future<String> first = pool.submit(() -> cache.get("k", loader));
      Thread.sleep(300); // the second starts waiting a little later
      Future<String> second = pool.submit(() -> cache.get("k", loader));
      assertThat(loading.await(10, TimeUnit.SECONDS)).as("one took the reload over").isTrue();
      runTasks(); // the reload taken over starts, and does nothing
      release.countDown();
      assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("loaded");
      assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("loaded");
      assertThat(loaderCalls).as("one load for both").hasValue(1);
    } finally {
      pool.shutdownNow();
    }
  }

  /** ... nor stop the key from being refreshed again, once a refresh interval has passed. */
  @Test
  void aReloadTheExecutorDrops_isQueuedAgainAfterARefreshInterval() {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    cache.get("k", key -> "reloaded");
    tasks.clear(); // dropped
    cache.get("k", key -> "reloaded");
    assertThat(tasks).as("a reload is taken as in flight for one refresh interval").isEmpty();

    ticker.advance(Duration.ofMinutes(1));
    assertThat(cache.get("k", key -> "reloaded")).isEqualTo("old");
    assertThat(tasks).hasSize(1);
    runTasks();
    assertThat(cache.get("k")).isEqualTo("reloaded");
  }

  /** A loader throwing InterruptedException (around the compiler) cleared the flag: it is set again. */
  @Test
  void aLoaderThrowingInterruptedException_leavesTheThreadInterrupted() {
    MapCache<String> cache = newCache(tasks::add);
    try {
      assertThatThrownBy(() -> cache.get("k", key -> { throw sneaky(new InterruptedException("stop")); }))
          .isInstanceOf(CacheLoadException.class).hasCauseInstanceOf(InterruptedException.class);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  /** Callers waiting for another's load get the loader's own {@link CacheLoadException} subclass. */
  @Test
  void aWaiterForAFailedLoad_getsTheLoadersOwnExceptionType() throws Exception {
    MapCache<String> cache = newCache(tasks::add);
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch fail = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<?> owner = pool.submit(() -> cache.get("k", key -> {
        loading.countDown();
        await(fail);
        throw new NotFound("no such k");
      }));
      assertThat(loading.await(5, TimeUnit.SECONDS)).isTrue();
      AtomicReference<Throwable> waited = new AtomicReference<>();
      Thread waiter = new Thread(() -> {
        try {
          cache.get("k", key -> "never");
        } catch (Throwable t) {
          waited.set(t);
        }
      });
      waiter.start();
      for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
          waiter.getState() != Thread.State.WAITING && System.nanoTime() < end; ) {
        Thread.onSpinWait(); // until it waits for the owner's load
      }
      assertThat(waiter.getState()).isEqualTo(Thread.State.WAITING);
      fail.countDown();
      waiter.join(5_000);
      assertThat(waited.get()).isInstanceOf(NotFound.class).hasMessage("no such k");
      assertThatThrownBy(owner::get).hasCauseInstanceOf(NotFound.class);
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A key the bulk loader returned without being asked for it, read before a removal of the key
   * that ran while the loader did: it must not be left cached after the removal.
   */
  @Test
  void aKeyABulkLoaderReturnsUnasked_removedWhileItRan_isNotLeftCached() {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("b", "b-v1");

    Map<String, String> got = cache.getAll(Set.of("a"), keys -> {
      Map<String, String> rows = Map.of("a", "a-v1", "b", cache.get("b")); // read b...
      cache.remove("b"); // ... then its writer removes it
      return rows;
    });

    assertThat(got).containsExactly(Map.entry("a", "a-v1"));
    assertThat(cache.get("b")).isNull();
  }

  @Test
  void aKeyABulkLoaderReturnsUnasked_withoutARemoval_isStored() {
    MapCache<String> cache = newCache(tasks::add);
    cache.getAll(Set.of("a"), keys -> Map.of("a", "a-v1", "b", "b-v1"));
    assertThat(cache.get("b")).isEqualTo("b-v1");
  }

  /**
   * A queued reload is either started by the executor or taken over by a caller, never both: the
   * two race for one compare-and-set, so a reload taken over never runs its loader beside the
   * caller's load.
   */
  @Test
  void aQueuedReload_isStartedOrTakenOver_notBoth() {
    Load<String> taken = new Load<>(null);
    assertThat(taken.claim()).isTrue();
    assertThat(taken.start(Thread.currentThread())).as("the executor, after the take-over").isFalse();
    assertThat(taken.isVoid()).as("its waiters load afresh").isTrue();
    assertThat(taken.future).isCompletedWithValue(null);

    Load<String> started = new Load<>(null);
    assertThat(started.start(Thread.currentThread())).isTrue();
    assertThat(started.claim()).as("a caller, after the start").isFalse();
    assertThat(started.future).isNotDone();
  }

  /**
   * The instant a caller takes a queued reload over, before the reload's future completes: a miss
   * that finds it then must not wait for it as for a value (it completes with none) but load the
   * key. The state is built by hand, as the take-over's compare-and-set leaves it.
   */
  @Test
  void aMissFindingAReloadJustTakenOver_loadsTheKey_notNull() throws Exception {
    MapCache<String> cache = newCache(tasks::add);
    Load<String> takenOver = new Load<>(null);
    Field claimed = Load.class.getDeclaredField("CLAIMED");
    claimed.setAccessible(true);
    Field owner = Load.class.getDeclaredField("owner");
    owner.setAccessible(true);
    owner.set(takenOver, claimed.get(null)); // the compare-and-set done, the future not yet completed
    loadsOf(cache).put("k", takenOver);

    FutureTask<String> miss = new FutureTask<>(() -> cache.get("k", key -> "loaded"));
    Thread missing = new Thread(miss);
    missing.start();
    awaitWaiting(missing);
    loadsOf(cache).remove("k", takenOver); // the taker's own load would replace it
    takenOver.future.complete(null); // the take-over completes it with no value

    assertThat(miss.get(10, TimeUnit.SECONDS)).isEqualTo("loaded");
  }

  /**
   * A miss shares a running reload's value. When the entry left while the reload ran (evicted,
   * expired), the reload's value must still end up cached: the miss returned it as the key's.
   */
  @Test
  void aMissSharingAReloadWhoseEntryLeft_getsItsValue_andTheCacheHoldsIt() throws Exception {
    MapCache<String> cache = newCache(tasks::add);
    cache.local = true; // an entry that left without a removal here was evicted or expired
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    CountDownLatch reloading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    java.util.function.Function<String, String> loader = key -> {
      if (calls.incrementAndGet() == 1) {
        reloading.countDown();
        await(release);
      }
      return "v" + calls.get();
    };
    assertThat(cache.get("k", loader)).isEqualTo("old"); // the reload, queued
    Thread executor = new Thread(tasks.poll());
    executor.start();
    assertThat(reloading.await(10, TimeUnit.SECONDS)).isTrue();
    cache.map.remove("k"); // gone while the reload runs, without a removal (evicted, expired)
    FutureTask<String> miss = new FutureTask<>(() -> cache.get("k", loader));
    Thread missing = new Thread(miss);
    missing.start();
    awaitWaiting(missing); // for the reload, as a miss during a reload does
    release.countDown();

    assertThat(miss.get(10, TimeUnit.SECONDS)).isEqualTo("v1");
    executor.join(10_000);
    assertThat(cache.get("k")).as("what the miss returned is cached").isEqualTo("v1");
    assertThat(calls).as("one load for both").hasValue(1);
  }

  /**
   * On a remote backend an entry that left while its reload ran may have been removed by another
   * process, after the reload read its source: the reload must not store its value again (for
   * every process); a miss that shared it still gets it, as after a removal here.
   */
  @Test
  void aReloadWhoseEntryLeftOnARemoteBackend_storesNothing() throws Exception {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    CountDownLatch reloading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    assertThat(cache.get("k", key -> {
      reloading.countDown();
      await(release);
      return "read before the other process's removal";
    })).isEqualTo("old");
    Thread executor = new Thread(tasks.poll());
    executor.start();
    assertThat(reloading.await(10, TimeUnit.SECONDS)).isTrue();
    cache.map.remove("k"); // removed by another process: no removal through this cache
    release.countDown();
    executor.join(10_000);

    assertThat(cache.get("k")).isNull();
  }

  /** ... and when the entry was written meanwhile, the miss gets the written value, not the reload's. */
  @Test
  void aMissSharingAReloadOvertakenByAPut_getsThePutsValue() throws Exception {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    CountDownLatch reloading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    assertThat(cache.get("k", key -> {
      reloading.countDown();
      await(release);
      return "reloaded before the put";
    })).isEqualTo("old");
    Thread executor = new Thread(tasks.poll());
    executor.start();
    assertThat(reloading.await(10, TimeUnit.SECONDS)).isTrue();
    cache.map.remove("k"); // gone (evicted), then written again by another caller
    FutureTask<String> miss = new FutureTask<>(() -> cache.get("k", key -> "loaded"));
    Thread missing = new Thread(miss);
    missing.start();
    awaitWaiting(missing);
    cache.put("k", "put");
    release.countDown();

    assertThat(miss.get(10, TimeUnit.SECONDS)).isEqualTo("put");
    executor.join(10_000);
    assertThat(cache.get("k")).isEqualTo("put");
  }

  /**
   * An executor that takes its time and then rejects the reload (a bounded hand-off with a
   * timeout): a miss that waited for that reload meanwhile loads the key itself, not fail.
   */
  @Test
  void aMissWaitingForAReloadTheExecutorThenRejects_loadsTheKey() throws Exception {
    CountDownLatch handingOff = new CountDownLatch(1);
    CountDownLatch reject = new CountDownLatch(1);
    MapCache<String> cache = newCache(task -> {
      handingOff.countDown();
      await(reject);
      throw new RejectedExecutionException("full");
    });
    cache.put("k", "old");
    ticker.advance(Duration.ofMinutes(2));
    FutureTask<String> stale = new FutureTask<>(() -> cache.get("k", key -> "reloaded"));
    new Thread(stale).start();
    assertThat(handingOff.await(10, TimeUnit.SECONDS)).isTrue();
    cache.map.remove("k"); // evicted
    FutureTask<String> miss = new FutureTask<>(() -> cache.get("k", key -> "loaded"));
    Thread missing = new Thread(miss);
    missing.start();
    awaitWaiting(missing);
    reject.countDown();

    assertThat(stale.get(10, TimeUnit.SECONDS)).isEqualTo("old");
    assertThat(miss.get(10, TimeUnit.SECONDS)).isEqualTo("loaded");
    assertThat(cache.stats().loadFailureCount()).as("the rejected reload").isEqualTo(1);
    assertThat(warnings()).hasSize(1);
  }

  /**
   * A load that stored nothing, because a write came first, must not undo that write, even when the
   * writer put the very instance the loader returns (a shared placeholder, an interned string).
   */
  @Test
  void aLoadOvertakenByARemovalThenAWriteOfTheSameInstance_leavesTheWrite() {
    MapCache<String> cache = newCache(Runnable::run);
    String shared = "present";
    String got = cache.get("k", key -> {
      cache.remove("k");
      cache.put("k", shared);
      return shared;
    });
    assertThat(got).isEqualTo("present");
    assertThat(cache.get("k")).as("the write stays").isEqualTo("present");
  }

  /** A removal makes a reload the executor has not started void: it is taken out of the map at once. */
  @Test
  void aQueuedReload_isDroppedByARemovalOrAClear_soNoMissWaitsForIt() {
    MapCache<String> cache = newCache(tasks::add);
    cache.put("a", "old");
    cache.put("b", "old");
    ticker.advance(Duration.ofMinutes(2));
    cache.get("a", key -> "reloaded");
    cache.get("b", key -> "reloaded");
    assertThat(loadsOf(cache)).containsOnlyKeys("a", "b");

    cache.remove("a");
    assertThat(loadsOf(cache)).containsOnlyKeys("b");
    cache.clear();
    assertThat(loadsOf(cache)).isEmpty();
    runTasks(); // the dropped reloads, should the executor still run them: they do nothing
    assertThat(cache.get("a")).isNull();
  }

  /**
   * An executor that drops reloads leaves one registered per key read while stale; keys evicted
   * since may never be read again, so they are swept out once they count as dropped.
   */
  @Test
  void reloadsTheExecutorDropped_forKeysNeverReadAgain_areSweptOut() {
    MapCache<String> cache = newCache(tasks::add);
    for (int i = 0; i < Refresher.SWEEP_EVERY; i++) {
      cache.put("k" + i, "old");
    }
    ticker.advance(Duration.ofMinutes(2));
    for (int i = 0; i < Refresher.SWEEP_EVERY - 1; i++) {
      cache.get("k" + i, key -> "reloaded");
    }
    tasks.clear(); // dropped
    cache.map.clear(); // evicted, without a removal
    assertThat(loadsOf(cache)).hasSize(Refresher.SWEEP_EVERY - 1);

    ticker.advance(Refresher.STALLED_RELOAD);
    cache.put("other", "old");
    ticker.advance(Duration.ofMinutes(2));
    cache.get("other", key -> "reloaded"); // the reload that makes a sweep due

    assertThat(loadsOf(cache)).containsOnlyKeys("other");
  }

  /** A miss arriving after a load failed, before its owner took it out of the map, loads again. */
  @Test
  void bulkLoad_onABackendWhoseGetAllAnswersAMapItCannotChange_addsTheLoadedKeysToACopy() {
    MapCache<String> cache = newCache(Runnable::run);
    cache.unmodifiableGetAll = true;
    cache.put("present", "p");

    Map<String, String> all = cache.getAll(
        List.of("present", "missing"), missing -> Map.of("missing", "loaded"));

    assertThat(all).containsExactly(Map.entry("present", "p"), Map.entry("missing", "loaded"));
    assertThat(cache.get("missing")).isEqualTo("loaded");
  }

  @Test
  void aMissFindingAFailedLoadStillRegistered_loadsAgain() {
    MapCache<String> cache = newCache(Runnable::run);
    Load<String> failed = new Load<>(new Thread("ended"));
    failed.future.completeExceptionally(new IllegalStateException("down"));
    loadsOf(cache).put("k", failed);
    Load<String> empty = new Load<>(new Thread("ended"));
    empty.future.complete(null);
    loadsOf(cache).put("e", empty);

    assertThat(cache.get("k", key -> "fresh")).isEqualTo("fresh");
    assertThat(cache.get("e", key -> "fresh")).isEqualTo("fresh");
  }

  /** The cache's registered loads and reloads, by key. */
  @SuppressWarnings("unchecked")
  private static Map<String, Load<String>> loadsOf(MapCache<String> cache) {
    return cache.loads.inFlight();
  }

  /** Waits until {@code thread} waits (for another's load), at most 10 s. */
  private static void awaitWaiting(Thread thread) {
    for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        thread.getState() != Thread.State.WAITING && thread.getState() != Thread.State.TIMED_WAITING
            && System.nanoTime() < end; ) {
      Thread.onSpinWait();
    }
    assertThat(thread.getState()).isIn(Thread.State.WAITING, Thread.State.TIMED_WAITING);
  }

  /** A loader's own failure type. */
  static final class NotFound extends CacheLoadException {
    private static final long serialVersionUID = 1L;

    NotFound(String message) {
      super(message, null);
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Throws {@code t}, checked or not, without declaring it, as Kotlin or Lombok's {@code @SneakyThrows} do. */
  @SuppressWarnings("unchecked")
  private static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
    throw (T) t;
  }
}
