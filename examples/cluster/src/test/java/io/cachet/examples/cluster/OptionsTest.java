package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Option parsing and validation of the node and the launcher (their environment fallbacks are picocli's). */
final class OptionsTest {

  @Test
  void node_options_areParsed() {
    NodeConfig config = ClusterNode.parse("--kafka", "10.0.0.1:9092,10.0.0.2:9092", "--node-id", "n-1", "--port", "0",
        "--cache", "orders", "--capacity", "1_000", "--default-ttl", "60", "--max-body", "2048",
        "--max-key-length", "64", "--write-timeout", "3");
    assertThat(config.kafka()).isEqualTo("10.0.0.1:9092,10.0.0.2:9092");
    assertThat(config.nodeId()).isEqualTo("n-1");
    assertThat(config.port()).isZero();
    assertThat(config.cacheName()).isEqualTo("orders");
    assertThat(config.capacity()).isEqualTo(1000);
    assertThat(config.defaultTtl()).contains(Duration.ofSeconds(60));
    assertThat(config.maxBodyBytes()).isEqualTo(2048);
    assertThat(config.maxKeyLength()).isEqualTo(64);
    assertThat(config.writeTimeout()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void node_defaults_matchTheDocumentation() {
    NodeConfig config = NodeConfig.builder().build();
    assertThat(config.kafka()).isEqualTo("127.0.0.1:9092");
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.nodeId()).isEqualTo("node-8080");
    assertThat(config.cacheName()).isEqualTo("cluster");
    assertThat(config.defaultTtl()).isEmpty();
    assertThat(config.maxBodyBytes()).isEqualTo(1_000_000);
    assertThat(config.maxKeyLength()).isEqualTo(256);
    assertThat(config.limits()).isEqualTo(new ServerLimits(1000, Duration.ofSeconds(60), Duration.ofSeconds(10), 16, 65536));
  }

  /** A body larger than Kafka's default record limit could never be stored: refused at start-up. */
  @Test
  void maxBody_overKafkasRecordLimit_isRejected() {
    assertThat(NodeConfig.builder().maxBodyBytes(Integer.toString(NodeConfig.MAX_ENTRY_BYTES)).build().maxBodyBytes())
        .isEqualTo(NodeConfig.MAX_ENTRY_BYTES);
    assertThatThrownBy(() -> ClusterNode.parse("--max-body", "1048576"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--max-body (MAX_BODY_BYTES) must be at most 1040384: a value is written to Kafka as one record, "
            + "and Kafka takes records of up to 1 MiB by default (max.request.size, message.max.bytes), was '1048576'");
  }

  @Test
  void serverLimits_areParsed_forTheNode_andTheLauncherPassesThemOn() {
    String[] args = {"--max-connections", "50", "--idle-timeout", "0", "--request-read-timeout", "3",
        "--max-pending-requests", "4", "--max-queued-response-bytes", "4096"};
    ServerLimits expected = new ServerLimits(50, Duration.ZERO, Duration.ofSeconds(3), 4, 4096);
    assertThat(ClusterNode.parse(args).limits()).isEqualTo(expected);
    assertThat(ClusterLauncher.parse(args).node().limits()).isEqualTo(expected);
    assertThat(expected.arguments()).containsExactly(args);
  }

  @Test
  void serverLimits_invalidValues_nameTheOptionAndVariable() {
    assertThatThrownBy(() -> ClusterNode.parse("--max-connections", "0"))
        .hasMessageStartingWith("--max-connections (MAX_CONNECTIONS) must be a whole number from 1");
    assertThatThrownBy(() -> ClusterNode.parse("--idle-timeout", "-1"))
        .hasMessageStartingWith("--idle-timeout (IDLE_TIMEOUT) must be a whole number from 0");
    assertThatThrownBy(() -> ClusterNode.parse("--request-read-timeout", "0"))
        .hasMessageStartingWith("--request-read-timeout (REQUEST_READ_TIMEOUT) must be a whole number from 1");
    assertThatThrownBy(() -> ClusterLauncher.parse("--max-pending-requests", "x"))
        .hasMessageStartingWith("--max-pending-requests (MAX_PENDING_REQUESTS) must be a whole number from 1");
    assertThatThrownBy(() -> ClusterLauncher.parse("--max-queued-response-bytes", "10"))
        .hasMessageStartingWith("--max-queued-response-bytes (MAX_QUEUED_RESPONSE_BYTES) must be a whole number from 1024");
  }

  @Test
  void node_invalidValues_nameTheOptionAndVariable() {
    assertThatThrownBy(() -> ClusterNode.parse("--kafka", "nohost"))
        .hasMessage("--kafka (KAFKA_BOOTSTRAP_SERVERS) must be host:port[,host:port...] (e.g. 127.0.0.1:9092), was 'nohost'");
    assertThatThrownBy(() -> ClusterNode.parse("--port", "70000"))
        .hasMessage("--port (NODE_PORT) must be a whole number from 0 to 65535, was '70000'");
    assertThatThrownBy(() -> ClusterNode.parse("--default-ttl", "0"))
        .hasMessageStartingWith("--default-ttl (DEFAULT_TTL) must be a whole number from 1");
    assertThatThrownBy(() -> ClusterNode.parse("--cache", "a/b"))
        .hasMessageStartingWith("--cache (CACHE_NAME) must be 1-200 of [a-zA-Z0-9._-]");
    assertThatThrownBy(() -> ClusterNode.parse("--node-id", "a b"))
        .hasMessageStartingWith("--node-id (NODE_ID) must be 1-64");
  }

  @Test
  void launcher_options_areParsed() {
    LauncherConfig config = ClusterLauncher.parse("--nodes", "5", "--port", "0", "--node-base-port", "0",
        "--kafka", "127.0.0.1:19092", "--default-ttl", "30", "--write-timeout", "4", "--node-jvm-options", "-Xmx64m  -Dx=1");
    assertThat(config.nodes()).isEqualTo(5);
    assertThat(config.kafka()).contains("127.0.0.1:19092");
    assertThat(config.node().defaultTtl()).contains(Duration.ofSeconds(30));
    assertThat(config.requestTimeout()).isEqualTo(Duration.ofSeconds(9));
    assertThat(config.nodeJvmOptions()).isEqualTo(List.of("-Xmx64m", "-Dx=1"));
  }

  @Test
  void launcher_balancerPortInsideTheNodePorts_isRejected() {
    assertThatThrownBy(() -> ClusterLauncher.parse("--port", "8082"))
        .hasMessageStartingWith("--port (BALANCER_PORT) 8082 collides with the node ports 8081..8083");
  }

  @Test
  void launcher_consoleCommands_areValidated() {
    assertThat(ClusterLauncher.command(null_control(), new String[] {"kill"})).startsWith("usage: kill N");
    assertThat(ClusterLauncher.command(null_control(), new String[] {"dance"})).startsWith("unknown command 'dance'");
    assertThat(ClusterLauncher.command(null_control(), new String[] {"quit"})).isNull();
  }

  private static ClusterControl null_control() {
    return new ClusterControl() {
      @Override
      public String nodesJson() {
        return "{}";
      }

      @Override
      public java.util.concurrent.CompletionStage<ApiResponse> killNode(int n) {
        throw new UnsupportedOperationException();
      }

      @Override
      public java.util.concurrent.CompletionStage<ApiResponse> stopNode(int n) {
        throw new UnsupportedOperationException();
      }

      @Override
      public java.util.concurrent.CompletionStage<ApiResponse> startNode(int n) {
        throw new UnsupportedOperationException();
      }

      @Override
      public String kafkaJson() {
        return "{}";
      }

      @Override
      public java.util.concurrent.CompletionStage<ApiResponse> killKafka() {
        throw new UnsupportedOperationException();
      }

      @Override
      public java.util.concurrent.CompletionStage<ApiResponse> startKafka() {
        throw new UnsupportedOperationException();
      }
    };
  }
}
