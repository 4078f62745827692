package io.cachet.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.CacheLoadException;
import io.cachet.FakeTicker;
import io.cachet.codec.Codecs;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The skeleton's single-flight loads on a map-backed test backend, for what the backend contract
 * cannot reach from outside: what happens between a load's store and its end.
 */
final class LoadsTest {

  private final FakeTicker ticker = new FakeTicker();

  /**
   * A removal overtook the load, so the load takes back the value it stored, even when a write
   * of the key that changed nothing (a putIfAbsent that found the value) began after that store:
   * the value was read before the removal, and must not outlive it.
   */
  @Test
  void loadOvertakenByARemoval_aWriteThatChangedNothingSince_stillTakesBackTheValue() {
    MapCache<String> cache = new MapCache<>(config().build());
    cache.afterStoreLoaded = () -> {
      cache.afterStoreLoaded = null;
      assertThat(cache.putIfAbsent("k", "other")).isFalse();
    };

    String got = cache.get("k", key -> {
      cache.remove("k"); // an application changed its source, then removed the key
      return "read before the change";
    });

    assertThat(got).isEqualTo("read before the change");
    assertThat(cache.get("k")).as("the value the removal outdated").isNull();
  }

  @Test
  void loadOvertakenByARemoval_withNoWriteSince_takesBackTheValueItStored() {
    MapCache<String> cache = new MapCache<>(config().build());

    String got = cache.get("k", key -> {
      cache.remove("k");
      return "v";
    });

    assertThat(got).isEqualTo("v");
    assertThat(cache.get("k")).as("read before the removal: not left in the cache").isNull();
  }

  /** A key whose text cannot be made: its loads still end, and leave nothing behind in flight. */
  @Test
  void keyWhoseToStringThrows_isLoadedAndItsLoadEnds() {
    MapCache<Opaque> cache = new MapCache<>(config().keyCodec(Codecs.javaSerialization(Opaque.class)).build());
    Opaque key = new Opaque(1);

    assertThat(cache.get(key, k -> "v")).isEqualTo("v");
    cache.remove(key);
    assertThat(cache.get(key, k -> "w")).as("a second load of the key: none left in flight").isEqualTo("w");
    assertThat(cache.getAll(Set.of(new Opaque(2)), keys -> Map.of(new Opaque(2), "x")))
        .containsEntry(new Opaque(2), "x");
    assertThatThrownBy(() -> cache.get(new Opaque(3), k -> {
      throw new IllegalStateException("source down");
    })).isInstanceOf(CacheLoadException.class)
        .hasMessageContaining("whose toString() failed").hasMessageContaining("source down");
    assertThat(cache.get(new Opaque(3), k -> "y")).isEqualTo("y");
  }

  /** A key whose text includes itself: its loads end too, whatever its toString throws. */
  @Test
  void keyWhoseToStringOverflowsTheStack_failsItsLoadNamingItsClass_andLeavesNothingInFlight() {
    MapCache<Recursive> cache = new MapCache<>(config().keyCodec(Codecs.javaSerialization(Recursive.class)).build());
    Recursive key = new Recursive(1);

    assertThatThrownBy(() -> cache.get(key, k -> {
      throw new IllegalStateException("source down");
    })).isInstanceOf(CacheLoadException.class).hasMessageContaining("whose toString() failed");
    assertThat(cache.get(key, k -> "v")).isEqualTo("v");
  }

  /**
   * A caller interrupted while it waits for another's load counts no read: its wait was cut
   * short, the load goes on, and its loader counts the one miss.
   */
  @Test
  void callerInterruptedWhileItWaitsForALoad_countsNothing() throws Exception {
    MapCache<String> cache = new MapCache<>(config().build());
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<String> loading = pool.submit(() -> cache.get("k", key -> {
        entered.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
        return "loaded";
      }));
      assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Throwable> outcome = new CompletableFuture<>();
      Thread waiter = new Thread(() -> outcome.complete(
          org.assertj.core.api.Assertions.catchThrowable(() -> cache.get("k", key -> "a second load"))));
      waiter.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (waiter.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // until it parks in its wait
      }
      assertThat(waiter.getState()).isEqualTo(Thread.State.WAITING);
      waiter.interrupt();

      assertThat(outcome.get(30, TimeUnit.SECONDS)).isInstanceOf(CacheLoadException.class)
          .hasCauseInstanceOf(InterruptedException.class);
      release.countDown();
      assertThat(loading.get(30, TimeUnit.SECONDS)).isEqualTo("loaded");
      assertThat(cache.stats().missCount()).as("the loader's").isEqualTo(1);
      assertThat(cache.stats().hitCount()).isZero();
    } finally {
      release.countDown();
      pool.shutdownNow();
    }
  }

  private CacheConfig.Builder<String, String> config() {
    return CacheConfig.builder("loads").ticker(ticker).clock(ticker).executor(Runnable::run);
  }

  /** A key whose {@code toString} calls itself. */
  record Recursive(int id) implements java.io.Serializable {
    @Override
    public String toString() {
      return "Recursive[" + this + "]";
    }
  }

  /** A key whose {@code toString} fails. */
  record Opaque(int id) implements java.io.Serializable {
    @Override
    public String toString() {
      throw new UnsupportedOperationException("no text for this key");
    }
  }
}
