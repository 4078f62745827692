package io.cachet.spi;

import static java.util.Objects.requireNonNull;

import java.util.function.DoubleSupplier;

/**
 * A measurement specific to one backend, such as near-cache invalidations or replication lag.
 *
 * @param name the meter name, dot-separated, such as {@code cache.near.invalidations}
 * @param description what it measures
 * @param kind whether it only grows or moves both ways
 * @param value reads the current value; may be called from any thread
 */
public record BackendMetric(String name, String description, Kind kind, DoubleSupplier value) {

  /** Whether a metric is a monotonic counter or a gauge. */
  public enum Kind {
    /** A count that only grows. */
    COUNTER,
    /** A value that may go up and down. */
    GAUGE
  }

  /** Validates the components. */
  public BackendMetric {
    requireNonNull(name, "name");
    requireNonNull(description, "description");
    requireNonNull(kind, "kind");
    requireNonNull(value, "value");
  }
}
