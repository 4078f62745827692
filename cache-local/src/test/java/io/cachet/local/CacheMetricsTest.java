package io.cachet.local;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cachet.Cache;
import io.cachet.CacheConfig;
import io.cachet.CacheManager;
import io.cachet.metrics.CacheMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

final class CacheMetricsTest {

  @Test
  void monitor_reportsStandardMeters() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache =
          CacheMetrics.monitor(registry, manager.<String, String>create(CacheConfig.builder("orders").build()), "app", "shop");
      cache.put("k", "v");
      cache.get("k");
      cache.get("absent");
      cache.get("loaded", k -> "v");

      assertThat(registry.get("cache.gets").tag("result", "hit").tag("cache", "orders").tag("app", "shop")
          .functionCounter().count()).isEqualTo(1);
      assertThat(registry.get("cache.gets").tag("result", "miss").functionCounter().count()).isEqualTo(2);
      // The put and the loaded value it stored: a stored load counts as a put on every backend.
      assertThat(registry.get("cache.puts").functionCounter().count()).isEqualTo(2);
      assertThat(registry.get("cache.load").tag("result", "success").functionCounter().count()).isEqualTo(1);
      assertThat(registry.get("cache.size").gauge().value()).isEqualTo(2);
    }
  }

  @Test
  void cacheCreatedAgainUnderItsName_isMeasuredAgain() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (CacheManager manager = CacheManager.create()) {
      CacheMetrics.monitor(registry, manager.<String, String>create(CacheConfig.builder("orders").build()), "app", "shop")
          .close();
      Cache<String, String> again =
          CacheMetrics.monitor(registry, manager.<String, String>create(CacheConfig.builder("orders").build()), "app", "shop");
      again.put("k", "v");
      again.get("k");

      assertThat(registry.get("cache.puts").tag("cache", "orders").functionCounter().count()).isEqualTo(1);
      assertThat(registry.get("cache.gets").tag("result", "hit").functionCounter().count()).isEqualTo(1);
      assertThat(registry.get("cache.size").gauge().value()).isEqualTo(1);
      assertThat(registry.get("cache.load").tag("result", "success").functionCounter().count()).isZero();
      assertThat(registry.find("cache.gets").meters()).hasSize(2); // hit and miss, once each
    }
  }

  @Test
  void cacheCreatedAgainUnderItsName_isMeasuredAgain_withCommonTagsToo() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    registry.config().commonTags("env", "test");
    try (CacheManager manager = CacheManager.create()) {
      CacheMetrics.monitor(registry, manager.<String, String>create(CacheConfig.builder("orders").build())).close();
      Cache<String, String> again = CacheMetrics.monitor(registry, manager.<String, String>create(CacheConfig.builder("orders").build()));
      again.put("k", "v");

      assertThat(registry.get("cache.puts").tag("cache", "orders").tag("env", "test").functionCounter().count()).isEqualTo(1);
      // Another binder's meter under the same tags stays.
      io.micrometer.core.instrument.Counter.builder("cache.eviction.weight").tag("cache", "orders").register(registry);
      CacheMetrics.monitor(registry, again);
      assertThat(registry.find("cache.eviction.weight").meters()).hasSize(1);
      assertThat(registry.get("cache.puts").tag("cache", "orders").functionCounter().count()).isEqualTo(1);
    }
  }

  @Test
  void sameNameWithOtherTags_keepsTheLiveBindingsMeters() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (CacheManager spring = CacheManager.create(); CacheManager other = CacheManager.create()) {
      Cache<String, String> tagged =
          CacheMetrics.monitor(registry, spring.<String, String>create(CacheConfig.builder("orders").build()), "cache.manager", "cacheManager");
      CacheMetrics.monitor(registry, other.<String, String>create(CacheConfig.builder("orders").build()));
      tagged.put("k", "v");

      assertThat(registry.get("cache.puts").tag("cache.manager", "cacheManager").functionCounter().count()).isEqualTo(1);
      assertThat(registry.find("cache.puts").meters()).hasSize(2);
    }
  }

  @Test
  void otherCachesAndTags_keepTheirMeters() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> orders =
          CacheMetrics.monitor(registry, manager.<String, String>create(CacheConfig.builder("orders").build()), "app", "shop");
      CacheMetrics.monitor(registry, manager.<String, String>create(CacheConfig.builder("users").build()), "app", "shop");
      orders.put("k", "v");

      assertThat(registry.get("cache.puts").tag("cache", "orders").functionCounter().count()).isEqualTo(1);
      assertThat(registry.find("cache.puts").meters()).hasSize(2);
    }
  }

  @Test
  void closedCache_meterReadsAreLoggedOnceAndReportNaN() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Logger logger = (Logger) LoggerFactory.getLogger(CacheMetrics.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try (CacheManager manager = CacheManager.create()) {
      Cache<String, String> cache = CacheMetrics.monitor(registry, manager.<String, String>create(CacheConfig.builder("gone").build()));
      cache.close();

      Gauge size = registry.get("cache.size").gauge();
      FunctionCounter loads = registry.get("cache.load").tag("result", "success").functionCounter();
      // CacheMeterBinder itself reports a missing size as 0; our own meters report NaN.
      assertThat(size.value()).isZero();
      assertThat(size.value()).isZero();
      assertThat(loads.count()).isNaN();
      assertThat(loads.count()).isNaN();
      assertThat(appender.list)
          .filteredOn(e -> e.getLevel() == Level.WARN)
          .extracting(ILoggingEvent::getFormattedMessage)
          .containsExactly(
              "Reading meter cache.size of cache 'gone' failed; reporting no value",
              "Reading meter cache.load.success of cache 'gone' failed; reporting no value");
    } finally {
      logger.detachAppender(appender);
    }
  }
}
