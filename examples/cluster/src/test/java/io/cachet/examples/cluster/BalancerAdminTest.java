package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.cachet.examples.support.RawHttp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The balancer's own {@code /admin} answers, over a {@link ClusterControl} stub, without nodes. */
final class BalancerAdminTest {

  private Balancer balancer;

  @AfterEach
  void stop() {
    if (balancer != null) {
      balancer.close();
    }
  }

  /** A status query that fails (the broker exited between two looks at it) is answered, not dropped. */
  @Test
  void failingStatusQuery_isAnswered500Json() {
    balancer = Balancer.start("127.0.0.1", 0, List.of(), new FailingControl(), 1024, Duration.ofSeconds(1), 1,
        ServerLimits.defaults());
    for (String path : List.of("/admin/nodes", "/admin/kafka")) {
      RawHttp.Response response = RawHttp.get(balancer.port(), path);
      assertThat(response.status()).as(path).isEqualTo(500);
      assertThat(response.body()).contains("\"error\":\"AdminQueryFailed\"").contains("Kafka is not running");
    }
  }

  /** Status queries that throw, as {@code KafkaProcess.pid()} does once the broker has exited. */
  private static final class FailingControl extends NoClusterControl {
    @Override
    public String nodesJson() {
      throw new IllegalStateException("Kafka is not running");
    }

    @Override
    public String kafkaJson() {
      return nodesJson();
    }
  }
}
