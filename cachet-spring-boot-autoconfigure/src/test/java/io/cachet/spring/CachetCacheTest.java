package io.cachet.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

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
