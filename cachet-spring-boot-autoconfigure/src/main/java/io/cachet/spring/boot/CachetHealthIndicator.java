package io.cachet.spring.boot;

import io.cachet.Cache;
import io.cachet.CacheManager;
import io.cachet.spi.BackendMetric;
import io.cachet.spi.MetricsSource;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.util.ClassUtils;

/**
 * Reports each Cachet cache: its backend; for {@code redis}, how its near cache stays coherent;
 * for {@code replicated-kafka}, whether the replica finished its start-up replay, and how far it
 * got.
 *
 * <p>The status is {@code OUT_OF_SERVICE} while a replicated cache replays (its reads would throw
 * {@code CacheNotReadyException}), {@code UP} otherwise. A Redis near cache's coherence is
 * {@code tracking} while invalidations arrive, {@code expiry-only} when configured so or when Redis
 * refused tracking, and {@code unverified} while the invalidation connection is down (near entries
 * are then re-read before they are served); it never changes the status, since reads still work.
 */
public final class CachetHealthIndicator extends AbstractHealthIndicator {

  private static final boolean REPLICATED =
      ClassUtils.isPresent("io.cachet.replicated.ReplicatedCache", CachetHealthIndicator.class.getClassLoader());

  private final CacheManager manager;

  /** Creates an indicator for the caches of {@code manager}. */
  public CachetHealthIndicator(CacheManager manager) {
    super("Cachet health check failed");
    this.manager = manager;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    Status status = Status.UP;
    Map<String, Object> caches = new LinkedHashMap<>();
    for (String name : manager.cacheNames()) {
      Cache<?, ?> cache = manager.getCache(name);
      if (cache == null || cache.isClosed()) {
        continue;
      }
      Map<String, Object> details = new LinkedHashMap<>();
      String backend = cache.config().backend();
      details.put("backend", backend);
      if (backend.equals("redis")) {
        details.put("coherence", coherence(cache));
      } else if (backend.equals("replicated-kafka") && REPLICATED) {
        if (!ReplicatedHealth.describe(cache, details)) {
          status = Status.OUT_OF_SERVICE;
        }
      }
      caches.put(name, details);
    }
    builder.status(status).withDetail("caches", caches);
  }

  /** Reads the Redis backend's gauges: {@code cache.near.tracking} and {@code cache.near.expiry.only}. */
  static String coherence(Cache<?, ?> cache) {
    if (!(cache instanceof MetricsSource source)) {
      return "unknown";
    }
    double tracking = Double.NaN;
    double expiryOnly = Double.NaN;
    for (BackendMetric metric : source.backendMetrics()) {
      switch (metric.name()) {
        case "cache.near.tracking" -> tracking = metric.value().getAsDouble();
        case "cache.near.expiry.only" -> expiryOnly = metric.value().getAsDouble();
        default -> {}
      }
    }
    if (expiryOnly == 1) {
      return "expiry-only";
    }
    if (tracking == 1) {
      return "tracking";
    }
    return Double.isNaN(tracking) ? "unknown" : "unverified";
  }
}
