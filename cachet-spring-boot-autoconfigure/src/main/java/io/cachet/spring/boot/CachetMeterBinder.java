package io.cachet.spring.boot;

import io.cachet.Cache;
import io.cachet.CacheManager;
import io.cachet.metrics.CacheMetrics;
import io.cachet.spring.CachetCacheManager;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Binds every Cachet cache to the application's {@link MeterRegistry}, if it has one, with
 * {@link CacheMetrics} once the context is up (so whichever registry Boot or the application
 * defines is there), and every cache the Spring cache manager creates later. Meters carry the
 * tags {@code cache} and {@code name} (both the cache's name) and {@code cache.manager}
 * ({@code cacheManager}), as Boot's own cache meters do.
 */
final class CachetMeterBinder implements SmartInitializingSingleton {

  static final Tag MANAGER_TAG = Tag.of("cache.manager", "cacheManager");

  private final ObjectProvider<MeterRegistry> registries;
  private final ObjectProvider<CacheManager> managers;
  private final ObjectProvider<CachetCacheManager> springManager;
  private volatile @Nullable MeterRegistry registry;
  private final Set<Cache<?, ?>> bound = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  CachetMeterBinder(
      ObjectProvider<MeterRegistry> registries, ObjectProvider<CacheManager> managers,
      ObjectProvider<CachetCacheManager> springManager) {
    this.registries = registries;
    this.managers = managers;
    this.springManager = springManager;
  }

  @Override
  public void afterSingletonsInstantiated() {
    registry = registries.getIfUnique();
    CacheManager manager = managers.getIfUnique();
    if (registry == null || manager == null) {
      return;
    }
    for (String name : manager.cacheNames()) {
      Cache<?, ?> cache = manager.getCache(name);
      if (cache != null) {
        bind(cache);
      }
    }
    springManager.ifAvailable(spring -> spring.setOnNewCache(cache -> bind(cache.getNativeCache())));
  }

  private void bind(Cache<?, ?> cache) {
    MeterRegistry to = registry;
    if (to != null && bound.add(cache)) {
      // Boot's CacheMetricsRegistrar adds name to Micrometer's cache tag: dashboards use either.
      CacheMetrics.monitor(to, cache, Tags.of(MANAGER_TAG).and("name", cache.name()));
    }
  }
}
