package io.cachet.examples.spring;

import java.util.concurrent.atomic.AtomicLong;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.CachePut;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.stereotype.Service;

/** Looks books up in a slow store; the cache answers repeated lookups. */
@Service
public class BookCatalog {

  private final AtomicLong loads = new AtomicLong();

  /** Loads a book from the slow store, once per id until it is evicted or expires. */
  @Cacheable(cacheNames = "books", sync = true)
  public Book find(String id) {
    loads.incrementAndGet();
    return new Book(id, "Book " + id, System.currentTimeMillis());
  }

  /** Stores a new title, in the store and in the cache. */
  @CachePut(cacheNames = "books", key = "#p0")
  public Book rename(String id, String title) {
    return new Book(id, title, System.currentTimeMillis());
  }

  /** Forgets a book, so the next lookup loads it again. */
  @CacheEvict("books")
  public void evict(String id) {}

  /** Returns how many times the slow store was read. */
  public long loads() {
    return loads.get();
  }
}
