package io.cachet.spi;

import java.util.List;

/** Implemented by caches that expose measurements beyond {@link io.cachet.CacheStats}. */
public interface MetricsSource {

  /** Returns the backend's extra metrics; the list is fixed once the cache is created. */
  List<BackendMetric> backendMetrics();
}
