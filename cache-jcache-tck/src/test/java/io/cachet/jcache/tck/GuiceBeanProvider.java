package io.cachet.jcache.tck;

import com.google.inject.Guice;
import com.google.inject.Injector;
import javax.cache.annotation.BeanProvider;
import org.jsr107.ri.annotations.guice.module.CacheAnnotationsModule;

/**
 * Gives the TCK's annotation tests their beans from Guice with the reference JCache annotation
 * interceptors installed, so {@code @CacheResult} and friends really go through our provider.
 *
 * <p>Found by the TCK through {@code META-INF/services/javax.cache.annotation.BeanProvider}, so it
 * must be public with a public no-argument constructor.
 */
public final class GuiceBeanProvider implements BeanProvider {

  private final Injector injector = Guice.createInjector(new CacheAnnotationsModule());

  /** Creates the injector; called by {@link java.util.ServiceLoader}. */
  public GuiceBeanProvider() {}

  @Override
  public <T> T getBeanByType(Class<T> beanClass) {
    return injector.getInstance(beanClass);
  }
}
