package io.cachet.examples.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The launcher's validated settings; built like {@link NodeConfig}, each setter rejecting an
 * invalid value with a message naming the option and its environment variable.
 *
 * @param nodes how many nodes to start
 * @param host the address the balancer and the nodes bind
 * @param port the balancer's port; 0 picks a free one
 * @param nodeBasePort node {@code i} listens on {@code nodeBasePort + i - 1}; 0: free ports
 * @param kafka an existing Kafka to use; empty: start a broker in its own JVM
 * @param node the settings passed to every node (cache, capacity, TTL, limits)
 * @param logDirectory where the node logs go; empty: a new temporary directory
 * @param nodeJvmOptions the nodes' JVM options
 * @param requestTimeout how long the balancer waits for a node's answer
 * @param threads the balancer's event-loop threads
 */
record LauncherConfig(
    int nodes,
    String host,
    int port,
    int nodeBasePort,
    Optional<String> kafka,
    NodeConfig node,
    Optional<Path> logDirectory,
    List<String> nodeJvmOptions,
    Duration requestTimeout,
    int threads) {

  static final String DEFAULT_NODES = "3";
  static final String DEFAULT_PORT = "8080";
  static final String DEFAULT_NODE_BASE_PORT = "8081";
  static final String DEFAULT_NODE_JVM_OPTIONS = "-Xms64m -Xmx256m -XX:+UseSerialGC";

  static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link LauncherConfig}; each setter validates its value. */
  static final class Builder {
    private int nodes = Integer.parseInt(DEFAULT_NODES);
    private String host = NodeConfig.DEFAULT_HOST;
    private int port = Integer.parseInt(DEFAULT_PORT);
    private int nodeBasePort = Integer.parseInt(DEFAULT_NODE_BASE_PORT);
    private @Nullable String kafka;
    private final NodeConfig.Builder node = NodeConfig.builder();
    private @Nullable Path logDirectory;
    private List<String> nodeJvmOptions = split(DEFAULT_NODE_JVM_OPTIONS);
    private @Nullable Duration requestTimeout;
    private int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

    private Builder() {}

    Builder nodes(@Nullable String value) {
      nodes = (int) Options.number("--nodes", "NODES", value, 1, 16);
      return this;
    }

    Builder host(@Nullable String value) {
      host = Options.host("--host", "CLUSTER_HOST", value);
      node.host(host);
      return this;
    }

    Builder port(@Nullable String value) {
      port = Options.port("--port", "BALANCER_PORT", value, true);
      return this;
    }

    Builder nodeBasePort(@Nullable String value) {
      nodeBasePort = Options.port("--node-base-port", "NODE_BASE_PORT", value, true);
      return this;
    }

    /** Null or blank: start a broker. */
    Builder kafka(@Nullable String value) {
      kafka = value == null || value.isBlank() ? null : Options.bootstrapServers("--kafka", "KAFKA_BOOTSTRAP_SERVERS", value);
      return this;
    }

    /** The node settings the nodes get; their Kafka, id and port are filled in per node. */
    NodeConfig.Builder node() {
      return node;
    }

    Builder logDirectory(@Nullable String value) {
      logDirectory = value == null || value.isBlank() ? null : Path.of(value.trim());
      return this;
    }

    Builder nodeJvmOptions(@Nullable String value) {
      nodeJvmOptions = value == null ? List.of() : split(value);
      return this;
    }

    Builder requestTimeout(@Nullable String value) {
      requestTimeout = value == null || value.isBlank()
          ? null
          : Options.seconds("--request-timeout", "REQUEST_TIMEOUT", value, 1, 600);
      return this;
    }

    Builder threads(@Nullable String value) {
      threads = (int) Options.number("--threads", "THREADS", value, 1, 256);
      return this;
    }

    LauncherConfig build() {
      if (nodeBasePort != 0 && nodeBasePort + nodes - 1 > 65_535) {
        throw new IllegalArgumentException("--node-base-port (NODE_BASE_PORT) + --nodes must stay below 65536, was "
            + nodeBasePort + " + " + nodes);
      }
      if (port != 0 && nodeBasePort != 0 && port >= nodeBasePort && port < nodeBasePort + nodes) {
        throw new IllegalArgumentException("--port (BALANCER_PORT) " + port + " collides with the node ports "
            + nodeBasePort + ".." + (nodeBasePort + nodes - 1) + " (--node-base-port / NODE_BASE_PORT)");
      }
      NodeConfig nodeConfig = node.port("0").build();
      Duration timeout = requestTimeout != null ? requestTimeout : nodeConfig.writeTimeout().plusSeconds(5);
      return new LauncherConfig(nodes, host, port, nodeBasePort, Optional.ofNullable(kafka), nodeConfig,
          Optional.ofNullable(logDirectory), nodeJvmOptions, timeout, threads);
    }

    private static List<String> split(String options) {
      return Arrays.stream(options.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }
  }
}
