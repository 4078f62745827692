package io.cachet.spi;

import io.cachet.BackendOptions;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import java.util.Map;
import java.util.Optional;

/**
 * Creates caches for one backend; found by {@link java.util.ServiceLoader}.
 *
 * <p>Implementations need a public no-argument constructor and must be thread-safe.
 */
public interface CacheBackendProvider {

  /** Returns the backend's name, matched against {@link CacheConfig#backend()}. */
  String name();

  /**
   * Parses this backend's options from a properties file, where they appear as
   * {@code cache.<name>.<name()>.<option>}; the map's keys are the {@code <option>} parts.
   *
   * @throws IllegalArgumentException naming the option if one is unknown or invalid
   */
  default Optional<BackendOptions> parseOptions(Map<String, String> options) {
    if (!options.isEmpty()) {
      throw new IllegalArgumentException(
          "backend '" + name() + "' takes no options, was given " + options.keySet());
    }
    return Optional.empty();
  }

  /**
   * Refuses a configuration that asks for something this backend cannot do, before anything is
   * created, with an {@link IllegalArgumentException} naming the option and the backend. The
   * manager calls it before {@link #create}. By default the optional features
   * {@link CacheConfig#expireAfterAccess()} and {@link CacheConfig#refreshAfterWrite()} are
   * refused; a backend that offers one overrides this (and implements
   * {@link AbstractCache#getWritten} for refresh).
   */
  default void checkSupported(CacheConfig<?, ?> config) {
    if (config.expireAfterAccess().isPresent()) {
      throw Checks.unsupported(config, name(), "expireAfterAccess");
    }
    if (config.refreshAfterWrite().isPresent()) {
      throw Checks.unsupported(config, name(), "refreshAfterWrite");
    }
  }

  /**
   * Creates the cache described by {@code config}.
   *
   * <p>The cache must call {@link BackendContext#closed(Cache)} when it is closed, and should take
   * resources shared between caches (clients, connections) from the context so that the manager
   * closes them.
   */
  <K, V> Cache<K, V> create(CacheConfig<K, V> config, BackendContext context);
}
