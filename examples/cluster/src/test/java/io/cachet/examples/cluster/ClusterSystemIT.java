package io.cachet.examples.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The launcher jar with three nodes and its own Kafka broker: writes through the balancer are
 * readable from every node, TTL expiry and DELETE reach every node, the balancer rotates and
 * names the node that answered. One cluster for the whole class.
 */
@Tag("kafka")
final class ClusterSystemIT {

  private static final Duration REPLICATION = Duration.ofSeconds(15);
  private static ClusterProcess cluster;
  private static List<String> nodes;

  @BeforeAll
  static void startCluster() {
    cluster = ClusterProcess.start(3, "--write-timeout", "5");
    nodes = List.of(cluster.node(1), cluster.node(2), cluster.node(3));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void post_throughTheBalancer_isReadableFromEveryNode() {
    ClusterProcess.Response created = cluster.post(cluster.balancer(), "everywhere", "{\"n\":[1,2,3]}");
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.json().get("payload").get("value").toString()).isEqualTo("{\"n\":[1,2,3]}");
    String stamp = created.json().get("payload").get("last_updated_at").asText();
    assertThat(stamp).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
    // The node that acknowledged it has applied it (read-your-writes); the others follow.
    assertThat(cluster.get(nodeUrl(created.header("X-Cachet-Node")), "everywhere").status()).isEqualTo(200);
    for (String node : nodes) {
      await().atMost(REPLICATION).untilAsserted(() -> {
        ClusterProcess.Response read = cluster.get(node, "everywhere");
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.json().get("payload").get("key").asText()).isEqualTo("everywhere");
        assertThat(read.json().get("payload").get("value").toString()).isEqualTo("{\"n\":[1,2,3]}");
        assertThat(read.json().get("payload").get("last_updated_at").asText()).isEqualTo(stamp);
      });
    }
  }

  @Test
  void balancer_rotatesOverTheNodes_andNamesTheOneThatAnswered() {
    cluster.post(cluster.balancer(), "rotate", "1");
    Set<String> answeredBy = new HashSet<>();
    await().atMost(REPLICATION).untilAsserted(() -> {
      ClusterProcess.Response read = cluster.get(cluster.balancer(), "rotate");
      if (read.status() == 200) {
        answeredBy.add(read.header("X-Cachet-Node"));
      }
      assertThat(answeredBy).containsExactlyInAnyOrder("node-1", "node-2", "node-3");
    });
  }

  @Test
  void ttl_expiresOnEveryNode() {
    ClusterProcess.Response created = cluster.post(cluster.balancer(), "short-lived?ttl=2", "\"soon gone\"");
    assertThat(created.status()).isEqualTo(201);
    assertThat(cluster.get(nodeUrl(created.header("X-Cachet-Node")), "short-lived").status()).isEqualTo(200);
    for (String node : nodes) {
      await().atMost(REPLICATION).pollInterval(Duration.ofMillis(100))
          .until(() -> cluster.get(node, "short-lived").status() == 404);
    }
    assertThat(cluster.get(cluster.balancer(), "short-lived").json().get("error").asText()).isEqualTo("NotFound");
  }

  @Test
  void delete_propagatesToEveryNode() {
    assertThat(cluster.post(cluster.balancer(), "doomed", "[\"a\"]").status()).isEqualTo(201);
    for (String node : nodes) {
      await().atMost(REPLICATION).until(() -> cluster.get(node, "doomed").status() == 200);
    }
    ClusterProcess.Response deleted = cluster.delete(cluster.balancer(), "doomed");
    assertThat(deleted.status()).isEqualTo(200);
    assertThat(deleted.json().get("payload").get("key").asText()).isEqualTo("doomed");
    for (String node : nodes) {
      await().atMost(REPLICATION).until(() -> cluster.get(node, "doomed").status() == 404);
    }
    assertThat(cluster.delete(cluster.balancer(), "doomed").status()).isEqualTo(404);
  }

  @Test
  void overwrite_isSeenByEveryNode() {
    cluster.post(cluster.balancer(), "counter", "1");
    assertThat(cluster.post(cluster.balancer(), "counter", "2").status()).isEqualTo(201);
    for (String node : nodes) {
      await().atMost(REPLICATION)
          .until(() -> cluster.get(node, "counter").json().get("payload").get("value").asInt() == 2);
    }
  }

  /**
   * With the default limits, a value is stored or refused with 413, never answered 500 because
   * Kafka refused the record: the largest body accepted fits a record, and a value that grows
   * past it in compact form ({@code 1e1} becomes {@code 1E+1}) is refused before it is sent.
   */
  @Test
  void largeValues_areStoredOrRefused413_never500() {
    String fits = "\"" + "v".repeat(999_000) + "\"";
    assertThat(cluster.post(nodes.get(0), "large-fits", fits).status()).isEqualTo(201);
    assertThat(cluster.get(nodes.get(0), "large-fits").body()).contains(fits);

    String nearOneMib = "\"" + "v".repeat(1_048_498) + "\"";
    ClusterProcess.Response tooLarge = cluster.post(nodes.get(0), "large-body", nearOneMib);
    assertThat(tooLarge.status()).isEqualTo(413);
    assertThat(tooLarge.json().get("error").asText()).isEqualTo("PayloadTooLarge");

    String grows = "[" + "1e1,".repeat(247_000) + "1e1]"; // 988 kB sent, 1.2 MB in compact form
    ClusterProcess.Response grown = cluster.post(nodes.get(0), "large-grown", grows);
    assertThat(grown.status()).isEqualTo(413);
    assertThat(grown.json().get("error").asText()).isEqualTo("PayloadTooLarge");
    assertThat(cluster.get(nodes.get(0), "large-body").status()).isEqualTo(404);
    assertThat(cluster.get(nodes.get(0), "large-grown").status()).isEqualTo(404);
  }

  @Test
  void metrics_reportRequestsAndReplication() {
    cluster.get(nodes.get(0), "metrics-probe");
    String metrics = cluster.send("GET", nodes.get(0) + "/metrics", null, null).body();
    assertThat(metrics)
        .contains("cluster_requests_total{method=\"get\",route=\"api_cache\",status=\"404\"}")
        .contains("cluster_node_ready 1.0")
        .contains("cluster_replay_progress 1.0")
        .contains("cluster_replication_lag_records")
        .contains("cluster_replication_lag_seconds");
    ClusterProcess.Response ready = cluster.send("GET", nodes.get(0) + "/health/ready", null, null);
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.json().get("status").asText()).isEqualTo("READY");
    assertThat(cluster.send("GET", nodes.get(0) + "/health/live", null, null).status()).isEqualTo(200);
  }

  @Test
  void console_statusCommand_printsTheNodes() {
    cluster.console("status");
    await().atMost(Duration.ofSeconds(10)).until(() -> cluster.log().contains("{\"nodes\":[{\"index\":1"));
  }

  private static String nodeUrl(String id) {
    return nodes.get(Integer.parseInt(id.substring("node-".length())) - 1);
  }
}
