package io.cachet.jcache;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import javax.cache.configuration.CacheEntryListenerConfiguration;
import javax.cache.configuration.Factory;
import javax.cache.expiry.EternalExpiryPolicy;
import javax.cache.expiry.ExpiryPolicy;
import javax.cache.integration.CacheLoader;
import javax.cache.integration.CacheWriter;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The configuration side of one {@link CachetCache}: its {@link CachetConfiguration}, which
 * listener registration and the statistics and management switches change at run time; the
 * MBeans those switches register; and what the configuration's factories created (loader, writer,
 * expiry policy, listeners and their filters), which are closed with the cache. Thread-safe: the
 * configuration object is the lock for the configuration, the MBeans and {@code closed}, so a
 * switch and a shutdown never interleave (a switch after the shutdown fails instead of registering
 * an MBean nobody would unregister).
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class CacheControl<K, V> {

  private static final Logger log = LoggerFactory.getLogger(CachetCache.class);

  private final String name;
  private final CachetConfiguration<K, V> configuration; // guarded by itself
  private final CachetStatistics statistics;
  private final CacheMBeans mbeans; // guarded by configuration
  private final Integration<K, V> integration;
  private final EventDispatcher<K, V> dispatcher;
  private boolean closed; // guarded by configuration

  private CacheControl(String name, CachetConfiguration<K, V> configuration, CachetStatistics statistics,
      CacheMBeans mbeans, Integration<K, V> integration, EventDispatcher<K, V> dispatcher) {
    this.name = name;
    this.configuration = configuration;
    this.statistics = statistics;
    this.mbeans = mbeans;
    this.integration = integration;
    this.dispatcher = dispatcher;
  }

  /**
   * Creates the loader, writer, expiry policy and listeners from {@code configuration}'s factories;
   * closes whatever it created when one of them fails. Registers no MBean yet: see {@link
   * #registerMBeans}.
   *
   * @param executor delivers asynchronous events
   */
  @SuppressWarnings("unchecked")
  static <K, V> CacheControl<K, V> create(String name, CachetConfiguration<K, V> configuration,
      CachetStatistics statistics, CacheMBeans mbeans, Executor executor) {
    List<Object> created = new ArrayList<>();
    EventDispatcher<K, V> events = new EventDispatcher<>(name, executor);
    try {
      Factory<CacheLoader<K, V>> loaderFactory = configuration.getCacheLoaderFactory();
      CacheLoader<K, V> loader = loaderFactory == null ? null : remember(created, loaderFactory.create());
      Factory<CacheWriter<? super K, ? super V>> writerFactory = configuration.getCacheWriterFactory();
      CacheWriter<K, V> writer =
          configuration.isWriteThrough() && writerFactory != null
              ? (CacheWriter<K, V>) remember(created, writerFactory.create())
              : null;
      Factory<ExpiryPolicy> expiryFactory = configuration.getExpiryPolicyFactory();
      ExpiryPolicy expiry =
          expiryFactory == null
              ? new EternalExpiryPolicy()
              : remember(created, requireNonNull(expiryFactory.create(), "expiry policy factory returned null"));
      for (CacheEntryListenerConfiguration<K, V> listener : configuration.getCacheEntryListenerConfigurations()) {
        events.register(listener);
      }
      return new CacheControl<>(name, configuration, statistics, mbeans,
          new Integration<>(name, loader, writer, expiry), events);
    } catch (RuntimeException | Error e) {
      for (Object resource : created) {
        closeQuietly(name, resource);
      }
      closeListeners(events);
      throw e;
    }
  }

  private static <T> T remember(List<Object> created, T resource) {
    created.add(resource);
    return resource;
  }

  Integration<K, V> integration() {
    return integration;
  }

  EventDispatcher<K, V> dispatcher() {
    return dispatcher;
  }

  /** Whether reads load misses: read-through is on and there is a loader. */
  boolean readThrough() {
    return configuration.isReadThrough() && integration.hasLoader();
  }

  /** Registers the MBeans the configuration asks for; once the cache is built. */
  void registerMBeans() {
    synchronized (configuration) {
      mbeans.statistics(configuration.isStatisticsEnabled());
      mbeans.management(configuration.isManagementEnabled());
    }
  }

  /**
   * Adds a listener to the configuration and starts delivering to it.
   *
   * @throws IllegalArgumentException for a configuration registered already
   * @throws IllegalStateException once the cache is closed (its listeners are closed for good)
   */
  void register(CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    synchronized (configuration) {
      checkOpen(); // here: a listener created after the shutdown closed the others would never be closed
      configuration.addCacheEntryListenerConfiguration(listenerConfiguration);
      try {
        dispatcher.register(listenerConfiguration);
      } catch (RuntimeException | Error e) {
        configuration.removeCacheEntryListenerConfiguration(listenerConfiguration);
        throw e;
      }
    }
  }

  /**
   * Removes a listener from the configuration and stops delivering to it; closes it and its filter
   * once the events queued for it were delivered (see {@link EventDispatcher}).
   */
  void deregister(CacheEntryListenerConfiguration<K, V> listenerConfiguration) {
    EventDispatcher.Registration<K, V> removed;
    synchronized (configuration) {
      configuration.removeCacheEntryListenerConfiguration(listenerConfiguration);
      removed = dispatcher.deregister(listenerConfiguration);
    }
    if (removed != null) {
      removed.deregister(); // not under the lock: it may close the listener
    }
  }

  /** Returns a copy of the current configuration; changing it does not change the cache. */
  CachetConfiguration<K, V> snapshot() {
    synchronized (configuration) {
      return new CachetConfiguration<>(configuration);
    }
  }

  /** @throws IllegalStateException once the cache is closed (its MBeans are unregistered for good) */
  void enableStatistics(boolean enabled) {
    synchronized (configuration) {
      checkOpen();
      configuration.setStatisticsEnabled(enabled);
      statistics.enable(enabled);
      mbeans.statistics(enabled);
    }
  }

  /** @throws IllegalStateException once the cache is closed (its MBeans are unregistered for good) */
  void enableManagement(boolean enabled) {
    synchronized (configuration) {
      checkOpen();
      configuration.setManagementEnabled(enabled);
      mbeans.management(enabled);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("cache '" + name + "' is closed");
    }
  }

  /**
   * Whether the current thread holds this cache's configuration lock: it runs a listener or
   * filter factory (see {@link #register}), and a shutdown of this cache, which takes the lock in
   * {@link #close}, must not be waited for on it.
   */
  boolean configuringOnThisThread() {
    return Thread.holdsLock(configuration);
  }

  /**
   * Unregisters the MBeans for good; true for the first call only, whose caller then closes the
   * cache and, last, calls {@link #closeResources}.
   */
  boolean close() {
    synchronized (configuration) {
      if (closed) {
        return false;
      }
      closed = true;
      mbeans.unregisterAll();
      return true;
    }
  }

  /**
   * Closes every {@link AutoCloseable} the factories created; exceptions are logged, not thrown.
   * An {@link Error} (a test's assertion in a close) is logged too, and thrown once every other
   * resource and listener is closed.
   */
  void closeResources() {
    Error first = null;
    for (Object resource : integration.resources()) {
      try {
        closeQuietly(name, resource);
      } catch (Error e) {
        log.warn("Closing {} of cache '{}' failed", resource.getClass().getName(), name, e);
        first = first == null ? e : first;
      }
    }
    closeListeners(dispatcher);
    if (first != null) {
      throw first;
    }
  }

  /** How long closing a cache waits for a listener call in progress before it closes the listener. */
  static final long LISTENER_CLOSE_WAIT_MILLIS = 5_000;

  private static void closeListeners(EventDispatcher<?, ?> dispatcher) {
    for (EventDispatcher.Registration<?, ?> registration : dispatcher.registrations()) {
      registration.close(LISTENER_CLOSE_WAIT_MILLIS);
    }
  }

  /** Closes {@code resource} if it is {@link AutoCloseable}, logging a failure at WARN. */
  static void closeQuietly(String name, @Nullable Object resource) {
    if (resource instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        log.warn("Closing {} of cache '{}' failed", resource.getClass().getName(), name, e);
      }
    }
  }
}
