package io.cachet.spring.boot;

import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.spring.CachetCacheManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;

/**
 * Creates a Cachet {@link CacheManager} with the caches declared under {@code cachet.caches}, and
 * a Spring {@link org.springframework.cache.CacheManager} over it for {@code @Cacheable} and
 * friends.
 *
 * <ul>
 *   <li>The Cachet manager backs off when the application defines one; so does the Spring cache
 *       manager, and it also stays out when {@code spring.cache.type} picks one of Boot's.
 *   <li>{@link CacheConfig} beans are created as caches too, for what properties cannot say (a
 *       codec with the application's {@code ObjectMapper}, a removal listener).
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
  DeclaredCaches cachetDeclaredCaches(CachetProperties properties, ApplicationContext context) {
    CacheDeclarations.rejectUnknownOptions(context.getEnvironment());
    ClassLoader loader = context.getClassLoader() != null ? context.getClassLoader() : getClass().getClassLoader();
    List<CacheDeclarations.Declared> declared = new CacheDeclarations(loader).declare(properties);
    boolean dynamic = properties.getDynamic() != null ? properties.getDynamic() : properties.getCaches().isEmpty();
    return new DeclaredCaches(declared, dynamic);
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
    try {
      Set<String> names = new HashSet<>();
      for (CacheDeclarations.Declared cache : declared.caches()) {
        manager.create(CachetCacheManager.springConfig(cache.config(), cache.allowNullValues()));
        names.add(cache.config().name());
      }
      List<CacheConfig<?, ?>> beans = new ArrayList<>();
      configs.orderedStream().forEach(beans::add);
      for (CacheConfig<?, ?> config : beans) {
        if (!names.add(config.name())) {
          throw new IllegalStateException(
              "cache '" + config.name() + "' is declared both under " + CacheDeclarations.PREFIX + config.name()
                  + " and as a CacheConfig bean");
        }
        manager.create(CachetCacheManager.springConfig(config, properties.isAllowNullValues()));
      }
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
    return manager;
  }

  /** Spring's cache manager over Cachet: backs off when the application defines its own. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnMissingBean(org.springframework.cache.CacheManager.class)
  @Conditional(NoSpringCacheTypeCondition.class)
  static class SpringCacheManagerConfiguration {

    @Bean
    CachetCacheManager cacheManager(
        CacheManager cachet, DeclaredCaches declared, CachetProperties properties,
        ObjectProvider<CacheConfig<?, ?>> configs) {
      CachetCacheManager spring = new CachetCacheManager(cachet, properties.isAllowNullValues());
      for (CacheDeclarations.Declared cache : declared.caches()) {
        io.cachet.Cache<?, ?> created = cachet.getCache(cache.config().name());
        if (created != null) {
          spring.adopt(created, cache.config().valueType(), cache.allowNullValues());
        }
      }
      configs.orderedStream().forEach(config -> {
        io.cachet.Cache<?, ?> created = cachet.getCache(config.name());
        if (created != null) {
          spring.adopt(created, config.valueType(), properties.isAllowNullValues());
        }
      });
      if (declared.dynamic()) {
        spring.setDynamic(CacheDeclarations::dynamic);
      }
      return spring;
    }
  }

  /** Meters for every cache, once the context is up, when it has a MeterRegistry. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
  static class MetricsConfiguration {

    @Bean
    static CachetMeterBinder cachetMeterBinder(
        ObjectProvider<io.micrometer.core.instrument.MeterRegistry> registry, ObjectProvider<CacheManager> cachet,
        ObjectProvider<CachetCacheManager> spring) {
      return new CachetMeterBinder(registry, cachet, spring);
    }
  }

  /** The {@code cachet} health component, when Boot's health support is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
  static class HealthConfiguration {

    @Bean
    @ConditionalOnMissingBean(name = "cachetHealthIndicator")
    CachetHealthIndicator cachetHealthIndicator(CacheManager cachet) {
      return new CachetHealthIndicator(cachet);
    }
  }
}
