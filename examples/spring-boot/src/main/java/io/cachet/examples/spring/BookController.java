package io.cachet.examples.spring;

import java.util.Map;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET|PUT|DELETE /books/{id}} and {@code GET /stats}. */
@RestController
public class BookController {

  private final BookCatalog catalog;

  public BookController(BookCatalog catalog) {
    this.catalog = catalog;
  }

  @GetMapping("/books/{id}")
  public Book get(@PathVariable("id") String id) {
    return catalog.find(id);
  }

  @PutMapping("/books/{id}")
  public Book rename(@PathVariable("id") String id, @RequestBody String title) {
    return catalog.rename(id, title);
  }

  @DeleteMapping("/books/{id}")
  public void evict(@PathVariable("id") String id) {
    catalog.evict(id);
  }

  @GetMapping("/stats")
  public Map<String, Long> stats() {
    return Map.of("loads", catalog.loads());
  }
}
