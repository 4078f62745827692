package io.cachet.examples.proxy;

import io.cachet.BackendUnavailableException;
import io.cachet.CacheTimeoutException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's meters, exposed at {@code GET /metrics} in the Prometheus text format:
 * {@code proxy_requests_total{protocol,status}}, the latency histogram
 * {@code proxy_request_duration_seconds{protocol}}, {@code proxy_clients_connected},
 * {@code proxy_clients_rejected_total}, {@code proxy_requests_active} and
 * {@code proxy_requests_queued}, next to the cache's own ({@code cache_gets_total{result}},
 * {@code cache_evictions_total}, {@code cache_near_invalidations_total}, ...) bound by
 * {@link io.cachet.metrics.CacheMetrics}.
 *
 * <p>Per-request counts and latencies live in {@link RequestStats} (striped per event loop, no
 * shared writes on the hot path); the counts are exported through Micrometer function counters,
 * the histogram is appended to the scrape. Thread-safe.
 */
final class ProxyMetrics {

  private static final Logger log = LoggerFactory.getLogger(ProxyMetrics.class);
  private static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  /**
   * How a failed cache read is reported to a client: Redis unavailable, the key holding another
   * type than a string (as Redis's {@code WRONGTYPE}), or an internal error.
   */
  record Failure(boolean unavailable, boolean wrongType, String message) {}

  /** Redis's own text for a read of a key that holds another type. */
  static final String WRONG_TYPE = "Operation against a key holding the wrong kind of value";

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final RequestStats stats = new RequestStats();
  private final Counter rejectedClients;
  private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);
  private final AtomicLong lastFailureWarn = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);

  ProxyMetrics() {
    for (RequestStats.Outcome outcome : RequestStats.Outcome.values()) {
      FunctionCounter.builder("proxy.requests", stats, s -> s.total(outcome))
          .description("Requests answered, by protocol and status")
          .tag("protocol", outcome.protocol.tag())
          .tag("status", outcome.status)
          .register(registry);
    }
    rejectedClients = Counter.builder("proxy.clients.rejected")
        .description("Connections refused because MAX_CLIENTS clients were connected")
        .register(registry);
  }

  /** Returns the registry the cache's metrics are bound to. */
  PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Returns the per-request counts and latencies. */
  RequestStats stats() {
    return stats;
  }

  /** Registers the gauges that read live state. */
  void bindGauges(Supplier<Number> connected, Parallelism parallelism) {
    Gauge.builder("proxy.clients.connected", connected)
        .description("Client connections open now, HTTP and RESP together")
        .register(registry);
    Gauge.builder("proxy.requests.active", parallelism, Parallelism::active)
        .description("Cache requests being processed now (at most PARALLELISM)")
        .register(registry);
    Gauge.builder("proxy.requests.queued", parallelism, Parallelism::queued)
        .description("Cache requests waiting for one of the PARALLELISM permits")
        .register(registry);
  }

  /** Counts a request's outcome (its latency is recorded by the handler). */
  void count(RequestStats.Outcome outcome) {
    stats.record(outcome);
  }

  /** Counts an HTTP request by status code. */
  void http(int status) {
    stats.record(RequestStats.Outcome.http(status));
  }

  /** Counts a refused connection. */
  void rejectedClient() {
    rejectedClients.increment();
  }

  /** Returns every meter in the Prometheus text format. */
  String scrape() {
    StringBuilder text = new StringBuilder(registry.scrape());
    stats.appendHistograms(text);
    return text.toString();
  }

  /**
   * Classifies a failed cache read. A key of another type is the client's business, not logged
   * above DEBUG; unavailability and other failures are logged at most every ten seconds each, so
   * neither an outage nor a client repeating a failing read floods the log.
   */
  Failure classify(Throwable error) {
    if (error instanceof BackendUnavailableException || error instanceof CacheTimeoutException) {
      if (due(lastWarn)) {
        log.warn("Redis unavailable, answering 503 / -ERR: {}", error.getMessage());
      }
      return new Failure(true, false, "Redis is unavailable: " + error.getMessage());
    }
    if (isWrongType(error)) {
      log.debug("A read of a key holding another type: {}", error.getMessage());
      return new Failure(false, true, WRONG_TYPE);
    }
    if (due(lastFailureWarn)) {
      log.warn("Cache read failed (further failures within 10 s are not logged)", error);
    }
    return new Failure(false, false, "internal error: " + error.getClass().getSimpleName());
  }

  /**
   * Whether {@code error} is Redis's {@code WRONGTYPE} reply (a key holding another type than a
   * string): an error in its causes whose message starts with it, as Redis's error replies do. Not
   * a message that merely names such a key ({@code "... for key 'WRONGTYPEx'"}), nor Redis being
   * out of reach.
   */
  static boolean isWrongType(Throwable error) {
    if (error instanceof BackendUnavailableException || error instanceof CacheTimeoutException) {
      return false;
    }
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().startsWith("WRONGTYPE")) {
        return true;
      }
    }
    return false;
  }

  private static boolean due(AtomicLong last) {
    long now = System.nanoTime();
    long then = last.get();
    return now - then >= WARN_INTERVAL_NANOS && last.compareAndSet(then, now);
  }

  /** Formats a duration as seconds for messages ("1.5"). */
  static String seconds(Duration duration) {
    return BigDecimal.valueOf(duration.toMillis()).movePointLeft(3).stripTrailingZeros().toPlainString();
  }
}
