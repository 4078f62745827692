package io.cachet.testkit;

import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.FakeTicker;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The behaviour every Cachet backend must show, as one JUnit 5 suite.
 *
 * <p>A backend's test extends this class and says how to configure a cache of its kind:
 *
 * <pre>{@code
 * final class LruCacheContractTest extends AbstractCacheContractTest {
 *   @Override
 *   protected void configure(CacheConfig.Builder<String, String> builder) {
 *     builder.evictionPolicy(EvictionPolicy.LRU);
 *   }
 * }
 * }</pre>
 *
 * <p>Caches are built with a {@link FakeTicker} (as both ticker and clock) and a same-thread
 * executor (which the refresh cases switch to queueing, to see a reload before it runs); expiry tests call {@link #elapse(Duration)}, which advances the ticker. Backends whose
 * expiry is decided elsewhere (a server's clock) override {@link #elapse(Duration)} and
 * {@link #ttlUnit()}. Keys and values are strings.
 *
 * <p>The cases are grouped by topic in package-private test interfaces (map operations, expiry,
 * loading, bulk loading, refresh, bad input, lifecycle, statistics) whose default {@code @Test}
 * methods reach this class's cache factory, clock and executor through {@link #contract()}; this
 * class implements them all, so a subclass runs every case.
 */
public abstract class AbstractCacheContractTest
    implements CoreOperationsContract,
        ExpiryContract,
        LoadingContract,
        BulkLoadingContract,
        RefreshContract,
        InputContract,
        LifecycleContract,
        StatsContract {

  /** The fake time every cache of this suite reads. */
  protected final FakeTicker ticker = new FakeTicker();

  /** The manager of this test's caches, closed after each test. */
  protected CacheManager manager;

  private final AtomicInteger names = new AtomicInteger();
  /** Runs the caches' tasks on the caller's thread, or queues them once a refresh case defers. */
  final DeferringExecutor executor = new DeferringExecutor();

  /** Sets the backend and its options on {@code builder}; must not set the ticker, clock or executor. */
  protected abstract void configure(CacheConfig.Builder<String, String> builder);

  /** Returns the manager the caches are created in; a default manager unless overridden. */
  protected CacheManager createManager() {
    return CacheManager.create();
  }

  /** Lets {@code duration} pass for the caches under test; advances the fake ticker by default. */
  protected void elapse(Duration duration) {
    ticker.advance(duration);
  }

  /** The unit of the expiry tests' durations; one minute unless a backend needs real time. */
  protected Duration ttlUnit() {
    return Duration.ofMinutes(1);
  }

  @BeforeEach
  void createManagerForTest() {
    manager = createManager();
  }

  @AfterEach
  void closeManager() {
    manager.close();
  }

  /** Creates a cache of the backend under test, after applying {@code options}. */
  protected Cache<String, String> newCache(Consumer<CacheConfig.Builder<String, String>> options) {
    CacheConfig.Builder<String, String> builder =
        CacheConfig.builder(getClass().getSimpleName() + "-" + names.incrementAndGet())
            .ticker(ticker)
            .clock(ticker)
            .executor(executor);
    options.accept(builder);
    configure(builder);
    return manager.create(builder.build());
  }

  /** Creates a cache of the backend under test with default options. */
  protected Cache<String, String> newCache() {
    return newCache(b -> {});
  }

  /** Returns this test, through which the contract's topics reach its caches, clock and executor. */
  @Override
  public final AbstractCacheContractTest contract() {
    return this;
  }

  /**
   * Returns whether {@code thread} is parked waiting for another caller's load: by default, inside
   * the SPI skeleton's single flight ({@code io.cachet.spi.Loads}, in {@code await} or
   * {@code awaitEnd}). A backend that does not
   * extend it overrides this to recognise its own wait.
   */
  protected boolean waitsForALoad(Thread thread) {
    Thread.State state = thread.getState();
    if (state != Thread.State.WAITING && state != Thread.State.TIMED_WAITING) {
      return false; // a miss waits for a queued reload with a bound (one second, in the shared skeleton)
    }
    for (StackTraceElement frame : thread.getStackTrace()) {
      if (frame.getClassName().equals("io.cachet.spi.Loads") && frame.getMethodName().startsWith("await")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Runs {@code call} on a thread of its own and returns once it has finished or is waiting for
   * another caller's load ({@link #waitsForALoad}); its outcome completes the returned future.
   */
  protected <T> CompletableFuture<T> callUntilItWaitsForALoad(java.util.concurrent.Callable<T> call) {
    CompletableFuture<T> outcome = new CompletableFuture<>();
    Thread caller = new Thread(() -> {
      try {
        outcome.complete(call.call());
      } catch (Throwable t) {
        outcome.completeExceptionally(t);
      }
    });
    caller.start();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> outcome.isDone() || waitsForALoad(caller));
    return outcome;
  }

  /** Waits for {@code latch}, failing the test after a generous deadline instead of hanging it. */
  protected static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("timed out waiting for a latch");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
