package io.cachet.jcache.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.jcache.spi.CachetCachingProvider;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import javax.cache.Cache;
import javax.cache.Caching;
import javax.cache.annotation.CacheResult;
import org.junit.jupiter.api.Test;
import org.springframework.cache.CacheManager;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.cache.jcache.JCacheCacheManager;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Spring's JCache support, with JSR-107 annotations on a bean, caching through our provider. */
final class SpringJCacheTest {

  @Configuration
  @EnableCaching
  static class CachingConfig {

    /** Our provider's manager; its caches are declared in a properties file on the class path. */
    @Bean
    javax.cache.CacheManager jcacheManager() {
      return Caching.getCachingProvider()
          .getCacheManager(URI.create("classpath:spring-caches.properties"), getClass().getClassLoader());
    }

    @Bean
    CacheManager cacheManager(javax.cache.CacheManager jcacheManager) {
      return new JCacheCacheManager(jcacheManager);
    }

    @Bean
    Greeter greeter() {
      return new Greeter();
    }
  }

  /** A bean Spring proxies; public and non-final so that it can. */
  public static class Greeter {
    private final AtomicInteger calls = new AtomicInteger();

    /** How often the body ran; a method, since the proxy's own fields are not the bean's. */
    public int calls() {
      return calls.get();
    }

    @CacheResult(cacheName = "greetings")
    public String greet(String name) {
      calls.incrementAndGet();
      return "hello " + name;
    }
  }

  @Test
  void cacheResult_calledTwice_runsTheBodyOnceThroughCachet() {
    try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext(CachingConfig.class)) {
      Greeter greeter = context.getBean(Greeter.class);

      assertThat(greeter.greet("Ada")).isEqualTo("hello Ada");
      assertThat(greeter.greet("Ada")).isEqualTo("hello Ada");

      assertThat(greeter.calls()).isEqualTo(1);
      javax.cache.CacheManager jcache = context.getBean(javax.cache.CacheManager.class);
      assertThat(jcache.getCachingProvider()).isInstanceOf(CachetCachingProvider.class);
      Cache<Object, Object> greetings = jcache.getCache("greetings");
      assertThat(greetings).extracting(Cache.Entry::getValue).containsExactly("hello Ada");
      io.cachet.Cache<?, ?> backing = greetings.unwrap(io.cachet.Cache.class);
      assertThat(backing.config().maximumSize()).isEqualTo(1000);
      assertThat(context.getBean(CacheManager.class).getCacheNames()).contains("greetings");
    }
  }
}
