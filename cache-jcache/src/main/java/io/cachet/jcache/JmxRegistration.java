package io.cachet.jcache;

import java.lang.management.ManagementFactory;
import javax.cache.CacheException;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.JMRuntimeException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers JCache MXBeans in the platform MBean server under the names JCache prescribes:
 * {@code javax.cache:type=CacheStatistics|CacheConfiguration,CacheManager=<uri>,Cache=<name>}.
 */
final class JmxRegistration {

  private static final Logger log = LoggerFactory.getLogger(JmxRegistration.class);

  /** The two kinds of JCache MXBean. */
  enum Kind {
    CacheConfiguration,
    CacheStatistics
  }

  private JmxRegistration() {}

  static ObjectName objectName(Kind kind, String managerUri, String cacheName) {
    String name =
        "javax.cache:type=" + kind + ",CacheManager=" + safe(managerUri) + ",Cache=" + safe(cacheName);
    try {
      return new ObjectName(name);
    } catch (MalformedObjectNameException e) {
      throw new CacheException("invalid MBean name " + name, e);
    }
  }

  /**
   * Registers {@code bean} as the {@code kind} MBean of cache {@code cacheName} of the manager
   * {@code managerUri} and returns true; when another cache's bean has that name, keeps it, logs a
   * warning naming both names and returns false.
   */
  static boolean register(Object bean, Kind kind, String managerUri, String cacheName) {
    ObjectName name = objectName(kind, managerUri, cacheName);
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    try {
      server.registerMBean(bean, name);
      return true;
    } catch (InstanceAlreadyExistsException e) {
      // JCache's names replace these characters, so "a:b" and "a.b" share their MBean names; so do
      // the caches of one name in the managers of one URI and different class loaders.
      log.warn("The {} MBean of cache '{}' in cache manager {} is not registered: another cache, of "
          + "this manager or of another manager with the same URI, already has its name {} (cache "
          + "names and URIs that differ only in ',', ':', '=' or newlines share MBean names)",
          kind, cacheName, managerUri, name);
      return false;
    } catch (JMException | JMRuntimeException e) {
      throw new CacheException("cannot register MBean " + name, e);
    }
  }

  static void unregister(ObjectName name) {
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    try {
      server.unregisterMBean(name);
    } catch (InstanceNotFoundException e) {
      // Already gone.
    } catch (JMException | JMRuntimeException e) {
      log.warn("Cannot unregister MBean {}", name, e);
    }
  }

  /**
   * Returns {@code value} as an ObjectName value: {@code , : =} and newlines replaced by {@code .}
   * (the names JCache tools and the TCK look for), and then quoted if it still holds a character
   * that an unquoted value may not ({@code "}) or that would make the name a pattern
   * ({@code * ?}).
   */
  private static String safe(String value) {
    String replaced = value.replaceAll(",|:|=|\n", ".");
    for (int i = 0; i < replaced.length(); i++) {
      char c = replaced.charAt(i);
      if (c == '"' || c == '*' || c == '?') {
        return ObjectName.quote(replaced);
      }
    }
    return replaced;
  }
}
