package io.cachet.spring.boot;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.CachePut;
import org.springframework.cache.annotation.Cacheable;

/** A service whose methods are cached; counts how often its body runs. */
public class BookService {

  private final AtomicInteger calls = new AtomicInteger();
  private final List<String> asyncThreads = new CopyOnWriteArrayList<>();

  /** Returns how often a cached method's body ran since {@link #reset()}. */
  public int calls() {
    return calls.get();
  }

  /** Returns the names of the threads {@link #findAsync}'s body ran on since {@link #reset()}. */
  public List<String> asyncThreads() {
    return List.copyOf(asyncThreads);
  }

  /** Resets the count of calls and the threads recorded. */
  public void reset() {
    calls.set(0);
    asyncThreads.clear();
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
    asyncThreads.add(Thread.currentThread().getName());
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
