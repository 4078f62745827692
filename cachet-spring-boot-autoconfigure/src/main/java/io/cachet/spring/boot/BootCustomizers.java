package io.cachet.spring.boot;

import io.cachet.spring.CachetCacheManager;
import java.util.List;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.cache.autoconfigure.CacheManagerCustomizer;
import org.springframework.boot.cache.autoconfigure.CacheManagerCustomizers;

/**
 * Applies the application's {@link CacheManagerCustomizer} beans to the Spring cache manager, as
 * Boot does to its own managers: in order, each one whose type argument the manager matches
 * ({@code CacheManagerCustomizer<CachetCacheManager>} or {@code <CacheManager>}). Boot's cache
 * support is optional: callers load this class only once {@link #present} said it is there.
 */
final class BootCustomizers {

  private BootCustomizers() {}

  /** Runs every customizer bean that applies to {@code manager}. */
  static void apply(ListableBeanFactory beans, CachetCacheManager manager) {
    List<CacheManagerCustomizer<?>> customizers = beans.getBeanProvider(CacheManagerCustomizer.class)
        .orderedStream()
        .<CacheManagerCustomizer<?>>map(customizer -> customizer)
        .toList();
    new CacheManagerCustomizers(customizers).customize(manager);
  }
}
