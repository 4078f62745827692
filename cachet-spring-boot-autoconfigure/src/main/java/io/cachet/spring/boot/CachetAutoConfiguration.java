package io.cachet.spring.boot;

import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.spring.CachetCacheManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.cache.support.NullValue;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.util.ClassUtils;

/**
 * Creates a Cachet {@link CacheManager} with the caches declared under {@code cachet.caches}, and
 * a Spring {@link org.springframework.cache.CacheManager} over it for {@code @Cacheable} and
 * friends.
 *
 * <ul>
 *   <li>The Cachet manager backs off when the application defines one, and the Spring cache
 *       manager then creates the declared caches that manager lacks in it. The Spring cache manager
 *       backs off when the application defines one, and also stays out when
 *       {@code spring.cache.type} picks one of Boot's.
 *   <li>{@link CacheConfig} beans are created as caches too, for what properties cannot say (a
 *       codec with the application's {@code ObjectMapper}, a removal listener).
 *   <li>The names in {@code spring.cache.cache-names} are declared too, as local caches with
 *       every default, and make the manager static as with Boot's own managers.
 *   <li>When {@code spring.cache.type} picks one of Boot's managers (including {@code none}), the
 *       declared caches serve no Spring manager, so none is created: the Cachet manager starts
 *       empty and connects to nothing. The declarations are still checked.
 *   <li>An invalid declaration, or an unknown option of a cache, fails start-up naming the
 *       property.
 * </ul>
 */
@AutoConfiguration(beforeName = "org.springframework.boot.cache.autoconfigure.CacheAutoConfiguration")
@ConditionalOnClass({CacheManager.class, org.springframework.cache.CacheManager.class})
@EnableConfigurationProperties(CachetProperties.class)
public class CachetAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  DeclaredCaches cachetDeclaredCaches(CachetProperties properties, ApplicationContext context,
      ObjectProvider<CacheConfig<?, ?>> configs) {
    CacheDeclarations.rejectUnknownOptions(context.getEnvironment());
    ClassLoader loader = context.getClassLoader() != null ? context.getClassLoader() : getClass().getClassLoader();
    List<CacheDeclarations.Declared> declared = new CacheDeclarations(loader).declare(properties);
    // Boot's own list of names: each a cache with every default, unless declared otherwise.
    Set<String> named = new HashSet<>(properties.getCaches().keySet());
    configs.orderedStream().forEach(config -> named.add(config.name()));
    List<String> springNames = springCacheNames(context.getEnvironment());
    for (String name : springNames) {
      if (named.add(name)) {
        declared.add(new CacheDeclarations.Declared(CacheDeclarations.dynamic(name), properties.isAllowNullValues()));
      }
    }
    // CacheConfig beans declare caches too: with any, an unknown name is an error, not a new cache.
    boolean dynamic = properties.getDynamic() != null ? properties.getDynamic()
        : properties.getCaches().isEmpty() && configs.orderedStream().findAny().isEmpty() && springNames.isEmpty();
    return new DeclaredCaches(declared, dynamic, NoSpringCacheTypeCondition.springCacheType(context.getEnvironment()));
  }

  /** {@code spring.cache.cache-names}, trimmed, without blanks. */
  private static List<String> springCacheNames(Environment environment) {
    return Binder.get(environment).bind("spring.cache.cache-names", Bindable.listOf(String.class))
        .orElse(List.of()).stream()
        .map(String::trim)
        .filter(name -> !name.isEmpty())
        .distinct()
        .toList();
  }

  /** The Cachet manager, closed with the context, holding every declared cache. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  CacheManager cachetCacheManager(
      DeclaredCaches declared, CachetProperties properties, ObjectProvider<CacheConfig<?, ?>> configs,
      ApplicationContext context) {
    CacheManager.Builder builder = CacheManager.builder();
    if (context.getClassLoader() != null) {
      builder.classLoader(context.getClassLoader());
    }
    CacheManager manager = builder.build();
    if (declared.springCacheType() != null) {
      return manager; // Boot's manager serves Spring: the declared caches would serve nothing
    }
    try {
      for (CacheDeclarations.Declared cache : everyCache(declared, properties, configs)) {
        manager.create(CachetCacheManager.springConfig(cache.config(), cache.allowNullValues()));
      }
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
    return manager;
  }

  /** Returns the caches declared under {@code cachet.caches}, then those of CacheConfig beans. */
  static List<CacheDeclarations.Declared> everyCache(
      DeclaredCaches declared, CachetProperties properties, ObjectProvider<CacheConfig<?, ?>> configs) {
    List<CacheDeclarations.Declared> caches = new ArrayList<>(declared.caches());
    Set<String> names = new HashSet<>();
    caches.forEach(cache -> names.add(cache.config().name()));
    configs.orderedStream().forEach(config -> {
      if (!names.add(config.name())) {
        throw new IllegalStateException(
            "cache '" + config.name() + "' is declared both under " + CacheDeclarations.PREFIX + config.name()
                + " and as a CacheConfig bean");
      }
      caches.add(new CacheDeclarations.Declared(config, properties.isAllowNullValues()));
    });
    return caches;
  }

  /**
   * Spring's cache manager over Cachet: backs off when the application defines its own, or a
   * {@code CacheResolver} named {@code cacheResolver}, as Boot's cache auto-configuration does.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnMissingBean(value = org.springframework.cache.CacheManager.class, name = "cacheResolver")
  @Conditional(NoSpringCacheTypeCondition.class)
  static class SpringCacheManagerConfiguration {

    private static final String CUSTOMIZERS = "org.springframework.boot.cache.autoconfigure.CacheManagerCustomizers";

    /**
     * Serves every declared cache. The auto-configured Cachet manager holds them all already; an
     * application's own manager gets those it lacks, and serves those it has under their names as
     * they are, provided they can hold what Spring stores. The application's
     * {@code CacheManagerCustomizer} beans that apply to it run last, as with Boot's managers.
     */
    @Bean
    CachetCacheManager cacheManager(
        CacheManager cachet, DeclaredCaches declared, CachetProperties properties,
        ObjectProvider<CacheConfig<?, ?>> configs, ApplicationContext context) {
      CachetCacheManager spring = new CachetCacheManager(cachet, properties.isAllowNullValues());
      List<io.cachet.Cache<?, ?>> created = new ArrayList<>();
      try {
        for (CacheDeclarations.Declared cache : everyCache(declared, properties, configs)) {
          serve(spring, cachet, cache, declared, created);
        }
        if (declared.dynamic()) {
          spring.setDynamic(CacheDeclarations::dynamic);
        }
        // Boot's cache support is optional; the class that names its types loads only with it.
        if (ClassUtils.isPresent(CUSTOMIZERS, context.getClassLoader())
            && ClassUtils.isPresent(CUSTOMIZERS, SpringCacheManagerConfiguration.class.getClassLoader())) {
          BootCustomizers.apply(context, spring);
        }
      } catch (RuntimeException e) {
        created.forEach(io.cachet.Cache::close);
        throw e;
      }
      return spring;
    }

    private static void serve(
        CachetCacheManager spring, CacheManager cachet, CacheDeclarations.Declared cache, DeclaredCaches declared,
        List<io.cachet.Cache<?, ?>> created) {
      CacheConfig<?, ?> config = cache.config();
      io.cachet.Cache<?, ?> existing = cachet.getCache(config.name());
      if (existing == null) {
        created.add(spring.create(config, cache.allowNullValues()).getNativeCache());
        return;
      }
      Class<?> holds = existing.config().valueType();
      String problem = !holds.isAssignableFrom(config.valueType())
          ? "it holds " + holds.getName() + " values, not the declared " + config.valueType().getName()
          : cache.allowNullValues() && !holds.isAssignableFrom(NullValue.class)
              ? "it holds " + holds.getName() + " values, which cannot hold Spring's NullValue for a null result"
                  + " (disallow null values for it, or leave the cache to the auto-configuration)"
              : null;
      if (problem != null) {
        boolean property = declared.caches().contains(cache);
        throw new IllegalStateException(
            "cache '" + config.name() + "', declared " + (property ? "under " + CacheDeclarations.PREFIX + config.name()
                : "as a CacheConfig bean") + ", is already in the application's io.cachet.CacheManager, and " + problem);
      }
      spring.adopt(existing, config.valueType(), cache.allowNullValues());
    }
  }

  /** Meters for every cache, once the context is up, when it has a MeterRegistry. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
  static class MetricsConfiguration {

    @Bean
    static CachetMeterBinder cachetMeterBinder(ListableBeanFactory beans,
        ObjectProvider<io.micrometer.core.instrument.MeterRegistry> registry, ObjectProvider<CacheManager> cachet,
        ObjectProvider<CachetCacheManager> spring) {
      return new CachetMeterBinder(beans, registry, cachet, spring);
    }
  }

  /**
   * The {@code cachet} health component, when Boot's health support is present and
   * {@code management.health.cachet.enabled} (or {@code management.health.defaults.enabled}) is not
   * {@code false}.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
  static class HealthConfiguration {

    @Bean
    @ConditionalOnEnabledHealthIndicator("cachet")
    @ConditionalOnMissingBean(name = "cachetHealthIndicator")
    CachetHealthIndicator cachetHealthIndicator(CacheManager cachet) {
      return new CachetHealthIndicator(cachet);
    }
  }
}
