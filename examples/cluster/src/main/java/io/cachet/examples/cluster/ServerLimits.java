package io.cachet.examples.cluster;

import java.time.Duration;

/**
 * The bounds an HTTP server of the example (a node, the balancer) keeps on what its clients can
 * make it hold, each a named option with a safe default (docs/operations.md lists them).
 *
 * @param maxConnections the most client connections open at once; one more gets 503
 *     {@code TooManyConnections} and is closed
 * @param idleTimeout a connection with no request in progress and no traffic for this long is
 *     closed; zero: never
 * @param requestReadTimeout a request must arrive whole (line, headers and body) within this
 *     once its first byte arrived, else 408 and the connection closes (a trickled body cannot pin
 *     {@code --max-body} bytes)
 * @param maxPendingRequests requests one connection may have queued behind the one in flight;
 *     at this many the server stops decoding and reading it until half are answered (requests
 *     already read wait undecoded)
 * @param maxQueuedResponseBytes response bytes queued for one connection that does not read
 *     them; at this many the server answers no further request on it until it has read half
 */
record ServerLimits(
    int maxConnections,
    Duration idleTimeout,
    Duration requestReadTimeout,
    int maxPendingRequests,
    int maxQueuedResponseBytes) {

  static final String DEFAULT_MAX_CONNECTIONS = "1000";
  static final String DEFAULT_IDLE_TIMEOUT = "60";
  static final String DEFAULT_REQUEST_READ_TIMEOUT = "10";
  static final String DEFAULT_MAX_PENDING_REQUESTS = "16";
  static final String DEFAULT_MAX_QUEUED_RESPONSE_BYTES = "65536";

  /** The defaults. */
  static ServerLimits defaults() {
    return new ServerLimits(Integer.parseInt(DEFAULT_MAX_CONNECTIONS),
        Duration.ofSeconds(Long.parseLong(DEFAULT_IDLE_TIMEOUT)),
        Duration.ofSeconds(Long.parseLong(DEFAULT_REQUEST_READ_TIMEOUT)),
        Integer.parseInt(DEFAULT_MAX_PENDING_REQUESTS), Integer.parseInt(DEFAULT_MAX_QUEUED_RESPONSE_BYTES));
  }

  ServerLimits withMaxConnections(String value) {
    return new ServerLimits((int) Options.number("--max-connections", "MAX_CONNECTIONS", value, 1, 1_000_000),
        idleTimeout, requestReadTimeout, maxPendingRequests, maxQueuedResponseBytes);
  }

  ServerLimits withIdleTimeout(String value) {
    return new ServerLimits(maxConnections, Options.seconds("--idle-timeout", "IDLE_TIMEOUT", value, 0, 86_400),
        requestReadTimeout, maxPendingRequests, maxQueuedResponseBytes);
  }

  ServerLimits withRequestReadTimeout(String value) {
    return new ServerLimits(maxConnections, idleTimeout,
        Options.seconds("--request-read-timeout", "REQUEST_READ_TIMEOUT", value, 1, 3_600), maxPendingRequests,
        maxQueuedResponseBytes);
  }

  ServerLimits withMaxPendingRequests(String value) {
    return new ServerLimits(maxConnections, idleTimeout, requestReadTimeout,
        (int) Options.number("--max-pending-requests", "MAX_PENDING_REQUESTS", value, 1, 1024), maxQueuedResponseBytes);
  }

  ServerLimits withMaxQueuedResponseBytes(String value) {
    return new ServerLimits(maxConnections, idleTimeout, requestReadTimeout, maxPendingRequests,
        (int) Options.number("--max-queued-response-bytes", "MAX_QUEUED_RESPONSE_BYTES", value, 1024,
            1024L * 1024 * 1024));
  }

  /** The command-line form, for passing the same limits on to a node process. */
  java.util.List<String> arguments() {
    return java.util.List.of("--max-connections", Integer.toString(maxConnections),
        "--idle-timeout", Long.toString(idleTimeout.toSeconds()),
        "--request-read-timeout", Long.toString(requestReadTimeout.toSeconds()),
        "--max-pending-requests", Integer.toString(maxPendingRequests),
        "--max-queued-response-bytes", Integer.toString(maxQueuedResponseBytes));
  }
}
