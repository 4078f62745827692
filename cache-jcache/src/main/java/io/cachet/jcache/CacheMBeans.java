package io.cachet.jcache;

import javax.management.ObjectName;

/**
 * The two MBeans of one JCache cache, its statistics and its configuration, each registered while
 * enabled. Not thread-safe: guarded by the cache's configuration, as the flags they follow are.
 */
final class CacheMBeans {

  private final CachetStatistics statistics;
  private final CachetCacheMXBean configuration;
  private final String managerUri;
  private final String cacheName;
  private boolean statisticsRegistered;
  private boolean managementRegistered;

  CacheMBeans(CachetStatistics statistics, CachetCacheMXBean configuration, String managerUri, String cacheName) {
    this.statistics = statistics;
    this.configuration = configuration;
    this.managerUri = managerUri;
    this.cacheName = cacheName;
  }

  /** Registers or unregisters the statistics MBean; does nothing if it already is as asked. */
  void statistics(boolean enabled) {
    if (enabled && !statisticsRegistered) {
      statisticsRegistered =
          JmxRegistration.register(statistics, JmxRegistration.Kind.CacheStatistics, managerUri, cacheName);
    } else if (!enabled && statisticsRegistered) {
      JmxRegistration.unregister(objectName(JmxRegistration.Kind.CacheStatistics));
      statisticsRegistered = false;
    }
  }

  /** Registers or unregisters the configuration MBean; does nothing if it already is as asked. */
  void management(boolean enabled) {
    if (enabled && !managementRegistered) {
      managementRegistered =
          JmxRegistration.register(configuration, JmxRegistration.Kind.CacheConfiguration, managerUri, cacheName);
    } else if (!enabled && managementRegistered) {
      JmxRegistration.unregister(objectName(JmxRegistration.Kind.CacheConfiguration));
      managementRegistered = false;
    }
  }

  /** Unregisters both. */
  void unregisterAll() {
    statistics(false);
    management(false);
  }

  private ObjectName objectName(JmxRegistration.Kind kind) {
    return JmxRegistration.objectName(kind, managerUri, cacheName);
  }
}
