package io.cachet.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.cache.interceptor.SimpleKey;

/** The Spring adapter's non-blocking loads, on a local cache whose executor runs in the caller. */
final class CachetCacheTest {

  record Book(String id, String title) {}

  private final CacheManager cachet = CacheManager.create();
  private final CachetCache books = new CachetCacheManager(cachet, true).create(
      CacheConfig.builder("books").valueType(Book.class).executor(Runnable::run).build());

  @AfterEach
  void close() {
    cachet.close();
  }

  /**
   * {@code @Cacheable} on a method with no parameter, or with two or more, passes a {@code
   * SimpleKey}; a cache with {@code String} keys (every remote cache's default) takes its string
   * form, as documented. It used to refuse it: no conversion to {@code String} is registered.
   */
  @Test
  void simpleKeys_ofCompositeOrNoParameters_becomeTheirStringForm() {
    assertThat(books.getNativeCache().config().keyType()).isEqualTo(String.class);
    books.put(new SimpleKey("tolkien", 2), new Book("t2", "page 2"));
    books.put(new SimpleKey("tolkien", 3), new Book("t3", "page 3"));
    books.put(SimpleKey.EMPTY, new Book("all", "all"));

    assertThat(books.get(new SimpleKey("tolkien", 2), Book.class)).isEqualTo(new Book("t2", "page 2"));
    assertThat(books.get(new SimpleKey("tolkien", 3), Book.class)).isEqualTo(new Book("t3", "page 3"));
    assertThat(books.get(SimpleKey.EMPTY, Book.class)).isEqualTo(new Book("all", "all"));
    @SuppressWarnings("unchecked")
    io.cachet.Cache<String, Object> underlying = (io.cachet.Cache<String, Object>) books.getNativeCache();
    assertThat(underlying.get(new SimpleKey("tolkien", 2).toString())).isEqualTo(new Book("t2", "page 2"));
  }

  @Test
  void retrieveWithSupplier_keepsAValuePutWhileLoading() throws Exception {
    CompletableFuture<Book> slow = new CompletableFuture<>();
    CompletableFuture<Book> retrieved = books.retrieve("k", () -> slow);

    books.put("k", new Book("k", "newer"));
    slow.complete(new Book("k", "older"));

    assertThat(books.get("k", Book.class)).isEqualTo(new Book("k", "newer"));
    assertThat(retrieved.get()).isEqualTo(new Book("k", "newer"));
  }

  @Test
  void retrieveWithSupplier_executorRefusing_failsOrCompletes_neverLeavesCallersWaiting() throws Exception {
    java.util.concurrent.atomic.AtomicBoolean refusing = new java.util.concurrent.atomic.AtomicBoolean();
    CachetCache refused = new CachetCacheManager(cachet, true).create(
        CacheConfig.builder("refused").valueType(Book.class).executor(task -> {
          if (refusing.get()) {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
          }
          task.run();
        }).build());
    refusing.set(true);

    CompletableFuture<Book> first = refused.retrieve("k", () -> CompletableFuture.completedFuture(new Book("k", "v")));
    assertThat(first).failsWithin(java.time.Duration.ofSeconds(5))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withRootCauseInstanceOf(java.util.concurrent.RejectedExecutionException.class);
    refusing.set(false);
    // Nothing left in flight for the key: the next call runs.
    assertThat(refused.retrieve("k", () -> CompletableFuture.completedFuture(new Book("k", "w"))).get(5, java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo(new Book("k", "w"));
  }

  @Test
  void retrieveWithSupplier_storesTheLoadedValueOnAMiss() throws Exception {
    assertThat(books.retrieve("k", () -> CompletableFuture.completedFuture(new Book("k", "loaded"))).get())
        .isEqualTo(new Book("k", "loaded"));

    assertThat(books.get("k", Book.class)).isEqualTo(new Book("k", "loaded"));
  }

  @Test
  void retrieveWithSupplier_whenTheLookupThrows_leavesNothingForLaterCallersToWaitOn() {
    books.getNativeCache().close();

    assertThatThrownBy(() -> books.retrieve("k", () -> CompletableFuture.completedFuture(new Book("k", "t"))))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> books.retrieve("k", () -> CompletableFuture.completedFuture(new Book("k", "t"))))
        .isInstanceOf(IllegalStateException.class);
  }
}
