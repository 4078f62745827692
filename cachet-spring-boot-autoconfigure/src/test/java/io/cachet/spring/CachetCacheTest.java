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

  /** Value equality, and no toString() of its own. */
  static final class Isbn {
    private final String code;

    Isbn(String code) {
      this.code = code;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Isbn other && other.code.equals(code);
    }

    @Override
    public int hashCode() {
      return code.hashCode();
    }
  }

  /**
   * A method call's key whose parameter has only {@code Object.toString()} would become
   * {@code "SimpleKey [...Isbn@840,1]"}: different in every JVM, and shared by unequal parameters
   * whose hash codes are equal ("Aa" and "BB" here). It is refused, as such a key on its own is.
   */
  @Test
  void simpleKeyWithAParameterWithoutItsOwnToString_isRefusedNamingTheType() {
    assertThat(SimpleKeys.available()).as("SimpleKey's parameters can be read").isTrue();
    assertThat("Aa".hashCode()).isEqualTo("BB".hashCode());

    assertThatThrownBy(() -> books.put(new SimpleKey(new Isbn("Aa"), 1), new Book("a", "Aa")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cache 'books'").hasMessageContaining(Isbn.class.getName());
    assertThatThrownBy(() -> books.get(new SimpleKey(new Isbn("BB"), 1), Book.class))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> books.put(new SimpleKey(new Object[] {"x", new Isbn("Aa")}, 1), new Book("a", "nested")))
        .as("inside an array too").isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Isbn.class.getName());
    assertThat(books.getNativeCache().estimatedSize()).as("nothing stored").isZero();

    // SimpleKey writes arrays by their elements (Arrays.deepToString): varargs and arrays are keys.
    books.put(new SimpleKey(new int[] {1, 2}, new String[] {"a", "b"}), new Book("arr", "arrays"));
    assertThat(books.get(new SimpleKey(new int[] {1, 2}, new String[] {"a", "b"}), Book.class))
        .isEqualTo(new Book("arr", "arrays"));

    books.put(new SimpleKey(null, "tolkien"), new Book("n", "null and a string")); // null is "null"
    assertThat(books.get(new SimpleKey(null, "tolkien"), Book.class)).isEqualTo(new Book("n", "null and a string"));
  }

  @Test
  void keyThatCannotBeConverted_isAnIllegalArgumentNamingTheCacheAndTypes() {
    CachetCache byId = new CachetCacheManager(cachet, true).create(
        CacheConfig.builder("by-id").keyType(Long.class).valueType(Book.class).executor(Runnable::run).build());
    assertThatThrownBy(() -> byId.get("abc"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cache 'by-id' has java.lang.Long keys and cannot convert the java.lang.String key 'abc'");
    byId.put("42", new Book("42", "converted"));
    assertThat(byId.get(42L, Book.class)).isEqualTo(new Book("42", "converted"));
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

  /** As with get(key, Callable): an eviction or clear while the supplier ran wins over its value. */
  @Test
  void retrieveWithSupplier_evictedOrClearedWhileLoading_leavesTheLoadedValueOut() throws Exception {
    CompletableFuture<Book> slow = new CompletableFuture<>();
    CompletableFuture<Book> retrieved = books.retrieve("k", () -> slow);
    books.evict("k"); // @CacheEvict after the source changed
    // A caller arriving after the eviction does not join the load that read the old source.
    CompletableFuture<Book> after = books.retrieve("k", () -> CompletableFuture.completedFuture(new Book("k", "new")));
    assertThat(after.get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(new Book("k", "new"));
    books.evict("k");
    slow.complete(new Book("k", "read before the change"));
    assertThat(retrieved.get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(new Book("k", "read before the change"));
    assertThat(books.get("k")).as("left in the cache").isNull();

    CompletableFuture<Book> slower = new CompletableFuture<>();
    CompletableFuture<Book> again = books.retrieve("j", () -> slower);
    books.clear();
    slower.complete(new Book("j", "read before the clear"));
    assertThat(again.get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(new Book("j", "read before the clear"));
    assertThat(books.get("j")).as("left in the cache").isNull();

    CompletableFuture<Book> later = books.retrieve("k", () -> CompletableFuture.completedFuture(new Book("k", "fresh")));
    assertThat(later.get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(new Book("k", "fresh"));
    assertThat(books.get("k", Book.class)).as("a later retrieval stores").isEqualTo(new Book("k", "fresh"));
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

    // A local lookup is answered at once, so the supplier runs on this thread; only the hand-over of
    // the outcome to the executor is refused, and then it completes here.
    CompletableFuture<Book> first = refused.retrieve("k", () -> CompletableFuture.completedFuture(new Book("k", "v")));
    assertThat(first).succeedsWithin(java.time.Duration.ofSeconds(5)).isEqualTo(new Book("k", "v"));
    refused.evict("k");
    refusing.set(false);
    // Nothing left in flight for the key: the next call runs.
    assertThat(refused.retrieve("k", () -> CompletableFuture.completedFuture(new Book("k", "w"))).get(5, java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo(new Book("k", "w"));
  }

  /** As with Spring's own caches: a local miss runs the supplier with the caller's thread-bound state. */
  @Test
  void retrieveWithSupplier_onALocalMiss_runsTheSupplierOnTheCallersThread() throws Exception {
    CachetCache elsewhere = new CachetCacheManager(cachet, true).create(
        CacheConfig.builder("elsewhere").valueType(Book.class).executor(task -> new Thread(task).start()).build());
    java.util.concurrent.atomic.AtomicReference<Thread> ranOn = new java.util.concurrent.atomic.AtomicReference<>();
    CompletableFuture<Book> retrieved = elsewhere.retrieve("k", () -> {
      ranOn.set(Thread.currentThread());
      return CompletableFuture.completedFuture(new Book("k", "v"));
    });
    assertThat(retrieved.get(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(new Book("k", "v"));
    assertThat(ranOn.get()).isSameAs(Thread.currentThread());
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
