package io.cachet.examples.cluster;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A node's validated settings. Built by {@link #builder()}, whose setters take the text form of
 * each option (command line or environment) and reject an invalid value with an
 * {@link IllegalArgumentException} naming the option and its environment variable.
 *
 * @param kafka the Kafka bootstrap servers
 * @param nodeId this node's id, written into every record it produces and sent as
 *     {@code X-Cachet-Node}
 * @param host the address the HTTP server binds
 * @param port the HTTP port; 0 picks a free one
 * @param cacheName the cache's name; its topic is {@code cachet-<name>}
 * @param capacity the most keys the cache holds; a write of a new key beyond it gets 507
 * @param defaultTtl how long an entry written without {@code ?ttl=} lives; empty: forever
 * @param maxBodyBytes the largest request body accepted; larger gets 413. At most
 *     {@link #MAX_ENTRY_BYTES}: a value is written to Kafka as one record
 * @param maxKeyLength the longest key accepted, in characters (code points)
 * @param writeTimeout how long a write may take before it is answered 503
 * @param threads the number of event-loop threads serving clients
 * @param limits the bounds on what clients can make the HTTP server hold
 */
record NodeConfig(
    String kafka,
    String nodeId,
    String host,
    int port,
    String cacheName,
    long capacity,
    Optional<Duration> defaultTtl,
    int maxBodyBytes,
    int maxKeyLength,
    Duration writeTimeout,
    int threads,
    ServerLimits limits) {

  static final String DEFAULT_KAFKA = "127.0.0.1:9092";
  static final String DEFAULT_HOST = "127.0.0.1";
  static final String DEFAULT_PORT = "8080";
  static final String DEFAULT_CACHE = "cluster";
  static final String DEFAULT_CAPACITY = "100000";
  static final String DEFAULT_MAX_BODY = "1000000";
  /**
   * The largest entry, key and stored value in UTF-8, a write sends to Kafka as one record: 1 MiB,
   * the producer's default {@code max.request.size} (the broker's default {@code message.max.bytes}
   * is 12 bytes more), less 8 KiB for the record's framing and headers. A larger one would be
   * refused by Kafka; the node answers it 413 instead of sending it.
   */
  static final int MAX_ENTRY_BYTES = 1024 * 1024 - 8 * 1024;
  static final String DEFAULT_MAX_KEY_LENGTH = "256";
  static final String DEFAULT_WRITE_TIMEOUT = "10";
  /** The longest TTL accepted, in seconds (about ten years); Kafka records carry the deadline in ms. */
  static final long MAX_TTL_SECONDS = 315_360_000L;

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link NodeConfig} from text values; each setter validates its value. */
  static final class Builder {
    private String kafka = DEFAULT_KAFKA;
    private @Nullable String nodeId;
    private String host = DEFAULT_HOST;
    private int port = Integer.parseInt(DEFAULT_PORT);
    private String cacheName = DEFAULT_CACHE;
    private long capacity = Long.parseLong(DEFAULT_CAPACITY);
    private @Nullable Duration defaultTtl;
    private int maxBodyBytes = Integer.parseInt(DEFAULT_MAX_BODY);
    private int maxKeyLength = Integer.parseInt(DEFAULT_MAX_KEY_LENGTH);
    private Duration writeTimeout = Duration.ofSeconds(Long.parseLong(DEFAULT_WRITE_TIMEOUT));
    private int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private ServerLimits limits = ServerLimits.defaults();

    private Builder() {}

    Builder maxConnections(@Nullable String value) {
      limits = limits.withMaxConnections(value);
      return this;
    }

    Builder idleTimeout(@Nullable String value) {
      limits = limits.withIdleTimeout(value);
      return this;
    }

    Builder requestReadTimeout(@Nullable String value) {
      limits = limits.withRequestReadTimeout(value);
      return this;
    }

    Builder maxPendingRequests(@Nullable String value) {
      limits = limits.withMaxPendingRequests(value);
      return this;
    }

    Builder maxQueuedResponseBytes(@Nullable String value) {
      limits = limits.withMaxQueuedResponseBytes(value);
      return this;
    }

    Builder kafka(@Nullable String value) {
      kafka = Options.bootstrapServers("--kafka", "KAFKA_BOOTSTRAP_SERVERS", value);
      return this;
    }

    /** Null or blank: {@code node-<port>} once the port is known, else a random id. */
    Builder nodeId(@Nullable String value) {
      nodeId = value == null || value.isBlank() ? null : Options.nodeId("--node-id", "NODE_ID", value);
      return this;
    }

    Builder host(@Nullable String value) {
      host = Options.host("--host", "NODE_HOST", value);
      return this;
    }

    Builder port(@Nullable String value) {
      port = Options.port("--port", "NODE_PORT", value, true);
      return this;
    }

    Builder cacheName(@Nullable String value) {
      cacheName = Options.cacheName("--cache", "CACHE_NAME", value);
      return this;
    }

    Builder capacity(@Nullable String value) {
      capacity = Options.number("--capacity", "CACHE_CAPACITY", value, 1, Integer.MAX_VALUE);
      return this;
    }

    /** Null or blank: entries live until deleted. */
    Builder defaultTtl(@Nullable String value) {
      defaultTtl = value == null || value.isBlank()
          ? null
          : Options.seconds("--default-ttl", "DEFAULT_TTL", value, 1, MAX_TTL_SECONDS);
      return this;
    }

    /** At most {@link #MAX_ENTRY_BYTES}: a larger body could never be written to Kafka. */
    Builder maxBodyBytes(@Nullable String value) {
      long bytes = Options.number("--max-body", "MAX_BODY_BYTES", value, 16, Integer.MAX_VALUE);
      if (bytes > MAX_ENTRY_BYTES) {
        throw Options.invalid("--max-body", "MAX_BODY_BYTES", "must be at most " + MAX_ENTRY_BYTES
            + ": a value is written to Kafka as one record, and Kafka takes records of up to 1 MiB by default "
            + "(max.request.size, message.max.bytes)", value);
      }
      maxBodyBytes = (int) bytes;
      return this;
    }

    Builder maxKeyLength(@Nullable String value) {
      maxKeyLength = (int) Options.number("--max-key-length", "MAX_KEY_LENGTH", value, 1, 4096);
      return this;
    }

    Builder writeTimeout(@Nullable String value) {
      writeTimeout = Options.seconds("--write-timeout", "WRITE_TIMEOUT", value, 1, 120);
      return this;
    }

    Builder threads(@Nullable String value) {
      threads = (int) Options.number("--threads", "THREADS", value, 1, 256);
      return this;
    }

    NodeConfig build() {
      String id = nodeId != null ? nodeId : port != 0 ? "node-" + port : null;
      if (id == null) {
        id = "node-" + UUID.randomUUID().toString().substring(0, 8);
      }
      return new NodeConfig(kafka, id, host, port, cacheName, capacity, Optional.ofNullable(defaultTtl),
          maxBodyBytes, maxKeyLength, writeTimeout, threads, limits);
    }
  }
}
