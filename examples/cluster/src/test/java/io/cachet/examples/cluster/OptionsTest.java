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
    assertThat(config.maxBodyBytes()).isEqualTo(1024 * 1024);
    assertThat(config.maxKeyLength()).isEqualTo(256);
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
