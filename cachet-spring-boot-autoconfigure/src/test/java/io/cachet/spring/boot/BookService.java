package io.cachet.spring.boot;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.CachePut;
import org.springframework.cache.annotation.Cacheable;

/** A service whose methods are cached; counts how often its body runs. */
public class BookService {

  private final AtomicInteger calls = new AtomicInteger();

  /** Returns how often a cached method's body ran since {@link #reset()}. */
  public int calls() {
    return calls.get();
  }

  /** Resets the count of calls. */
  public void reset() {
    calls.set(0);
  }

  @Cacheable("books")
  public Book find(String id) {
    int n = calls.incrementAndGet();
    return id.equals("missing") ? null : new Book(id, "Title " + id + " #" + n);
  }

  @Cacheable(cacheNames = "books", sync = true)
  public Book findSync(String id) {
    return find(id + "-sync-body");
  }

  @Cacheable("books")
  public CompletableFuture<Book> findAsync(String id) {
    int n = calls.incrementAndGet();
    return CompletableFuture.completedFuture(new Book(id, "Async " + id + " #" + n));
  }

  @CachePut(cacheNames = "books", key = "#result.id")
  public Book save(Book book) {
    return book;
  }

  @CacheEvict("books")
  public void remove(String id) {}

  @Cacheable("counts")
  public Long square(Long n) {
    calls.incrementAndGet();
    return n * n;
  }
}
