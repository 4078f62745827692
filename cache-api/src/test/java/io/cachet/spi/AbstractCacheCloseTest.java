package io.cachet.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** {@link AbstractCache#close()} when two threads close one cache, or the release closes it again. */
final class AbstractCacheCloseTest {

  private final List<String> events = new CopyOnWriteArrayList<>();

  /**
   * The manager closes its shared clients right after its own {@code close()} of each cache: that
   * call must not return while another thread's close still releases the backend on them.
   */
  @Test
  void closeWhileAnotherThreadReleases_returnsOnceTheReleaseIsDone() throws Exception {
    MapCache<String> cache = new MapCache<>(CacheConfig.builder("closing").build());
    CountDownLatch releasing = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    cache.onRelease = () -> {
      releasing.countDown();
      try {
        finish.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      events.add("released");
    };
    CompletableFuture<Void> first = CompletableFuture.runAsync(cache::close);
    assertThat(releasing.await(30, TimeUnit.SECONDS)).isTrue();

    CompletableFuture<Void> second = CompletableFuture.runAsync(() -> {
      cache.close();
      events.add("second close returned");
    });
    try {
      assertThatThrownBy(() -> second.get(300, TimeUnit.MILLISECONDS))
          .as("still releasing").isInstanceOf(TimeoutException.class);
      assertThat(cache.isClosed()).isTrue();
    } finally {
      finish.countDown();
    }
    second.get(30, TimeUnit.SECONDS);
    first.get(30, TimeUnit.SECONDS);
    assertThat(events).containsExactly("released", "second close returned");
  }

  @Test
  void closeFromInsideTheRelease_returnsAtOnce() {
    MapCache<String> cache = new MapCache<>(CacheConfig.builder("reentrant").build());
    cache.onRelease = () -> {
      cache.close(); // a hook or listener of the release closing the cache again
      events.add("inner close returned");
    };

    cache.close();

    assertThat(events).containsExactly("inner close returned");
    assertThat(cache.isClosed()).isTrue();
  }
}
