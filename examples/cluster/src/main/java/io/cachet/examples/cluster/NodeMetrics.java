package io.cachet.examples.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A node's meters, exposed at {@code GET /metrics} in the Prometheus text format:
 * {@code cluster_requests_total{route,method,status}}, {@code cluster_request_duration_seconds{route}},
 * and the replica gauges {@code cluster_node_ready}, {@code cluster_replay_progress},
 * {@code cluster_replay_records}, {@code cluster_replay_target_records},
 * {@code cluster_replication_lag_records}, {@code cluster_replication_lag_seconds} and
 * {@code cluster_cache_entries}; and the connection gauges {@code cluster_connections_open} and
 * {@code netty_direct_memory_used_bytes} (direct memory Netty's pooled allocator holds in its
 * arenas, where request and response bytes live). Thread-safe.
 */
final class NodeMetrics {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();

  /** Registers the replica gauges, which read {@code state} at every scrape. */
  NodeMetrics(Supplier<ReplicaState> state) {
    Gauge.builder("cluster.node.ready", () -> state.get().ready() ? 1 : 0)
        .description("1 once the replica has replayed the topic and serves the API, else 0")
        .register(registry);
    Gauge.builder("cluster.replay.progress", () -> state.get().progress())
        .description("Start-up replay progress, from 0 to 1")
        .register(registry);
    Gauge.builder("cluster.replay.records", () -> state.get().replayedRecords())
        .description("Records applied by the replica")
        .register(registry);
    Gauge.builder("cluster.replay.target.records", () -> state.get().replayTarget())
        .description("Records to apply before the replica is ready")
        .register(registry);
    Gauge.builder("cluster.replication.lag.records", () -> state.get().lagRecords())
        .description("Records in the topic not yet applied here")
        .register(registry);
    Gauge.builder("cluster.replication.lag", () -> state.get().lagMillis() / 1000.0)
        .description("Age of the newest applied record when it was applied")
        .baseUnit("seconds")
        .register(registry);
    Gauge.builder("cluster.cache.entries", () -> state.get().entries())
        .description("Entries held by the replica")
        .register(registry);
  }

  /** Registers the connection gauges. */
  void bindConnections(java.util.function.IntSupplier open) {
    Gauge.builder("cluster.connections.open", open::getAsInt)
        .description("Client connections open (admitted under --max-connections)")
        .register(registry);
    Gauge.builder("netty.direct.memory.used", NodeMetrics::directMemory)
        .description("Direct memory held by Netty's allocator (pooled: its arenas' chunks), where requests and responses are buffered")
        .baseUnit("bytes")
        .register(registry);
  }

  private static double directMemory() {
    return io.netty.buffer.ByteBufAllocator.DEFAULT instanceof io.netty.buffer.ByteBufAllocatorMetricProvider provider
        ? provider.metric().usedDirectMemory()
        : Double.NaN;
  }

  /** Returns the registry, so the cache's own meters can be bound to it. */
  PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Counts one answered request and records its duration. */
  void record(String route, String method, int status, long nanos) {
    String key = route + ' ' + method + ' ' + status;
    counters.computeIfAbsent(key, k -> Counter.builder("cluster.requests")
            .description("HTTP requests answered, by route, method and status")
            .tag("route", route)
            .tag("method", method)
            .tag("status", Integer.toString(status))
            .register(registry))
        .increment();
    timers.computeIfAbsent(route, r -> Timer.builder("cluster.request.duration")
            .description("Time from a complete request to its response being queued")
            .tag("route", route)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofNanos(50_000))
            .maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Returns every meter in the Prometheus text format. */
  String scrape() {
    return registry.scrape();
  }
}
