package io.cachet.examples.cluster;

import picocli.CommandLine.Option;

/**
 * The command-line options of {@link ServerLimits}, shared by the node and the launcher (which
 * applies them to the balancer and passes them to every node). Each also reads an environment
 * variable; the command line wins.
 */
final class ServerLimitOptions {

  @Option(names = "--max-connections", paramLabel = "N",
      defaultValue = "${env:MAX_CONNECTIONS:-" + ServerLimits.DEFAULT_MAX_CONNECTIONS + "}",
      description = "Most client connections open at once; one more is answered 503 and closed [env MAX_CONNECTIONS]. "
          + "Default: ${DEFAULT-VALUE}.")
  String maxConnections = ServerLimits.DEFAULT_MAX_CONNECTIONS;

  @Option(names = "--idle-timeout", paramLabel = "SECONDS",
      defaultValue = "${env:IDLE_TIMEOUT:-" + ServerLimits.DEFAULT_IDLE_TIMEOUT + "}",
      description = "Close a connection with no request in progress and no traffic for this long; 0 = never "
          + "[env IDLE_TIMEOUT]. Default: ${DEFAULT-VALUE}.")
  String idleTimeout = ServerLimits.DEFAULT_IDLE_TIMEOUT;

  @Option(names = "--request-read-timeout", paramLabel = "SECONDS",
      defaultValue = "${env:REQUEST_READ_TIMEOUT:-" + ServerLimits.DEFAULT_REQUEST_READ_TIMEOUT + "}",
      description = "A request must arrive whole (headers and body) within this once it started, else 408 and the "
          + "connection closes [env REQUEST_READ_TIMEOUT]. Default: ${DEFAULT-VALUE}.")
  String requestReadTimeout = ServerLimits.DEFAULT_REQUEST_READ_TIMEOUT;

  @Option(names = "--max-pending-requests", paramLabel = "N",
      defaultValue = "${env:MAX_PENDING_REQUESTS:-" + ServerLimits.DEFAULT_MAX_PENDING_REQUESTS + "}",
      description = "Requests one connection may have queued behind the one in flight; at this many it is not read, "
          + "nor are requests already read decoded, until half are answered [env MAX_PENDING_REQUESTS]. "
          + "Default: ${DEFAULT-VALUE}.")
  String maxPendingRequests = ServerLimits.DEFAULT_MAX_PENDING_REQUESTS;

  @Option(names = "--max-queued-response-bytes", paramLabel = "BYTES",
      defaultValue = "${env:MAX_QUEUED_RESPONSE_BYTES:-" + ServerLimits.DEFAULT_MAX_QUEUED_RESPONSE_BYTES + "}",
      description = "Response bytes queued for one connection that does not read them; at this many no further "
          + "request of it is answered until it has read half [env MAX_QUEUED_RESPONSE_BYTES]. Default: ${DEFAULT-VALUE}.")
  String maxQueuedResponseBytes = ServerLimits.DEFAULT_MAX_QUEUED_RESPONSE_BYTES;

  /** Validates the values into {@code node}. */
  void applyTo(NodeConfig.Builder node) {
    node.maxConnections(maxConnections)
        .idleTimeout(idleTimeout)
        .requestReadTimeout(requestReadTimeout)
        .maxPendingRequests(maxPendingRequests)
        .maxQueuedResponseBytes(maxQueuedResponseBytes);
  }
}
