package io.cachet.jcache.tck;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicInteger;
import javax.cache.Cache;
import javax.cache.Caching;
import javax.cache.annotation.BeanProvider;
import javax.cache.annotation.CacheResult;
import org.junit.jupiter.api.Test;

/**
 * Proves that the TCK's annotation tests exercise something: the bean provider they use really
 * intercepts {@code @CacheResult}, and the cache it uses is one of ours.
 */
final class GuiceAnnotationsTest {

  /** A bean Guice enhances; public and non-final so that it can. */
  public static class Greeter {
    final AtomicInteger calls = new AtomicInteger();

    @CacheResult(cacheName = "guice-greetings")
    public String greet(String name) {
      calls.incrementAndGet();
      return "hello " + name;
    }
  }

  @Test
  void serviceLoader_findsTheGuiceBeanProvider() {
    // The TCK's annotation tests find their BeanProvider this way, and without one they pass
    // while testing nothing.
    assertThat(ServiceLoader.load(BeanProvider.class))
        .extracting(provider -> (Object) provider.getClass())
        .containsExactly(GuiceBeanProvider.class);
  }

  @Test
  void cacheResult_calledTwice_runsTheBodyOnceThroughCachet() {
    Greeter greeter = new GuiceBeanProvider().getBeanByType(Greeter.class);
    try {
      assertThat(greeter.greet("Ada")).isEqualTo("hello Ada");
      assertThat(greeter.greet("Ada")).isEqualTo("hello Ada");
      assertThat(greeter.greet("Grace")).isEqualTo("hello Grace");

      assertThat(greeter.calls).hasValue(2);
      Cache<Object, Object> cache = Caching.getCachingProvider().getCacheManager().getCache("guice-greetings");
      assertThat(cache.unwrap(io.cachet.Cache.class).config().backend()).isEqualTo("local");
      assertThat(cache).hasSize(2);
    } finally {
      Caching.getCachingProvider().getCacheManager().destroyCache("guice-greetings");
    }
  }
}
