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
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Binds every Cachet cache to the application's {@link MeterRegistry}, if it has one, with
 * {@link CacheMetrics} once the context is up (so whichever registry Boot or the application
 * defines is there), and every cache the Spring cache manager creates later. Meters carry the
 * tags {@code cache} and {@code name} (both the cache's name) and {@code cache.manager}, as
 * Boot's own cache meters do: the bean name of the Spring cache manager over Cachet, or without
 * one, of the Cachet manager, with a {@code CacheManager} suffix dropped as Boot drops it
 * ({@code cacheManager} stays, {@code ordersCacheManager} becomes {@code orders}).
 */
final class CachetMeterBinder implements SmartInitializingSingleton {

  private static final String SUFFIX = "CacheManager";

  private final ListableBeanFactory beans;
  private final ObjectProvider<MeterRegistry> registries;
  private final ObjectProvider<CacheManager> managers;
  private final ObjectProvider<CachetCacheManager> springManager;
  private volatile @Nullable MeterRegistry registry;
  private volatile Tag managerTag = Tag.of("cache.manager", "cacheManager");
  private final Set<Cache<?, ?>> bound = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

  CachetMeterBinder(ListableBeanFactory beans,
      ObjectProvider<MeterRegistry> registries, ObjectProvider<CacheManager> managers,
      ObjectProvider<CachetCacheManager> springManager) {
    this.beans = beans;
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
    String[] names = beans.getBeanNamesForType(CachetCacheManager.class, false, false);
    if (names.length != 1) {
      names = beans.getBeanNamesForType(CacheManager.class, false, false);
    }
    if (names.length == 1) {
      managerTag = Tag.of("cache.manager", managerName(names[0]));
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
      CacheMetrics.monitor(to, cache, Tags.of(managerTag).and("name", cache.name()));
    }
  }

  /** The {@code cache.manager} tag of a manager bean, as Boot's cache meters derive it. */
  static String managerName(String beanName) {
    int cut = beanName.length() - SUFFIX.length();
    return cut > 0 && beanName.regionMatches(true, cut, SUFFIX, 0, SUFFIX.length())
        ? beanName.substring(0, cut)
        : beanName;
  }
}
