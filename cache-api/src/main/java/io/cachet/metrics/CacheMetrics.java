package io.cachet.metrics;

import static java.util.Objects.requireNonNull;

import io.cachet.Cache;
import io.cachet.CacheStats;
import io.cachet.spi.BackendMetric;
import io.cachet.spi.MetricsSource;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.cache.CacheMeterBinder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds a {@link Cache}'s statistics to a Micrometer registry under the standard cache meter names
 * ({@code cache.gets{result=hit|miss}}, {@code cache.puts}, {@code cache.evictions},
 * {@code cache.size}), plus load counts and time and the backend's own metrics.
 *
 * <pre>{@code
 * Cache<String, String> cache = CacheMetrics.monitor(registry, manager.create(config), Tags.of("app", "shop"));
 * }</pre>
 *
 * <p>The binder holds the cache weakly, like every {@link CacheMeterBinder}. A measurement that
 * throws (for example on a closed cache) is logged at WARN once per meter and reported as no
 * value: 0 for the standard meters ({@code cache.size}, {@code cache.gets}, {@code cache.puts},
 * {@code cache.evictions}), which Micrometer's base binder reports so, and {@code NaN} for the load
 * and backend meters. It never breaks a scrape.
 *
 * <p>{@link #monitor} replaces the meters of an earlier binding with the same cache name and tags (Micrometer
 * would otherwise hand back the existing meters, still reading the old cache): a cache closed and
 * created again under its name, as JCache's {@code destroyCache} and {@code createCache} do, is
 * measured again. (So of two live caches of one name in two managers, monitored with the same
 * tags, the last one monitored is measured: tell them apart with a tag.) The meters of a closed cache whose name does not come back stay registered,
 * reporting no value, until the application removes them from the registry.
 */
public final class CacheMetrics extends CacheMeterBinder<Cache<?, ?>> {

  private static final Logger log = LoggerFactory.getLogger(CacheMetrics.class);
  /** The meters every binding registers; the backend's own come on top. */
  private static final List<String> METER_NAMES =
      List.of("cache.gets", "cache.puts", "cache.evictions", "cache.size", "cache.load", "cache.load.duration");
  /**
   * The meters each binding made through {@link #monitor} registered, per registry (held weakly) and
   * by cache name and tags, so that binding that name and those tags again replaces exactly them.
   * Guarded by itself.
   */
  private static final Map<MeterRegistry, Map<Tags, List<Meter>>> BINDINGS = new WeakHashMap<>();

  private final String cacheName;
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  /** Creates a binder for {@code cache}, tagging every meter with the cache's name and {@code tags}. */
  public CacheMetrics(Cache<?, ?> cache, Iterable<Tag> tags) {
    super(requireNonNull(cache, "cache"), cache.name(), requireNonNull(tags, "tags"));
    this.cacheName = cache.name();
  }

  /**
   * Binds {@code cache}'s metrics to {@code registry}, replacing those of an earlier binding with
   * the same cache name and tags, and returns the cache.
   */
  public static <K, V, C extends Cache<K, V>> C monitor(MeterRegistry registry, C cache, Iterable<Tag> tags) {
    CacheMetrics metrics = new CacheMetrics(cache, tags);
    synchronized (BINDINGS) { // two bindings of one name at once would mix their meters
      Map<Tags, List<Meter>> bound = BINDINGS.computeIfAbsent(registry, r -> new HashMap<>());
      Tags key = Tags.of(metrics.getTagsWithCacheName());
      List<Meter> earlier = bound.remove(key);
      if (earlier != null) {
        earlier.forEach(registry::remove);
      }
      Set<Meter> before = new HashSet<>(registry.getMeters());
      metrics.bindTo(registry);
      bound.put(key, metrics.registeredSince(registry, before, cache));
    }
    return cache;
  }

  /** {@link #monitor(MeterRegistry, Cache, Iterable)} with tags as key-value pairs. */
  public static <K, V, C extends Cache<K, V>> C monitor(MeterRegistry registry, C cache, String... tags) {
    return monitor(registry, cache, Tags.of(tags));
  }

  /**
   * The meters of this binding that {@link #bindTo} added to {@code registry}, which held
   * {@code before}: of this binder's names and carrying its tags (a registry's common tags come on
   * top), so that meters another thread registered meanwhile are not taken for them.
   */
  private List<Meter> registeredSince(MeterRegistry registry, Set<Meter> before, Cache<?, ?> cache) {
    Set<String> names = new HashSet<>(METER_NAMES);
    if (cache instanceof MetricsSource source) {
      source.backendMetrics().forEach(metric -> names.add(metric.name()));
    }
    List<Meter> added = new ArrayList<>();
    for (Meter meter : registry.getMeters()) {
      Meter.Id id = meter.getId();
      if (!before.contains(meter) && names.contains(id.getName()) && hasAll(id, getTagsWithCacheName())) {
        added.add(meter);
      }
    }
    return added;
  }

  private static boolean hasAll(Meter.Id id, Iterable<Tag> tags) {
    for (Tag tag : tags) {
      if (!tag.getValue().equals(id.getTag(tag.getKey()))) {
        return false;
      }
    }
    return true;
  }

  @Override
  protected @Nullable Long size() {
    Cache<?, ?> cache = getCache();
    return cache == null ? null : safely("cache.size", cache, Cache::estimatedSize);
  }

  @Override
  protected long hitCount() {
    Long value = stat("cache.gets.hit", CacheStats::hitCount);
    return value == null ? 0 : value;
  }

  @Override
  protected @Nullable Long missCount() {
    return stat("cache.gets.miss", CacheStats::missCount);
  }

  @Override
  protected @Nullable Long evictionCount() {
    return stat("cache.evictions", CacheStats::evictionCount);
  }

  @Override
  protected long putCount() {
    Long value = stat("cache.puts", CacheStats::putCount);
    return value == null ? 0 : value;
  }

  @Override
  protected void bindImplementationSpecificMetrics(MeterRegistry registry) {
    Cache<?, ?> cache = getCache();
    if (cache == null) {
      return;
    }
    Iterable<Tag> tags = getTagsWithCacheName();
    FunctionCounter.builder("cache.load", cache, statFunction("cache.load.success", CacheStats::loadSuccessCount))
        .tags(tags)
        .tag("result", "success")
        .description("The number of loads that produced a value")
        .register(registry);
    FunctionCounter.builder("cache.load", cache, statFunction("cache.load.failure", CacheStats::loadFailureCount))
        .tags(tags)
        .tag("result", "failure")
        .description("The number of loads that failed or produced nothing")
        .register(registry);
    TimeGauge.builder(
            "cache.load.duration",
            cache,
            TimeUnit.NANOSECONDS,
            statFunction("cache.load.duration", CacheStats::totalLoadTimeNanos))
        .tags(tags)
        .description("The time spent loading values")
        .register(registry);

    if (cache instanceof MetricsSource source) {
      List<BackendMetric> metrics = source.backendMetrics();
      for (int i = 0; i < metrics.size(); i++) {
        BackendMetric metric = metrics.get(i);
        int index = i;
        String name = metric.name();
        // Look the metric up through the weakly held cache on each read, so the registry never
        // holds the cache strongly (the metric's supplier does: capture only its name).
        ToDoubleFunction<Cache<?, ?>> read =
            c -> {
              Double value =
                  safely(name, c, x -> ((MetricsSource) x).backendMetrics().get(index).value().getAsDouble());
              return value == null ? Double.NaN : value;
            };
        if (metric.kind() == BackendMetric.Kind.COUNTER) {
          FunctionCounter.builder(metric.name(), cache, read)
              .tags(tags)
              .description(metric.description())
              .register(registry);
        } else {
          Gauge.builder(metric.name(), cache, read)
              .tags(tags)
              .description(metric.description())
              .register(registry);
        }
      }
    }
  }

  private @Nullable Long stat(String meter, java.util.function.ToLongFunction<CacheStats> field) {
    Cache<?, ?> cache = getCache();
    return cache == null ? null : safely(meter, cache, c -> field.applyAsLong(c.stats()));
  }

  private ToDoubleFunction<Cache<?, ?>> statFunction(
      String meter, java.util.function.ToLongFunction<CacheStats> field) {
    return c -> {
      Long value = safely(meter, c, x -> field.applyAsLong(x.stats()));
      return value == null ? Double.NaN : value;
    };
  }

  private <T> @Nullable T safely(String meter, Cache<?, ?> cache, java.util.function.Function<Cache<?, ?>, T> read) {
    try {
      return read.apply(cache);
    } catch (RuntimeException e) {
      if (warned.add(meter)) {
        log.warn("Reading meter {} of cache '{}' failed; reporting no value", meter, cacheName, e);
      }
      return null;
    }
  }
}
